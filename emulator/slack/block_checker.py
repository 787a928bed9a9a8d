"""The walker behind Block Kit validation, and the composition objects every element and block shares.

:class:`Checker` collects Slack's ``[ERROR] <what> [json-pointer:…]`` lines while a payload is walked,
and checks the pieces that recur everywhere: strings with their length limits, ``action_id`` and
``block_id`` identifiers, arrays, text objects (``plain_text`` / ``mrkdwn``), confirmation dialogs,
options and option groups.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

ID_MAX = 255
# https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select
# ("options … Maximum number of options is 100") and
# https://docs.slack.dev/reference/block-kit/composition-objects/option-group-object/ ("an
# option_groups array can have a maximum number of 100 option groups with a maximum of 100 options").
OPTIONS_MAX = 100

PLAIN = ("plain_text",)
ANY_TEXT = ("plain_text", "mrkdwn")
_TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}


class Checker:
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
        types: Collection[str] = ANY_TEXT,
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
        self, value: Any, pointer: str, *, max_len: int, types: Collection[str] = ANY_TEXT
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
        self.text(value, "title", pointer, max_len=100, types=PLAIN, required=True)
        self.text(value, "text", pointer, max_len=300, required=True)
        self.text(value, "confirm", pointer, max_len=30, types=PLAIN, required=True)
        self.text(value, "deny", pointer, max_len=30, types=PLAIN, required=True)
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

    def option(self, option: Any, pointer: str, *, text_types: Collection[str] = PLAIN) -> None:
        """An option object (https://docs.slack.dev/reference/block-kit/composition-objects/option-object):
        text at most 75 characters (plain text in menus), a value of 1 to 150 characters, an optional
        plain-text description of at most 75."""
        if not isinstance(option, dict):
            self.err(pointer, "must provide an object")
            return
        self.keys(option, pointer, {"text", "value", "description", "url"})
        self.text(option, "text", pointer, max_len=75, types=text_types, required=True)
        self.value(option, "value", pointer, max_len=150, required=True)
        self.text(option, "description", pointer, max_len=75, types=PLAIN)
        self.string(option, "url", pointer, max_len=3000)


def option_groups(c: Checker, obj: Mapping[str, Any], p: str, *, min_items: int = 1) -> list[Any]:
    """``option_groups``: up to 100 groups, each a plain-text label of at most 75 characters and its
    options, 100 options in all (see :data:`OPTIONS_MAX`). Returns every option, in order."""
    found: list[Any] = []
    for i, group in enumerate(c.array(obj, "option_groups", p, max_items=OPTIONS_MAX, min_items=min_items)):
        gp = f"{p}/option_groups/{i}"
        if not isinstance(group, dict):
            c.err(gp, "must provide an object")
            continue
        c.keys(group, gp, {"label", "options"})
        c.text(group, "label", gp, max_len=75, types=PLAIN, required=True)
        found += c.options(group, "options", gp, max_items=OPTIONS_MAX, text_types=PLAIN)
        if "options" not in group:
            c.err(gp, "missing required field: options")
    if len(found) > OPTIONS_MAX:
        c.err(f"{p}/option_groups", f"no more than {OPTIONS_MAX} options allowed in all groups")
    return found
