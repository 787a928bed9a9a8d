"""Load numbers: one validator for every entry point, and near matches for "load not found"."""

from __future__ import annotations

import pytest

from services.errors import UserInputError
from services.tms.loadnumbers import LoadNumberError, clean_load_number, suggest_load_numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("L-1001", "L-1001"),
        ("  L-1001\t\n", "L-1001"),
        ("O'Brien-7", "O'Brien-7"),
        ('12"34', '12"34'),
        ("A\\B", "A\\B"),
        ("L\u20191001", "L\u20191001"),  # a curly apostrophe is a literal, escaped later by the QB layer
        ("Ладога-5 🚚", "Ладога-5 🚚"),
        ("L-" + "9" * 30, "L-" + "9" * 30),  # longer than QuickBooks' 21: the sync reports it
        ("X" * 64, "X" * 64),
    ],
)
def test_valid_load_numbers_are_trimmed_and_otherwise_kept(value, expected):
    assert clean_load_number(value) == expected


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        (None, ["must be text", "got null"]),
        (1001, ["must be text", "the number 1001"]),
        (True, ["must be text", "the boolean true"]),
        (["L-1"], ["must be text", "a list"]),
        ("", ["is empty"]),
        ("   ", ["is empty", "'   '"]),
        ("L-1\n003", ["a newline", "position 4", "'L-1\\n003'"]),
        ("L-1\t003", ["a tab", "'L-1\\t003'"]),
        ("L-1\x00", ["a NUL character", "'L-1\\x00'"]),
        ("L-1\r2", ["a carriage return"]),
        ("L-1\u200b2", ["U+200B"]),
        ("L-1\u20282", ["U+2028"]),
        ("X" * 65, ["too long", "65 characters", "at most 64"]),
    ],
)
def test_invalid_load_numbers_say_what_is_wrong(value, fragments):
    with pytest.raises(LoadNumberError) as caught:
        clean_load_number(value)
    assert isinstance(caught.value, UserInputError)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert message.startswith("load number ")
    assert "\n" not in message and "\t" not in message  # the value is shown safely
    for fragment in fragments:
        assert fragment in message


def test_a_very_long_value_is_shown_shortened():
    with pytest.raises(LoadNumberError) as caught:
        clean_load_number("L" * 5000)
    assert len(str(caught.value)) < 200
    assert "5000 characters" in str(caught.value)


KNOWN = ["L-1001", "L-1002", "L-2001", "X-9", "LOAD-77", "L-10010"]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("l1001", "L-1001"),
        ("L 1001", "L-1001"),
        ("1002", "L-1002"),
        ("L-1003", "L-1001"),
        ("load77", "LOAD-77"),
    ],
)
def test_suggestions_put_the_closest_first(typed, first):
    suggestions = suggest_load_numbers(typed, KNOWN)
    assert suggestions[0] == first
    assert len(suggestions) == len(set(suggestions))


def test_suggestions_respect_the_limit_and_need_some_likeness():
    assert len(suggest_load_numbers("L-100", KNOWN, limit=2)) == 2
    assert suggest_load_numbers("ZZZZZZZZ", KNOWN) == []
    assert suggest_load_numbers("L-1001", KNOWN, limit=0) == []
    assert suggest_load_numbers(None, KNOWN) == []
    assert suggest_load_numbers("   ", KNOWN) == []
    assert suggest_load_numbers("L-1001", iter(KNOWN))[0] == "L-1001"  # any iterable, read once
