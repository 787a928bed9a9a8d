"""Block Kit as HTML, for the page: the blocks and elements qbsync sends (header, section with text,
fields and accessory, context, divider, image, actions, input; buttons, static_select with options or
option_groups, plain_text_input, email_text_input, timepicker, conversations_select and
multi_users_select over the page's channel and people, confirm dialogs), messages with their files,
modals and the Home tab. Anything else is shown as a labelled placeholder, never dropped.

Interactive elements carry ``data-*`` attributes the page's script turns into what Slack would send
(``data-action-id``, ``data-block-id``, ``data-value``, ``data-confirm``). Images load only from this
machine: the page never reaches the network.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.mrkdwn import mrkdwn_html, plain_html

Block = dict[str, Any]

BLOCK_TYPES = ("header", "section", "context", "divider", "image", "actions", "input")
# an external_select is drawn with the options the app answered when it opened (playground.screen)
ELEMENT_TYPES = (
    "button",
    "static_select",
    "external_select",
    "plain_text_input",
    "email_text_input",
    "timepicker",
    "conversations_select",
    "multi_users_select",
    "image",
)
TEXT_TYPES = ("mrkdwn", "plain_text")
SURFACE_TYPES = ("modal", "home")


@dataclass
class Names:
    """Who is who on the page: user ids to display names, the bot's user id, channel ids to names."""

    users: Mapping[str, str] = field(default_factory=dict)
    bot_user: str = ""
    bot_name: str = "qbsync"
    channels: Mapping[str, str] = field(default_factory=dict)

    def people(self) -> dict[str, str]:
        """The people of the workspace (not its bot), by id."""
        return {k: v for k, v in self.users.items() if k != self.bot_user}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def text_html(obj: Any, names: Names) -> str:
    """A text object (mrkdwn or plain_text); a bare string is read as plain text."""
    if isinstance(obj, str):
        return plain_html(obj)
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(obj.get("text", ""), names.users, names.channels)
    return plain_html(obj.get("text", ""))


