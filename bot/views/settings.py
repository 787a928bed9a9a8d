"""The administrators' Settings in the App Home of a workspace (distribution mode): what is set now, a
button to edit it (a modal: the digest channel, its time and zone, who may fix, the administrators) and
one to make a new TMS webhook secret (shown once, in a modal only the administrator sees)."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import (
    MODAL_TITLE,
    VIEW_BLOCKS,
    Block,
    actions,
    button,
    channel_mention,
    check_surface,
    escape,
    fields,
    plain,
    section,
)
from services.catalogue import workspaces as words


def _people(users: list[str] | tuple[str, ...] | None, nobody: str) -> str:
    return ", ".join(f"<@{escape(u)}>" for u in users) if users else nobody


def settings_blocks(settings: Any, tms_url: str | None) -> list[Block]:
    """The Settings section: ``settings`` are the workspace's effective settings."""
    channel = settings.digest_channel
    return [
        section(words.SETTINGS_HEADING, block_id=ids.SETTINGS_BLOCK),
        fields(
            [
                f"*{words.SETTINGS_DIGEST_CHANNEL}*\n"
                + (channel_mention(channel) if channel else words.SETTINGS_NO_CHANNEL),
                f"*{words.SETTINGS_DIGEST_TIME}*\n{escape(settings.digest_time)} {escape(settings.timezone)}",
                f"*{words.SETTINGS_FIXERS}*\n{_people(settings.fixers, words.SETTINGS_EVERYONE)}",
                f"*{words.SETTINGS_ADMINS}*\n{_people(settings.admins, '—')}",
                f"*{words.SETTINGS_TMS}*\n"
                + (f"`{escape(tms_url)}`" if tms_url else words.SETTINGS_TMS_NONE),
            ],
            block_id=ids.SETTINGS_FIELDS,
        ),
        actions(
            [
                button(words.SETTINGS_EDIT, ids.SETTINGS_EDIT, "edit"),
                {
                    **button(words.SETTINGS_TMS_ROTATE, ids.SETTINGS_TMS, "rotate"),
                    "confirm": {
                        "title": plain(words.SETTINGS_TMS_ROTATE, 100),
                        "text": plain(words.SETTINGS_TMS_CONFIRM, 300),
                        "confirm": plain("Make a new secret", 30),
                        "deny": plain("Cancel", 30),
                    },
                },
            ],
            block_id=ids.SETTINGS_ACTIONS,
        ),
    ]


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def settings_modal(settings: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ids.SETTINGS_VALUE,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if settings.digest_channel:
        channel["initial_conversation"] = settings.digest_channel
    fixers: dict[str, Any] = {"type": "multi_users_select", "action_id": ids.SETTINGS_VALUE}
    if settings.fixers:
        fixers["initial_users"] = list(settings.fixers)
    admins: dict[str, Any] = {"type": "multi_users_select", "action_id": ids.SETTINGS_VALUE}
    if settings.admins:
        admins["initial_users"] = list(settings.admins)
    blocks = [
        _input(ids.SETTINGS_CHANNEL_INPUT, words.SETTINGS_DIGEST_CHANNEL, channel, optional=True),
        _input(
            ids.SETTINGS_TIME_INPUT,
            words.SETTINGS_DIGEST_TIME,
            {"type": "timepicker", "action_id": ids.SETTINGS_VALUE, "initial_time": settings.digest_time},
            optional=False,
        ),
        _input(
            ids.SETTINGS_ZONE_INPUT,
            words.SETTINGS_TIMEZONE,
            {
                "type": "plain_text_input",
                "action_id": ids.SETTINGS_VALUE,
                "initial_value": settings.timezone,
                "max_length": 64,
            },
            optional=False,
            hint=words.SETTINGS_TIMEZONE_HINT,
        ),
        _input(
            ids.SETTINGS_FIXERS_INPUT,
            words.SETTINGS_FIXERS,
            fixers,
            optional=True,
            hint=words.SETTINGS_FIXERS_HINT,
        ),
        _input(
            ids.SETTINGS_ADMINS_INPUT,
            words.SETTINGS_ADMINS,
            admins,
            optional=False,
            hint=words.SETTINGS_ADMINS_HINT,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.SETTINGS_VIEW,
        "title": plain(words.SETTINGS_TITLE, MODAL_TITLE),
        "submit": plain(words.SETTINGS_SAVE, MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "blocks": check_surface(blocks, VIEW_BLOCKS),
    }


def tms_secret_modal(url: str | None, secret: str | None) -> dict[str, Any]:
    text = (
        words.SETTINGS_TMS_SHOWN_ONCE.format(url=escape(url), secret=escape(secret))
        if url and secret
        else words.SETTINGS_TMS_NOT_SERVED
    )
    return {
        "type": "modal",
        "callback_id": ids.SETTINGS_TMS_VIEW,
        "title": plain(words.SETTINGS_TMS_TITLE, MODAL_TITLE),
        "close": plain("Close", MODAL_TITLE),
        "blocks": [section(text, block_id=ids.SETTINGS_BLOCK)],
    }
