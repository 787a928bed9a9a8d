"""Load numbers: the one validator every entry point uses (import, webhook, CLI, Slack), and near matches
for "load not found" messages.

A load number is a literal: quotes, backslashes, curly apostrophes and any other printable character
are kept as typed (the QuickBooks layer escapes them in queries). What is refused is what cannot be a
load number or would be invisible in a message: anything but a string, an empty value, more than
``MAX_LOAD_NUMBER_LENGTH`` characters, and control, format or line-separator characters. Numbers
longer than QuickBooks' 21-character DocNumber are accepted here; the sync reports them as
``doc_number_too_long``.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from services.errors import UserInputError

MAX_LOAD_NUMBER_LENGTH = 64

# Cc control (newline, tab, NUL …), Cf format (zero-width space, BOM …), Cs lone surrogates,
# Zl/Zp line and paragraph separators.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CHARACTER_NAMES = {
    "\n": "a newline",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x00": "a NUL character",
}
_SHOWN_CHARACTERS = 80
_SUGGESTION_CUTOFF = 0.6


class LoadNumberError(UserInputError):
    """A value that is not a valid load number. ``reason`` is the message without the "load number"
    prefix, for callers that name the field themselves."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"load number {reason}")
        self.reason = reason


def clean_load_number(value: object) -> str:
    """``value`` as a load number, trimmed of surrounding whitespace.

    Raises ``LoadNumberError`` (a ``UserInputError``) saying what is wrong and showing the value.
    """
    if not isinstance(value, str):
        raise LoadNumberError(f"must be text, got {describe_value(value)}")
    cleaned = value.strip()
    if not cleaned:
        shown = f" (got {show(value)})" if value else ""
        raise LoadNumberError(f"is empty{shown}")
    bad = find_forbidden_character(cleaned)
    if bad is not None:
        position, name = bad
        raise LoadNumberError(f"contains {name} at position {position + 1}: {show(cleaned)}")
    if len(cleaned) > MAX_LOAD_NUMBER_LENGTH:
        raise LoadNumberError(
            f"is too long: {len(cleaned)} characters, at most {MAX_LOAD_NUMBER_LENGTH}: {show(cleaned)}"
        )
    return cleaned


def suggest_load_numbers(value: object, known: Iterable[str], limit: int = 5) -> list[str]:
    """Up to ``limit`` entries of ``known`` that look like ``value``, closest first.

    Matching ignores case and punctuation ("l1003" finds "L-1003"); a known number that contains
    what was typed, or is contained in it, ranks above a merely similar one.
    """
    if not isinstance(value, str) or limit <= 0:
        return []
    target = _fold(value)
    if not target:
        return []
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    scored: dict[str, float] = {}
    for number in known:
        score = _similarity(matcher, target, _fold(number))
        if score is not None and score > scored.get(number, -1.0):
            scored[number] = score
    ranked = sorted(scored.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
    return [number for number, _ in ranked[:limit]]


def _similarity(matcher: difflib.SequenceMatcher, target: str, candidate: str) -> float | None:
    """How close ``candidate`` is to ``target`` (both folded): 3 equal, 2+ containment, 0.6–1 similar."""
    if not candidate:
        return None
    if candidate == target:
        return 3.0
    matcher.set_seq1(candidate)
    if target in candidate or candidate in target:
        return 2.0 + matcher.ratio()
    if matcher.real_quick_ratio() < _SUGGESTION_CUTOFF or matcher.quick_ratio() < _SUGGESTION_CUTOFF:
        return None
    ratio = matcher.ratio()
    return ratio if ratio >= _SUGGESTION_CUTOFF else None


def _fold(value: str) -> str:
    """Case-folded letters and digits only; the case-folded text when there are none."""
    folded = value.strip().casefold()
    alphanumeric = "".join(ch for ch in folded if ch.isalnum())
    return alphanumeric or folded


def find_forbidden_character(value: str, allowed: str = "") -> tuple[int, str] | None:
    """The index and a readable name of the first control, format or separator character in
    ``value`` (characters in ``allowed`` excepted), or ``None``."""
    if value.isprintable():  # the common case, checked in C: no control, format or separator characters
        return None
    for index, ch in enumerate(value):
        if ch not in allowed and unicodedata.category(ch) in FORBIDDEN_CATEGORIES:
            return index, character_name(ch)
    return None


def character_name(ch: str) -> str:
    """A readable name for a single character, e.g. "a newline" or "the character U+200B"."""
    return _CHARACTER_NAMES.get(ch, f"the character U+{ord(ch):04X}")


def show(value: str, limit: int = _SHOWN_CHARACTERS) -> str:
    """``value`` quoted with ``repr`` (control characters visible), shortened past ``limit`` chars."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"


def describe_value(value: object) -> str:
    """A short description of a (JSON) value for error messages: "null", "the number 850.5",
    "the string '850'", "a list", "an object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
