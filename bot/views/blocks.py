"""Block Kit primitives with Slack's limits applied where blocks are built: text escaped for mrkdwn,
cut to the size Slack accepts, and whole surfaces checked (50 blocks a message, 100 a modal or Home,
unique block ids, unique action ids within a block). The SDK checks none of this for dict blocks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from services.catalogue import Confirm, actor_words
from services.catalogue import when as utc_words

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
MODAL_TITLE = 24
PRIVATE_METADATA = 3000

Block = dict[str, Any]
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


class SurfaceTooLarge(ValueError):
    """A view built more blocks than Slack accepts; paginate instead."""


def escape(text: object) -> str:
    """Text safe inside mrkdwn: ``&``, ``<`` and ``>`` escaped, so no input becomes a link or a mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What a person typed: Slack sends ``&``, ``<`` and ``>`` in a slash command's text as entities."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_TEXT, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": emoji}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit) or " "}


def header(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "header", "text": plain(text, HEADER_TEXT)}
    if block_id:
        block["block_id"] = block_id
    return block


def section(text: str, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def fields(pairs: list[str], block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "fields": [mrkdwn(p, FIELD_TEXT) for p in pairs[:10]]}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [mrkdwn(t) for t in texts[:CONTEXT_ELEMENTS]]}
    if block_id:
        block["block_id"] = block_id
    return block


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    url: str | None = None,
    confirm: Confirm | None = None,
) -> Block:
    element: Block = {"type": "button", "text": plain(text, BUTTON_TEXT), "action_id": action_id}
    if value is not None:
        element["value"] = cut(value, BUTTON_VALUE)
    if style in ("primary", "danger"):
        element["style"] = style
    if url:
        element["url"] = url
    if confirm:
        element["confirm"] = {
            "title": plain(confirm.title, 100),
            "text": plain(confirm.text, 300),
            "confirm": plain(confirm.confirm, 30),
            "deny": plain(confirm.deny, 30),
        }
        if style == "danger":
            element["confirm"]["style"] = "danger"
    return element


def actions(elements: list[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": elements[:ACTIONS_ELEMENTS]}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str, description: str = "") -> Block:
    entry: Block = {"text": plain(text, OPTION_TEXT), "value": cut(value, OPTION_VALUE)}
    if description:
        entry["description"] = plain(description, OPTION_TEXT)
    return entry


def slack_date(when: dt.datetime | str) -> str:
    """The one way a time is shown in Slack: in each reader's own zone ("Nov 27, 2026 at 2:03 PM",
    "Yesterday at 9:00 AM"), with the UTC time as the fallback where Slack cannot format it."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{utc_words(when)}>"


def channel_mention(channel: str) -> str:
    """A channel as Slack shows it (``<#C0123>``: its name, a link); a name that is no id as ``#name``."""
    if CHANNEL_ID.fullmatch(channel):
        return f"<#{channel}>"
    return "#" + escape(channel.lstrip("#"))


def check_surface(blocks: list[Block], limit: int) -> list[Block]:
    """Refuse what Slack would refuse: too many blocks, repeated block ids, repeated action ids in a block."""
    if len(blocks) > limit:
        raise SurfaceTooLarge(f"{len(blocks)} blocks; Slack takes at most {limit}")
    seen: set[str] = set()
    for block in blocks:
        block_id = block.get("block_id")
        if block_id:
            if block_id in seen:
                raise ValueError(f"block_id {block_id!r} used twice")
            seen.add(block_id)
        action_ids = [e.get("action_id") for e in _elements(block) if e.get("action_id")]
        if len(action_ids) != len(set(action_ids)):
            raise ValueError(f"an action_id is used twice in block {block_id!r}")
    return blocks


def _elements(block: Block) -> list[Block]:
    if block.get("type") == "actions":
        return list(block.get("elements") or [])
    found = []
    if isinstance(block.get("accessory"), dict):
        found.append(block["accessory"])
    if isinstance(block.get("element"), dict):
        found.append(block["element"])
    return found


def message(text: str, blocks: list[Block], **extra: Any) -> dict[str, Any]:
    """A message: fallback text (notifications, screen readers) and checked blocks. Slack reads the
    fallback as mrkdwn too: what came from outside (load numbers, names, QuickBooks' words) is escaped
    by the caller, so it can never mention a channel or link anywhere."""
    return {"text": cut(text, 3000), "blocks": check_surface(blocks, MESSAGE_BLOCKS), **extra}


def actor_mention(actor: str | None) -> str:
    """A Slack actor (``slack:T…:U…``) as a mention; anything else as plain text."""
    if actor and actor.startswith("slack:"):
        return f"<@{actor.rsplit(':', 1)[-1]}>"
    return escape(actor_words(actor))
