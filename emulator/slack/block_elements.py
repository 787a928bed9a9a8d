"""Block Kit elements: one check per element type (buttons, menus, choices, pickers, text inputs,
images), and which elements each kind of block may hold (:data:`ACTIONS_ELEMENTS`,
:data:`ACCESSORY_ELEMENTS`, :data:`INPUT_ELEMENTS`).

Stricter than Slack in one place: interactive elements must carry an ``action_id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from emulator.slack.block_checker import ANY_TEXT, OPTIONS_MAX, PLAIN, Checker, option_groups

ElementCheck = Callable[[Checker, dict[str, Any], str], None]

_FOCUS = {"focus_on_load"}
_SELECT_KEYS = {"type", "action_id", "placeholder", "confirm"} | _FOCUS
_MULTI_KEYS = _SELECT_KEYS | {"max_selected_items"}


def _interactive(c: Checker, el: dict[str, Any], p: str, allowed: Collection[str]) -> None:
    c.keys(el, p, allowed)
    c.identifier(el, "action_id", p, required=True)
    c.text(el, "placeholder", p, max_len=150, types=PLAIN)
    c.confirm(el, p)


def _button(c: Checker, el: dict[str, Any], p: str) -> None:
    _interactive(
        c, el, p, {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"}
    )
    c.text(el, "text", p, max_len=75, types=PLAIN, required=True)
    c.string(el, "url", p, max_len=3000)
    # https://docs.slack.dev/reference/block-kit/block-elements/button-element: value at most 2000
    # characters; an empty one is refused (send none instead)
    c.value(el, "value", p, max_len=2000, required=False)
    c.enum(el, "style", p, {"primary", "danger"})
    c.string(el, "accessibility_label", p, max_len=75)


def _initial(c: Checker, el: dict[str, Any], p: str, multi: bool, among: list[Any] | None) -> None:
    """``initial_option`` (``initial_options`` for a multi-select): valid options and, for a static
    menu, ones among its options (https://docs.slack.dev/reference/block-kit/block-elements/
    select-menu-element: "A single option that exactly matches one of the options")."""
    key = "initial_options" if multi else "initial_option"
    if key not in el:
        return
    chosen = c.options(el, key, p, max_items=OPTIONS_MAX, text_types=PLAIN) if multi else [el[key]]
    if not multi:
        c.option(el[key], f"{p}/{key}")
    if among is None:
        return
    values = {o.get("value") for o in among if isinstance(o, dict)}
    for i, option in enumerate(chosen):
        if isinstance(option, dict) and option.get("value") not in values:
            c.err(f"{p}/{key}" + (f"/{i}" if multi else ""), "must match one of the options")


def _static_select(c: Checker, el: dict[str, Any], p: str) -> None:
    multi = el.get("type") == "multi_static_select"
    extra = {"options", "option_groups", "initial_option" if not multi else "initial_options"}
    _interactive(c, el, p, (_MULTI_KEYS if multi else _SELECT_KEYS) | extra)
    if "options" in el and "option_groups" in el:
        c.err(p, "must provide only one of: options, option_groups")
    if "options" in el:
        among = c.options(el, "options", p, max_items=OPTIONS_MAX, text_types=PLAIN)
    elif "option_groups" in el:
        among = option_groups(c, el, p)
    else:
        c.err(p, "missing required field: options")
        among = []
    _initial(c, el, p, multi, among)
    _max_selected(c, el, p)


def _max_selected(c: Checker, el: dict[str, Any], p: str) -> None:
    value = el.get("max_selected_items")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        c.err(f"{p}/max_selected_items", "must be an integer of at least 1")


def _external_select(c: Checker, el: dict[str, Any], p: str) -> None:
    """https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select:
    an ``action_id`` (required here), an optional ``initial_option`` (``initial_options`` for the
    multi-select), ``min_query_length`` a whole number (Slack's default is 3; 0 asks when the menu
    opens). Its options come from the app's answer to each options request, never from the element."""
    multi = el.get("type") == "multi_external_select"
    initial = "initial_options" if multi else "initial_option"
    _interactive(c, el, p, (_MULTI_KEYS if multi else _SELECT_KEYS) | {initial, "min_query_length"})
    value = el.get("min_query_length")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        c.err(f"{p}/min_query_length", "must be an integer of at least 0")
    _initial(c, el, p, multi, None)
    _max_selected(c, el, p)


def _select(extra: set[str]) -> ElementCheck:
    def check(c: Checker, el: dict[str, Any], p: str) -> None:
        multi = str(el.get("type", "")).startswith("multi_")
        _interactive(c, el, p, (_MULTI_KEYS if multi else _SELECT_KEYS) | extra)

    return check


def _choices(max_items: int, text_types: Collection[str], initial: str) -> ElementCheck:
    def check(c: Checker, el: dict[str, Any], p: str) -> None:
        _interactive(c, el, p, {"type", "action_id", "options", "confirm", initial} | _FOCUS)
        c.options(el, "options", p, max_items=max_items, text_types=text_types)
        if "options" not in el:
            c.err(p, "missing required field: options")

    return check


