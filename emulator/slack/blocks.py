"""Block Kit validation with Slack's limits, answering in Slack's words.

Slack refuses a message whose blocks break a limit with ``invalid_blocks`` and one line per problem,
``[ERROR] <what> [json-pointer:/blocks/3/text/text]``; a view is refused with ``invalid_arguments`` and
the same lines under ``/view``. :func:`validate_blocks` and :func:`validate_view` return those lines
(empty when the payload is acceptable), so the bot's own builders can be tested against them.

Stricter than Slack in one place: interactive elements must carry an ``action_id`` (Slack would make
one up, and nothing could route the click).

Menus: a ``static_select`` / ``multi_static_select`` holds at most 100 options, as ``options`` or as
``option_groups`` (100 in all), never both; an ``external_select`` holds none and is answered by the
app's options request (:func:`validate_options` checks that answer). Ids and values are never empty.
Slack's references for each rule are cited where it is checked.

This module holds the blocks, their limits per surface (message, modal, Home tab) and the three
entry points; the elements are in :mod:`.block_elements`, and the walker that collects the lines,
with the composition objects (text, confirm, options), in :mod:`.block_checker`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from emulator.slack.block_checker import ID_MAX, OPTIONS_MAX, PLAIN, Checker, option_groups
from emulator.slack.block_elements import (
    ACCESSORY_ELEMENTS,
    ACTIONS_ELEMENTS,
    INPUT_ELEMENTS,
    check_element,
    image_element,
)

Surface = Literal["message", "modal", "home"]

BLOCK_LIMITS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}

BlockCheck = Callable[[Checker, dict[str, Any], str], None]


def _section(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text", "fields", "accessory", "expand"})
    if "text" not in b and "fields" not in b:
        c.err(p, "missing required field: text or fields")
    c.text(b, "text", p, max_len=3000)
    for i, field in enumerate(c.array(b, "fields", p, max_items=10)):
        c.text_object(field, f"{p}/fields/{i}", max_len=2000)
    if "accessory" in b:
        check_element(c, b["accessory"], f"{p}/accessory", ACCESSORY_ELEMENTS)


def _header(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text"})
    c.text(b, "text", p, max_len=150, types=PLAIN, required=True)


def _divider(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id"})


def _context(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "elements"})
    for i, el in enumerate(c.array(b, "elements", p, max_items=10, required=True)):
        ep = f"{p}/elements/{i}"
        if isinstance(el, dict) and el.get("type") == "image":
            image_element(c, el, ep)
        else:
            c.text_object(el, ep, max_len=3000)


def _actions(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "elements"})
    seen: set[str] = set()
    for i, el in enumerate(c.array(b, "elements", p, max_items=25, required=True)):
        action_id = check_element(c, el, f"{p}/elements/{i}", ACTIONS_ELEMENTS)
        if action_id is not None:
            if action_id in seen:
                c.err(f"{p}/elements/{i}/action_id", f"duplicate action_id: {action_id}")
            seen.add(action_id)


def _input(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"})
    c.text(b, "label", p, max_len=2000, types=PLAIN, required=True)
    c.text(b, "hint", p, max_len=2000, types=PLAIN)
    if "element" not in b:
        c.err(p, "missing required field: element")
    else:
        check_element(c, b["element"], f"{p}/element", INPUT_ELEMENTS)


def _image(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "image_url", "slack_file", "alt_text", "title"})
    c.string(b, "alt_text", p, max_len=2000, required=True)
    if "slack_file" not in b:
        c.string(b, "image_url", p, max_len=3000, required=True)
    c.text(b, "title", p, max_len=2000, types=PLAIN)


def _markdown(c: Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text"})
    c.string(b, "text", p, max_len=12000, required=True)


def _required(*keys: str) -> BlockCheck:
    """Blocks checked for their required fields only (rich text, files, video, tables)."""

    def check(c: Checker, b: dict[str, Any], p: str) -> None:
        for key in keys:
            if key not in b:
                c.err(p, f"missing required field: {key}")

    return check


BLOCKS: dict[str, BlockCheck] = {
    "section": _section,
    "header": _header,
    "divider": _divider,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "markdown": _markdown,
    "rich_text": _required("elements"),
    "file": _required("external_id", "source"),
    "video": _required("alt_text", "title", "thumbnail_url", "video_url"),
    "table": _required("rows"),
}


def _check_blocks(c: Checker, blocks: Any, surface: Surface, pointer: str) -> None:
    if not isinstance(blocks, list):
        c.err(pointer, "must provide an array")
        return
    limit = BLOCK_LIMITS[surface]
    if len(blocks) > limit:
        c.err(pointer, f"no more than {limit} items allowed")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{pointer}/{i}"
        if not isinstance(block, dict):
            c.err(p, "must provide an object")
            continue
        kind = block.get("type")
        if kind not in BLOCKS:
            c.err(f"{p}/type", f"unsupported type: {kind}")
            continue
        c.identifier(block, "block_id", p)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                c.err(f"{p}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(block_id)
        BLOCKS[kind](c, block, p)


def validate_blocks(blocks: Any, surface: Surface = "message", *, pointer: str = "/blocks") -> list[str]:
    """Slack's error lines for ``blocks`` on a surface (``[]`` when Slack would accept them)."""
    if surface not in BLOCK_LIMITS:
        raise ValueError(f"unknown surface {surface!r}")
    c = Checker()
    _check_blocks(c, blocks, surface, pointer)
    return c.errors


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Slack's error lines for a modal or Home tab view (``[]`` when acceptable)."""
    c = Checker()
    if not isinstance(view, dict):
        c.err(pointer, "must provide an object")
        return c.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.err(f"{pointer}/type", "must be one of: home, modal")
        return c.errors
    if kind == "modal":
        c.text(view, "title", pointer, max_len=24, types=PLAIN, required=True)
        c.text(view, "submit", pointer, max_len=24, types=PLAIN)
        c.text(view, "close", pointer, max_len=24, types=PLAIN)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and "submit" not in view:
            c.err(pointer, "missing required field: submit (a modal with input blocks needs one)")
    c.string(view, "private_metadata", pointer, max_len=3000)
    c.string(view, "callback_id", pointer, max_len=ID_MAX)
    c.string(view, "external_id", pointer, max_len=ID_MAX)
    if "blocks" not in view:
        c.err(pointer, "missing required field: blocks")
    else:
        _check_blocks(c, view["blocks"], kind, f"{pointer}/blocks")
    return c.errors


def validate_options(answer: Any, *, pointer: str = "") -> list[str]:
    """Slack's error lines for an app's answer to an options request (``block_suggestion``): an object
    with ``options`` or ``option_groups`` (one of them), at most 100 options in all, plain text.
    https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select"""
    c = Checker()
    if not isinstance(answer, dict):
        c.err(pointer, "must provide an object")
        return c.errors
    c.keys(answer, pointer, {"options", "option_groups"})
    if ("options" in answer) == ("option_groups" in answer):
        c.err(pointer, "must provide exactly one of: options, option_groups")
        return c.errors
    if "options" in answer:
        c.options(answer, "options", pointer, max_items=OPTIONS_MAX, text_types=PLAIN, min_items=0)
    else:
        option_groups(c, answer, pointer, min_items=0)
    return c.errors