def _plain(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")


def unknown(kind: str, value: Any = None) -> str:
    """A labelled placeholder for a type this page does not draw."""
    name = value.get("type", "?") if isinstance(value, dict) else "?"
    return (
        f'<div class="bk-unknown" data-unknown="{esc(name)}">'
        f"Unsupported {kind}: <code>{esc(name)}</code></div>"
    )


# -- elements -------------------------------------------------------------------------------------------


def _attrs(element: Block, block_id: str, kind: str) -> str:
    attrs = {
        "data-kind": kind,
        "data-action-id": element.get("action_id", ""),
        "data-block-id": block_id,
    }
    if "value" in element:
        attrs["data-value"] = element["value"]
    if element.get("url"):
        attrs["data-url"] = element["url"]
    if isinstance(element.get("confirm"), dict):
        attrs["data-confirm"] = json.dumps(_confirm(element["confirm"]))
    return " ".join(f'{key}="{esc(value)}"' for key, value in attrs.items())


def _confirm(confirm: Block) -> dict[str, str]:
    return {
        "title": _plain(confirm.get("title")) or "Are you sure?",
        "text": _plain(confirm.get("text")),
        "confirm": _plain(confirm.get("confirm")) or "Yes",
        "deny": _plain(confirm.get("deny")) or "Cancel",
        "style": confirm.get("style", ""),
    }


def button_html(element: Block, block_id: str) -> str:
    style = element.get("style") if element.get("style") in ("primary", "danger") else ""
    link = ' <span class="bk-ext" aria-hidden="true">↗</span>' if element.get("url") else ""
    return (
        f'<button type="button" class="bk-button {style}" {_attrs(element, block_id, "button")}>'
        f"{plain_html(_plain(element.get('text')))}{link}</button>"
    )


def _option_html(option: Block, selected: str | None) -> str:
    value = option.get("value", "")
    chosen = " selected" if selected is not None and value == selected else ""
    description = _plain(option.get("description"))
    title = f' title="{esc(description)}"' if description else ""
    return f'<option value="{esc(value)}"{chosen}{title}>{esc(_plain(option.get("text")))}</option>'


def select_html(element: Block, block_id: str, selected: str | None = None) -> str:
    """A static_select as a native select: options or option_groups, the initial option chosen."""
    if selected is None and isinstance(element.get("initial_option"), dict):
        selected = element["initial_option"].get("value")
    placeholder = _plain(element.get("placeholder")) or "Select an item"
    first = "" if selected else " selected"
    parts = [f'<option value="" disabled{first}>{esc(placeholder)}</option>']
    for group in element.get("option_groups") or []:
        options = "".join(_option_html(o, selected) for o in group.get("options") or [])
        parts.append(f'<optgroup label="{esc(_plain(group.get("label")))}">{options}</optgroup>')
    parts += [_option_html(o, selected) for o in element.get("options") or []]
    return (
        '<span class="bk-select-wrap">'
        f'<select class="bk-select" {_attrs(element, block_id, "static_select")}>'
        f"{''.join(parts)}</select></span>"
    )


def text_input_html(element: Block, block_id: str, value: str | None = None) -> str:
    kind = element.get("type")
    value = element.get("initial_value", "") if value is None else value
    placeholder = _plain(element.get("placeholder"))
    common = f'class="bk-textbox" {_attrs(element, block_id, kind)} placeholder="{esc(placeholder)}"'
    if element.get("max_length"):
        common += f' maxlength="{int(element["max_length"])}"'
    if kind == "plain_text_input" and element.get("multiline"):
        return f"<textarea {common} rows=4>{esc(value)}</textarea>"
    input_type = "email" if kind == "email_text_input" else "text"
    return f'<input type="{input_type}" {common} value="{esc(value)}">'


def image_html(element: Block, small: bool = False) -> str:
    url, alt = element.get("image_url", ""), element.get("alt_text", "")
    css = "bk-image-small" if small else "bk-image"
    if not _local(url):
        return f'<span class="{css} bk-image-remote" title="{esc(url)}">🖼 {esc(alt or "image")}</span>'
    return f'<img class="{css}" src="{esc(url)}" alt="{esc(alt)}">'


def _local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def _plain_text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def time_input_html(element: Block, block_id: str, value: str | None = None) -> str:
    """A timepicker as the browser's time input (``HH:MM``)."""
    value = element.get("initial_time", "") if value is None else value
    attrs = _attrs(element, block_id, "timepicker")
    return f'<input type="time" class="bk-textbox bk-time" {attrs} value="{esc(value)}">'


def conversation_select_html(element: Block, block_id: str, names: Names, selected: str | None = None) -> str:
    """A conversations_select: the workspace's channels the page knows, the initial one chosen."""
    if selected is None:
        selected = element.get("initial_conversation")
    channels = dict(names.channels)
    if selected and selected not in channels:
        channels[selected] = selected
    options = [{"text": _plain_text(f"#{name}"), "value": ident} for ident, name in channels.items()]
    menu = {**element, "options": options, "initial_option": None}
    menu.setdefault("placeholder", _plain_text("Select a channel"))
    html_ = select_html(menu, block_id, selected or "")
    return html_.replace('data-kind="static_select"', 'data-kind="conversations_select"', 1)


def users_select_html(element: Block, block_id: str, names: Names, selected: Any = None) -> str:
    """A multi_users_select as a list with several choices: the workspace's people, the initial ones
    chosen."""
    chosen = list(selected if isinstance(selected, list) else element.get("initial_users") or [])
    people = names.people()
    for user in chosen:
        people.setdefault(user, user)
    options = "".join(
        f'<option value="{esc(ident)}"{" selected" if ident in chosen else ""}>{esc(name)}</option>'
        for ident, name in people.items()
    )
    size = max(2, min(len(people), 5))
    return (
        f'<select class="bk-select bk-multi" multiple size="{size}" '
        f"{_attrs(element, block_id, 'multi_users_select')}>{options}</select>"
    )


def element_html(element: Any, block_id: str, value: Any = None, names: Names | None = None) -> str:
    """One interactive or image element, wherever it sits (accessory, actions, input)."""
    kind = element.get("type") if isinstance(element, dict) else None
    names = names or Names()
    if kind == "button":
        return button_html(element, block_id)
    if kind in ("static_select", "external_select"):
        return select_html(element, block_id, value)
    if kind in ("plain_text_input", "email_text_input"):
        return text_input_html(element, block_id, value)
    if kind == "timepicker":
        return time_input_html(element, block_id, value)
    if kind == "conversations_select":
        return conversation_select_html(element, block_id, names, value)
    if kind == "multi_users_select":
        return users_select_html(element, block_id, names, value)
    if kind == "image":
        return image_html(element, small=True)
    return unknown("element", element)


# -- blocks ---------------------------------------------------------------------------------------------


@dataclass
class InputState:
    """What a modal's inputs show: the values last submitted, and Slack's errors by block id."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def block_html(block: Any, names: Names, state: InputState | None = None) -> str:
    kind = block.get("type") if isinstance(block, dict) else None
    block_id = block.get("block_id", "") if isinstance(block, dict) else ""
    inner = {
        "header": lambda: f'<div class="bk-header">{plain_html(_plain(block.get("text")))}</div>',
        "section": lambda: _section(block, names),
        "context": lambda: _context(block, names),
        "divider": lambda: '<hr class="bk-rule">',
        "image": lambda: _image_block(block, names),
        "actions": lambda: _actions(block, names),
        "input": lambda: _input(block, names, state or InputState()),
    }.get(kind)
    if inner is None:
        return unknown("block", block)
    return f'<div class="bk bk-{kind}" data-block-id="{esc(block_id)}">{inner()}</div>'


def blocks_html(blocks: list[Any], names: Names, state: InputState | None = None) -> str:
    return "".join(block_html(b, names, state) for b in blocks or [])


def _section(block: Block, names: Names) -> str:
    parts = []
    if block.get("text"):
        parts.append(f'<div class="bk-text">{text_html(block["text"], names)}</div>')
    if block.get("fields"):
        cells = "".join(f'<div class="bk-field">{text_html(f, names)}</div>' for f in block["fields"])
        parts.append(f'<div class="bk-fields">{cells}</div>')
    body = f'<div class="bk-section-body">{"".join(parts)}</div>'
    accessory = block.get("accessory")
    if accessory:
        accessory_html = element_html(accessory, block.get("block_id", ""), names=names)
        body += f'<div class="bk-accessory">{accessory_html}</div>'
    return body


def _context(block: Block, names: Names) -> str:
    parts = []
    for element in block.get("elements") or []:
        if isinstance(element, dict) and element.get("type") == "image":
            parts.append(image_html(element, small=True))
        elif isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
            parts.append(f"<span>{text_html(element, names)}</span>")
        else:
            parts.append(unknown("context element", element))
    return "".join(parts)


def _image_block(block: Block, names: Names) -> str:
    title = block.get("title")
    caption = f'<div class="bk-image-title">{text_html(title, names)}</div>' if title else ""
    return caption + image_html(block)


def _actions(block: Block, names: Names) -> str:
    block_id = block.get("block_id", "")
    return "".join(element_html(e, block_id, names=names) for e in block.get("elements") or [])


def _input(block: Block, names: Names, state: InputState) -> str:
    block_id = block.get("block_id", "")
    element = block.get("element") or {}
    chosen = (state.values.get(block_id) or {}).get(element.get("action_id", ""))
    value = None
    if isinstance(chosen, dict):
        value = (chosen.get("selected_option") or {}).get("value") or chosen.get("value")
        for name in ("selected_conversation", "selected_time", "selected_users"):
            if name in chosen:
                value = chosen[name] if chosen[name] is not None else ""
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    parts = [
        f'<label class="bk-label">{plain_html(_plain(block.get("label")))}{optional}</label>',
        element_html(element, block_id, value, names),
    ]
    if block_id in state.errors:
        parts.append(f'<div class="bk-error" role="alert">{plain_html(state.errors[block_id])}</div>')
    if block.get("hint"):
        parts.append(f'<div class="bk-hint">{text_html(block["hint"], names)}</div>')
    return "".join(parts)


# -- surfaces -------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """One message as the page shows it (a stand-in message, or the page's own line)."""

    ts: str
    text: str
    blocks: list[Block]
    user: str | None = None
    ephemeral: bool = False
    replaced: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    via: str = "api"


def message_html(message: Shown, names: Names) -> str:
    is_bot = message.user in (None, names.bot_user)
    name = names.bot_name if is_bot else names.users.get(message.user or "", message.user or "")
    initials = "qb" if is_bot else "".join(w[0] for w in name.split()[:2]).upper()
    badge = '<span class="app-badge">APP</span>' if is_bot else ""
    edited = ' <span class="edited">(edited)</span>' if message.replaced else ""
    note = (
        '<div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div>'
        if message.ephemeral
        else ""
    )
    if message.blocks:
        body = f'<div class="blocks">{blocks_html(message.blocks, names)}</div>'
    elif is_bot:
        body = f'<div class="msg-text">{mrkdwn_html(message.text, names.users, names.channels)}</div>'
    else:
        body = f'<div class="msg-text">{plain_html(message.text)}</div>'
    body += "".join(_file_html(f) for f in message.files)
    classes = "msg" + (" ephemeral" if message.ephemeral else "") + (" bot" if is_bot else " human")
    return (
        f'<div class="{classes}" data-surface="message" data-ts="{esc(message.ts)}" '
        f'data-ephemeral="{str(message.ephemeral).lower()}">'
        f'<div class="avatar{" bot" if is_bot else ""}" aria-hidden="true">{esc(initials)}</div>'
        f'<div class="msg-main">{note}<div class="msg-head"><span class="msg-name">{esc(name)}</span>'
        f'{badge}<time class="msg-time" data-ts="{esc(message.ts)}">{esc(_clock(message.ts))}</time>'
        f"{edited}</div>{body}</div></div>"
    )


def _clock(ts: str) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%H:%M UTC")
    except ValueError:
        return ""


def _file_html(file: dict[str, Any]) -> str:
    name, title = file.get("name", ""), file.get("title") or file.get("name", "")
    url = f"/files/{esc(file.get('id', ''))}"
    if str(file.get("mimetype", "")).startswith("image/"):
        return (
            f'<figure class="file-image"><figcaption>{esc(title)}</figcaption>'
            f'<img src="{url}" alt="{esc(title)}"></figure>'
        )
    return f'<a class="file-card" href="{url}" download="{esc(name)}">📄 {esc(title)}</a>'


def modal_html(view: Block, names: Names, state: InputState | None = None) -> str:
    title = plain_html(_plain(view.get("title")))
    close = plain_html(_plain(view.get("close")) or ("Cancel" if view.get("submit") else "Close"))
    submit = ""
    if view.get("submit"):
        label = plain_html(_plain(view["submit"]))
        submit = f'<button type="button" class="bk-button primary" data-submit>{label}</button>'
    return (
        f'<div class="modal-backdrop"><div class="modal" role="dialog" aria-modal="true" '
        f'data-surface="modal" data-view-id="{esc(view.get("id", ""))}">'
        f'<div class="modal-head"><span class="modal-title">{title}</span>'
        f'<button type="button" class="modal-x" data-close aria-label="Close">✕</button></div>'
        f'<div class="modal-body">{blocks_html(view.get("blocks") or [], names, state)}</div>'
        f'<div class="modal-foot"><button type="button" class="bk-button" data-close>{close}</button>'
        f"{submit}</div></div></div>"
    )


def home_html(view: Block, names: Names) -> str:
    return (
        f'<div class="home" data-surface="home" data-view-id="{esc(view.get("id", ""))}">'
        f"{blocks_html(view.get('blocks') or [], names)}</div>"
    )
