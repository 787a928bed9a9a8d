"""The QuickBooks connection in Slack: the "connected" and "disconnected" notices posted to a
channel, the disconnect question (a danger button with a confirm dialog), and the banner the problem
list shows while QuickBooks is not connected."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import Block, actions, actor_mention, button, escape, message, section
from bot.views.diagnosis import fix_button
from services.catalogue import DISCONNECT, connection_words


def connected_message(company: str, actor: str, switched: str | None = None) -> dict[str, Any]:
    """Posted after a connection: the company, and the administrator who connected it (a mention; a
    connection is only ever started by an administrator or ``qbsync connect``). ``switched`` says what
    switching companies did, when it did."""
    text = f"QuickBooks connected to {escape(company)} by {actor_mention(actor)}"
    said = f"🟢 {text}." + (f" {escape(switched)}" if switched else "")
    return message(text, [section(said, block_id="connected")])


def disconnected_message(realm_id: str | None, actor: str, revoked: bool) -> dict[str, Any]:
    company = f"company {escape(realm_id)}" if realm_id else "QuickBooks"
    text = f"QuickBooks disconnected ({company}) by {actor_mention(actor)}"
    detail = (
        "Intuit revoked the grant and the tokens are forgotten."
        if revoked
        else "The tokens are forgotten; Intuit did not confirm revoking the grant (already revoked, or "
        "Intuit could not be reached)."
    )
    blocks = [section(f"⚪ {text}. {detail}", block_id="disconnected")]
    return message(text, blocks, response_type="in_channel")


def disconnect_question(realm_id: str | None) -> dict[str, Any]:
    """Only to the admin who typed ``/qbsync disconnect``: what it does, and the button (confirmed)."""
    company = f"QuickBooks company {escape(realm_id)}" if realm_id else "QuickBooks"
    text = f"Disconnect {company}? Syncing stops until someone connects again."
    element = button(
        DISCONNECT.label, ids.DISCONNECT, "disconnect", style="danger", confirm=DISCONNECT.confirm
    )
    blocks: list[Block] = [section(text, block_id="disconnect"), actions([element], block_id="disconnect_do")]
    return message(text, blocks, response_type="ephemeral")


def not_connected_banner(state: str, connect_url: str | None = None) -> list[Block]:
    """A section saying QuickBooks is not connected (or disconnected), with the Connect button (an
    action button: the link is made when an administrator presses it)."""
    words = connection_words(state)
    return [
        section(
            f"*{escape(words)}* — every sync waits until QuickBooks is connected.", block_id="connection"
        ),
        actions([fix_button("connect", "", primary=True, connect_url=connect_url)], block_id="connect"),
    ]
