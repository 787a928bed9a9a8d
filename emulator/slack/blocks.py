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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

BLOCK_LIMITS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
ID_MAX = 255
# https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select
# ("options … Maximum number of options is 100") and
# https://docs.slack.dev/reference/block-kit/composition-objects/option-group-object/ ("an
# option_groups array can have a maximum number of 100 option groups with a maximum of 100 options").
OPTIONS_MAX = 100

_PLAIN = ("plain_text",)
_ANY_TEXT = ("plain_text", "mrkdwn")
_TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}


class _Checker:
    """Collects ``[ERROR] … [json-pointer:…]`` lines while walking a payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, pointer: str, what: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def keys(self, obj: Mapping[str, Any], pointer: str, allowed: Collection[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.err(f"{pointer}/{key}", f"invalid additional property: {key}")

    def string(
        self, obj: Mapping[str, Any], key: str, pointer: str, *, max_len: int, required: bool = False
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.err(pointer, f"missing required field: {key}")
            return None
        if not isinstance(value, str):
            self.err(f"{pointer}/{key}", "must provide a string")
            return None
        if len(value) > max_len:
            self.err(f"{pointer}/{key}", f"must be less than {max_len + 1} characters")
        return value

    def identifier(self, obj: Mapping[str, Any], key: str, pointer: str, *, required: bool = False) -> None:
        """An ``action_id`` or ``block_id``: 1 to 255 characters
        (https://docs.slack.dev/reference/block-kit/blocks — "block_id … Maximum length for this field
        is 255 characters"; an empty one is refused like any empty string Slack requires)."""
        value = self.string(obj, key, pointer, max_len=ID_MAX, required=required)
        if value == "":
            self.err(f"{pointer}/{key}", "must be more than 0 characters")

    def value(self, obj: Mapping[str, Any], key: str, pointer: str, *, max_len: int, required: bool) -> None:
        """A button's or option's ``value``: present when required, never empty, at most ``max_len``."""
        if self.string(obj, key, pointer, max_len=max_len, required=required) == "":
            self.err(f"{pointer}/{key}", "must be more than 0 characters")

    def enum(self, obj: Mapping[str, Any], key: str, pointer: str, allowed: Collection[str]) -> None:
        if key in obj and obj[key] not in allowed:
            self.err(f"{pointer}/{key}", f"must be one of: {', '.join(sorted(allowed))}")

    def array(
        self,
        obj: Mapping[str, Any],
        key: str,
        pointer: str,
        *,
        max_items: int,
        min_items: int = 1,
        required: bool = False,
    ) -> list[Any]:
        value = obj.get(key)
        if value is None:
            if required:
                self.err(pointer, f"missing required field: {key}")
            return []
        if not isinstance(value, list):
            self.err(f"{pointer}/{key}", "must provide an array")
            return []
        if len(value) > max_items:
            self.err(f"{pointer}/{key}", f"no more than {max_items} items allowed")
        if len(value) < min_items:
            self.err(f"{pointer}/{key}", f"must provide at least {min_items} items")
        return value

    def text(
        self,
        obj: Mapping[str, Any],
        key: str,
        pointer: str,
        *,
        max_len: int,
        types: Collection[str] = _ANY_TEXT,
        required: bool = False,
    ) -> None:
        """A text composition object at ``obj[key]``."""
        value = obj.get(key)
        if value is None:
            if required:
                self.err(pointer, f"missing required field: {key}")
            return
        self.text_object(value, f"{pointer}/{key}", max_len=max_len, types=types)

    def text_object(
        self, value: Any, pointer: str, *, max_len: int, types: Collection[str] = _ANY_TEXT
    ) -> None:
        if not isinstance(value, dict):
            self.err(pointer, "must provide an object")
            return
        kind = value.get("type")
        if kind not in types:
            self.err(f"{pointer}/type", f"must be one of: {', '.join(types)}")
            return
        self.keys(value, pointer, _TEXT_KEYS[kind])
        text = self.string(value, "text", pointer, max_len=max_len, required=True)
        if text == "":
            self.err(f"{pointer}/text", "must be more than 0 characters")

    def confirm(self, obj: Mapping[str, Any], pointer: str) -> None:
        value = obj.get("confirm")
        if value is None:
            return
        pointer = f"{pointer}/confirm"
        if not isinstance(value, dict):
            self.err(pointer, "must provide an object")
            return
        self.keys(value, pointer, {"title", "text", "confirm", "deny", "style"})
        self.text(value, "title", pointer, max_len=100, types=_PLAIN, required=True)
        self.text(value, "text", pointer, max_len=300, required=True)
        self.text(value, "confirm", pointer, max_len=30, types=_PLAIN, required=True)
        self.text(value, "deny", pointer, max_len=30, types=_PLAIN, required=True)
        self.enum(value, "style", pointer, {"primary", "danger"})

    def options(
        self,
        obj: Mapping[str, Any],
        key: str,
        pointer: str,
        *,
        max_items: int,
        text_types: Collection[str],
        min_items: int = 1,
    ) -> list[Any]:
        items = self.array(obj, key, pointer, max_items=max_items, min_items=min_items)
        for i, option in enumerate(items):
            self.option(option, f"{pointer}/{key}/{i}", text_types=text_types)
        return items

    def option(self, option: Any, pointer: str, *, text_types: Collection[str] = _PLAIN) -> None:
        """An option object (https://docs.slack.dev/reference/block-kit/composition-objects/option-object):
        text at most 75 characters (plain text in menus), a value of 1 to 150 characters, an optional
        plain-text description of at most 75."""
        if not isinstance(option, dict):
            self.err(pointer, "must provide an object")
            return
        self.keys(option, pointer, {"text", "value", "description", "url"})
        self.text(option, "text", pointer, max_len=75, types=text_types, required=True)
        self.value(option, "value", pointer, max_len=150, required=True)
        self.text(option, "description", pointer, max_len=75, types=_PLAIN)
        self.string(option, "url", pointer, max_len=3000)


# -- elements ---------------------------------------------------------------------------------------------

ElementCheck = Callable[[_Checker, dict[str, Any], str], None]

_FOCUS = {"focus_on_load"}
_SELECT_KEYS = {"type", "action_id", "placeholder", "confirm"} | _FOCUS
_MULTI_KEYS = _SELECT_KEYS | {"max_selected_items"}


def _interactive(c: _Checker, el: dict[str, Any], p: str, allowed: Collection[str]) -> None:
    c.keys(el, p, allowed)
    c.identifier(el, "action_id", p, required=True)
    c.text(el, "placeholder", p, max_len=150, types=_PLAIN)
    c.confirm(el, p)


def _button(c: _Checker, el: dict[str, Any], p: str) -> None:
    _interactive(
        c, el, p, {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"}
    )
    c.text(el, "text", p, max_len=75, types=_PLAIN, required=True)
    c.string(el, "url", p, max_len=3000)
    # https://docs.slack.dev/reference/block-kit/block-elements/button-element: value at most 2000
    # characters; an empty one is refused (send none instead)
    c.value(el, "value", p, max_len=2000, required=False)
    c.enum(el, "style", p, {"primary", "danger"})
    c.string(el, "accessibility_label", p, max_len=75)


def _option_groups(c: _Checker, obj: Mapping[str, Any], p: str, *, min_items: int = 1) -> list[Any]:
    """``option_groups``: up to 100 groups, each a plain-text label of at most 75 characters and its
    options, 100 options in all (see :data:`OPTIONS_MAX`). Returns every option, in order."""
    found: list[Any] = []
    for i, group in enumerate(c.array(obj, "option_groups", p, max_items=OPTIONS_MAX, min_items=min_items)):
        gp = f"{p}/option_groups/{i}"
        if not isinstance(group, dict):
            c.err(gp, "must provide an object")
            continue
        c.keys(group, gp, {"label", "options"})
        c.text(group, "label", gp, max_len=75, types=_PLAIN, required=True)
        found += c.options(group, "options", gp, max_items=OPTIONS_MAX, text_types=_PLAIN)
        if "options" not in group:
            c.err(gp, "missing required field: options")
    if len(found) > OPTIONS_MAX:
        c.err(f"{p}/option_groups", f"no more than {OPTIONS_MAX} options allowed in all groups")
    return found


def _initial(c: _Checker, el: dict[str, Any], p: str, multi: bool, among: list[Any] | None) -> None:
    """``initial_option`` (``initial_options`` for a multi-select): valid options and, for a static
    menu, ones among its options (https://docs.slack.dev/reference/block-kit/block-elements/
    select-menu-element: "A single option that exactly matches one of the options")."""
    key = "initial_options" if multi else "initial_option"
    if key not in el:
        return
    chosen = c.options(el, key, p, max_items=OPTIONS_MAX, text_types=_PLAIN) if multi else [el[key]]
    if not multi:
        c.option(el[key], f"{p}/{key}")
    if among is None:
        return
    values = {o.get("value") for o in among if isinstance(o, dict)}
    for i, option in enumerate(chosen):
        if isinstance(option, dict) and option.get("value") not in values:
            c.err(f"{p}/{key}" + (f"/{i}" if multi else ""), "must match one of the options")


def _static_select(c: _Checker, el: dict[str, Any], p: str) -> None:
    multi = el.get("type") == "multi_static_select"
    extra = {"options", "option_groups", "initial_option" if not multi else "initial_options"}
    _interactive(c, el, p, (_MULTI_KEYS if multi else _SELECT_KEYS) | extra)
    if "options" in el and "option_groups" in el:
        c.err(p, "must provide only one of: options, option_groups")
    if "options" in el:
        among = c.options(el, "options", p, max_items=OPTIONS_MAX, text_types=_PLAIN)
    elif "option_groups" in el:
        among = _option_groups(c, el, p)
    else:
        c.err(p, "missing required field: options")
        among = []
    _initial(c, el, p, multi, among)
    _max_selected(c, el, p)


def _max_selected(c: _Checker, el: dict[str, Any], p: str) -> None:
    value = el.get("max_selected_items")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        c.err(f"{p}/max_selected_items", "must be an integer of at least 1")


def _external_select(c: _Checker, el: dict[str, Any], p: str) -> None:
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
    def check(c: _Checker, el: dict[str, Any], p: str) -> None:
        multi = str(el.get("type", "")).startswith("multi_")
        _interactive(c, el, p, (_MULTI_KEYS if multi else _SELECT_KEYS) | extra)

    return check


def _choices(max_items: int, text_types: Collection[str], initial: str) -> ElementCheck:
    def check(c: _Checker, el: dict[str, Any], p: str) -> None:
        _interactive(c, el, p, {"type", "action_id", "options", "confirm", initial} | _FOCUS)
        c.options(el, "options", p, max_items=max_items, text_types=text_types)
        if "options" not in el:
            c.err(p, "missing required field: options")

    return check


def _overflow(c: _Checker, el: dict[str, Any], p: str) -> None:
    _interactive(c, el, p, {"type", "action_id", "options", "confirm"})
    c.options(el, "options", p, max_items=5, text_types=_PLAIN)
    if "options" not in el:
        c.err(p, "missing required field: options")


def _text_input(extra: set[str]) -> ElementCheck:
    def check(c: _Checker, el: dict[str, Any], p: str) -> None:
        keys = {"type", "action_id", "placeholder", "dispatch_action_config"} | _FOCUS | extra
        _interactive(c, el, p, keys)
        c.string(el, "initial_value", p, max_len=3000)
        for key in ("min_length", "max_length"):
            value = el.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                c.err(f"{p}/{key}", "must be an integer from 0 to 3000")

    return check


def _image_element(c: _Checker, el: dict[str, Any], p: str) -> None:
    c.keys(el, p, {"type", "image_url", "slack_file", "alt_text"})
    c.string(el, "alt_text", p, max_len=2000, required=True)
    if "slack_file" not in el:
        c.string(el, "image_url", p, max_len=3000, required=True)


def _pattern(key: str, regex: str) -> Callable[[_Checker, dict[str, Any], str], None]:
    compiled = re.compile(regex)

    def check(c: _Checker, el: dict[str, Any], p: str) -> None:
        value = el.get(key)
        if value is not None and not (isinstance(value, str) and compiled.fullmatch(value)):
            c.err(f"{p}/{key}", f"must match {regex}")

    return check


def _datepicker(c: _Checker, el: dict[str, Any], p: str) -> None:
    _interactive(c, el, p, {"type", "action_id", "placeholder", "initial_date", "confirm"} | _FOCUS)
    _pattern("initial_date", r"\d{4}-\d{2}-\d{2}")(c, el, p)


def _timepicker(c: _Checker, el: dict[str, Any], p: str) -> None:
    _interactive(
        c, el, p, {"type", "action_id", "placeholder", "initial_time", "timezone", "confirm"} | _FOCUS
    )
    _pattern("initial_time", r"\d{2}:\d{2}")(c, el, p)


def _loose(required: tuple[str, ...]) -> ElementCheck:
    """Elements checked for their required fields only."""

    def check(c: _Checker, el: dict[str, Any], p: str) -> None:
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
    "radio_buttons": _choices(10, _ANY_TEXT, "initial_option"),
    "checkboxes": _choices(10, _ANY_TEXT, "initial_options"),
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
    "image": _image_element,
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


def _element(c: _Checker, el: Any, p: str, allowed: Collection[str]) -> str | None:
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


# -- blocks -----------------------------------------------------------------------------------------------

BlockCheck = Callable[[_Checker, dict[str, Any], str], None]


def _section(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text", "fields", "accessory", "expand"})
    if "text" not in b and "fields" not in b:
        c.err(p, "missing required field: text or fields")
    c.text(b, "text", p, max_len=3000)
    for i, field in enumerate(c.array(b, "fields", p, max_items=10)):
        c.text_object(field, f"{p}/fields/{i}", max_len=2000)
    if "accessory" in b:
        _element(c, b["accessory"], f"{p}/accessory", ACCESSORY_ELEMENTS)


def _header(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text"})
    c.text(b, "text", p, max_len=150, types=_PLAIN, required=True)


def _divider(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id"})


def _context(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "elements"})
    for i, el in enumerate(c.array(b, "elements", p, max_items=10, required=True)):
        ep = f"{p}/elements/{i}"
        if isinstance(el, dict) and el.get("type") == "image":
            _image_element(c, el, ep)
        else:
            c.text_object(el, ep, max_len=3000)


def _actions(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "elements"})
    seen: set[str] = set()
    for i, el in enumerate(c.array(b, "elements", p, max_items=25, required=True)):
        action_id = _element(c, el, f"{p}/elements/{i}", ACTIONS_ELEMENTS)
        if action_id is not None:
            if action_id in seen:
                c.err(f"{p}/elements/{i}/action_id", f"duplicate action_id: {action_id}")
            seen.add(action_id)


def _input(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"})
    c.text(b, "label", p, max_len=2000, types=_PLAIN, required=True)
    c.text(b, "hint", p, max_len=2000, types=_PLAIN)
    if "element" not in b:
        c.err(p, "missing required field: element")
    else:
        _element(c, b["element"], f"{p}/element", INPUT_ELEMENTS)


def _image(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "image_url", "slack_file", "alt_text", "title"})
    c.string(b, "alt_text", p, max_len=2000, required=True)
    if "slack_file" not in b:
        c.string(b, "image_url", p, max_len=3000, required=True)
    c.text(b, "title", p, max_len=2000, types=_PLAIN)


def _markdown(c: _Checker, b: dict[str, Any], p: str) -> None:
    c.keys(b, p, {"type", "block_id", "text"})
    c.string(b, "text", p, max_len=12000, required=True)


def _required(*keys: str) -> BlockCheck:
    """Blocks checked for their required fields only (rich text, files, video, tables)."""

    def check(c: _Checker, b: dict[str, Any], p: str) -> None:
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


def _check_blocks(c: _Checker, blocks: Any, surface: Surface, pointer: str) -> None:
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
    c = _Checker()
    _check_blocks(c, blocks, surface, pointer)
    return c.errors


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Slack's error lines for a modal or Home tab view (``[]`` when acceptable)."""
    c = _Checker()
    if not isinstance(view, dict):
        c.err(pointer, "must provide an object")
        return c.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.err(f"{pointer}/type", "must be one of: home, modal")
        return c.errors
    if kind == "modal":
        c.text(view, "title", pointer, max_len=24, types=_PLAIN, required=True)
        c.text(view, "submit", pointer, max_len=24, types=_PLAIN)
        c.text(view, "close", pointer, max_len=24, types=_PLAIN)
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
    c = _Checker()
    if not isinstance(answer, dict):
        c.err(pointer, "must provide an object")
        return c.errors
    c.keys(answer, pointer, {"options", "option_groups"})
    if ("options" in answer) == ("option_groups" in answer):
        c.err(pointer, "must provide exactly one of: options, option_groups")
        return c.errors
    if "options" in answer:
        c.options(answer, "options", pointer, max_items=OPTIONS_MAX, text_types=_PLAIN, min_items=0)
    else:
        _option_groups(c, answer, pointer, min_items=0)
    return c.errors
