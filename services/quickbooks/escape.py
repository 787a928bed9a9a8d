"""Putting values into QuickBooks queries safely.

QuickBooks escapes a quote inside a string value with a backslash; a backslash must therefore be
escaped first. python-quickbooks' ``filter()`` does not escape backslashes and ``where()`` escapes
nothing, so every value goes through ``quote``. Curly quotes have been reported to break Intuit's
parser even inside a string, so ``safe_prefix`` gives the part of a value before the first one; a
caller matches that with LIKE and compares the full value itself.
"""

from __future__ import annotations

UNSAFE_IN_QUERIES = frozenset("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033")
LIKE_WILDCARDS = frozenset("%_")


def quote(value: str) -> str:
    """A single-quoted QuickBooks string literal for ``value``."""
    if any(ch in UNSAFE_IN_QUERIES for ch in value):
        raise ValueError("value has a curly quote; use safe_prefix and compare locally")
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("value has a control character")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def needs_prefix_match(value: str) -> bool:
    return any(ch in UNSAFE_IN_QUERIES for ch in value)


def safe_prefix(value: str) -> str:
    """The longest prefix of ``value`` before a curly quote or a LIKE wildcard."""
    for index, ch in enumerate(value):
        if ch in UNSAFE_IN_QUERIES or ch in LIKE_WILDCARDS:
            return value[:index]
    return value


def in_list(values: list[str]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"