def _overflow(c: Checker, el: dict[str, Any], p: str) -> None:
    _interactive(c, el, p, {"type", "action_id", "options", "confirm"})
    c.options(el, "options", p, max_items=5, text_types=PLAIN)
    if "options" not in el:
        c.err(p, "missing required field: options")


def _text_input(extra: set[str]) -> ElementCheck:
    def check(c: Checker, el: dict[str, Any], p: str) -> None:
        keys = {"type", "action_id", "placeholder", "dispatch_action_config"} | _FOCUS | extra
        _interactive(c, el, p, keys)
        c.string(el, "initial_value", p, max_len=3000)
        for key in ("min_length", "max_length"):
            value = el.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                c.err(f"{p}/{key}", "must be an integer from 0 to 3000")

    return check


def image_element(c: Checker, el: dict[str, Any], p: str) -> None:
    c.keys(el, p, {"type", "image_url", "slack_file", "alt_text"})
    c.string(el, "alt_text", p, max_len=2000, required=True)
    if "slack_file" not in el:
        c.string(el, "image_url", p, max_len=3000, required=True)


def _pattern(key: str, regex: str) -> Callable[[Checker, dict[str, Any], str], None]:
    compiled = re.compile(regex)

    def check(c: Checker, el: dict[str, Any], p: str) -> None:
        value = el.get(key)
        if value is not None and not (isinstance(value, str) and compiled.fullmatch(value)):
            c.err(f"{p}/{key}", f"must match {regex}")

    return check


def _datepicker(c: Checker, el: dict[str, Any], p: str) -> None:
    _interactive(c, el, p, {"type", "action_id", "placeholder", "initial_date", "confirm"} | _FOCUS)
    _pattern("initial_date", r"\d{4}-\d{2}-\d{2}")(c, el, p)


def _timepicker(c: Checker, el: dict[str, Any], p: str) -> None:
    _interactive(
        c, el, p, {"type", "action_id", "placeholder", "initial_time", "timezone", "confirm"} | _FOCUS
    )
    _pattern("initial_time", r"\d{2}:\d{2}")(c, el, p)


def _loose(required: tuple[str, ...]) -> ElementCheck:
    """Elements checked for their required fields only."""

    def check(c: Checker, el: dict[str, Any], p: str) -> None:
        for key in required:
            if key not in el:
                c.err(p, f"missing required field: {key}")
        if "action_id" in el:
            c.identifier(el, "action_id", p)

    return check


ELEMENTS: dict[str, ElementCheck] = {
    "button": _button,
    "static_select": _static_select,
    "multi_static_select": _static_select,
    "external_select": _external_select,
    "multi_external_select": _external_select,
    "users_select": _select({"initial_user"}),
    "multi_users_select": _select({"initial_users"}),
    "conversations_select": _select(
        {"initial_conversation", "default_to_current_conversation", "response_url_enabled", "filter"}
    ),
    "multi_conversations_select": _select(
        {"initial_conversations", "default_to_current_conversation", "filter"}
    ),
    "channels_select": _select({"initial_channel", "response_url_enabled"}),
    "multi_channels_select": _select({"initial_channels"}),
    "overflow": _overflow,
    "radio_buttons": _choices(10, ANY_TEXT, "initial_option"),
    "checkboxes": _choices(10, ANY_TEXT, "initial_options"),
    "datepicker": _datepicker,
    "timepicker": _timepicker,
    "datetimepicker": _loose(("action_id",)),
    "plain_text_input": _text_input({"initial_value", "multiline", "min_length", "max_length"}),
    "email_text_input": _text_input({"initial_value"}),
    "url_text_input": _text_input({"initial_value"}),
    "number_input": _loose(("action_id", "is_decimal_allowed")),
    "rich_text_input": _loose(("action_id",)),
    "file_input": _loose(("action_id",)),
    "workflow_button": _loose(("text", "workflow")),
    "image": image_element,
}

_SELECTS = {name for name in ELEMENTS if name.endswith("_select")}
_PICKERS = {"checkboxes", "datepicker", "timepicker", "radio_buttons", "datetimepicker"}
ACTIONS_ELEMENTS = _SELECTS | _PICKERS | {"button", "overflow", "workflow_button", "rich_text_input"}
ACCESSORY_ELEMENTS = (_SELECTS | _PICKERS | {"button", "overflow", "image", "workflow_button"}) - {
    "datetimepicker"
}
INPUT_ELEMENTS = (_SELECTS | _PICKERS) | {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
}


def check_element(c: Checker, el: Any, p: str, allowed: Collection[str]) -> str | None:
    """Check one element; return its action_id (for the duplicate check)."""
    if not isinstance(el, dict):
        c.err(p, "must provide an object")
        return None
    kind = el.get("type")
    if kind not in ELEMENTS:
        c.err(f"{p}/type", f"unsupported type: {kind}")
        return None
    if kind not in allowed:
        c.err(f"{p}/type", f"{kind} is not allowed here")
        return None
    ELEMENTS[kind](c, el, p)
    action_id = el.get("action_id")
    return action_id if isinstance(action_id, str) else None
