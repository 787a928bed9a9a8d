"""QuickBooks invoice numbers (DocNumber) for loads whose own number does not fit.

A DocNumber holds at most 21 characters. A load keeps its TMS number; ``Load.qb_doc_number`` holds
the invoice number to use instead. ``clean_doc_number`` checks one a person typed; ``suggestions``
offers short forms: the load number without separators (cut to 21 characters), then a stable
hash-suffixed form when that is taken (by another load, another load's invoice number, or an
invoice already in QuickBooks).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.errors import UserInputError
from services.quickbooks.escape import UNSAFE_IN_QUERIES
from services.store.models import Load
from services.tms.loadnumbers import find_forbidden_character, show

DOC_NUMBER_MAX = 21
_HASH_LENGTH = 4
_LOAD = Load.__table__  # type: ignore[attr-defined]


def clean_doc_number(value: object) -> str:
    """A QuickBooks invoice number typed by a person, trimmed; ``UserInputError`` saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise UserInputError("the QuickBooks invoice number is empty")
    number = value.strip()
    bad = find_forbidden_character(number)
    if bad is not None:
        raise UserInputError(f"the QuickBooks invoice number contains {bad[1]}: {show(number)}")
    if any(ch in UNSAFE_IN_QUERIES for ch in number):
        raise UserInputError(f"the QuickBooks invoice number contains a curly quote: {show(number)}")
    if len(number) > DOC_NUMBER_MAX:
        raise UserInputError(
            f"the QuickBooks invoice number has {len(number)} characters, at most {DOC_NUMBER_MAX}: "
            f"{show(number)}"
        )
    return number


def compact(load_number: str) -> str:
    """The load number with separators (anything but letters and digits) dropped; a number with no
    letter or digit keeps its characters but curly quotes (never put in a query or an invoice number)
    and spaces, and one with nothing left becomes ``LOAD``."""
    return (
        "".join(ch for ch in load_number if ch.isalnum())
        or "".join(ch for ch in load_number if ch not in UNSAFE_IN_QUERIES and not ch.isspace())
        or "LOAD"
    )


def hashed(load_number: str, salt: int = 0) -> str:
    """A 21-character form ending in a hash of the whole load number: the same load, the same form."""
    key = load_number if not salt else f"{load_number}#{salt}"
    digest = base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()[:_HASH_LENGTH]
    return f"{compact(load_number)[: DOC_NUMBER_MAX - _HASH_LENGTH - 1]}-{digest}"


def candidates(load_number: str) -> list[str]:
    """Short forms to try, in order of preference, each at most 21 characters, without repeats."""
    forms = [compact(load_number)[:DOC_NUMBER_MAX]]
    forms += [hashed(load_number, salt) for salt in range(3)]
    seen: list[str] = []
    for form in forms:
        if len(form) <= DOC_NUMBER_MAX and form not in seen:
            seen.append(form)
    return seen


def suggestions(load_number: str, is_taken: Callable[[str], bool], limit: int = 1) -> list[str]:
    """Up to ``limit`` free short forms of ``load_number``, best first."""
    free: list[str] = []
    for form in candidates(load_number):
        if not is_taken(form):
            free.append(form)
            if len(free) >= limit:
                break
    return free


def used_by_other_loads(engine: Engine, number: str, load_id: int | None) -> str | None:
    """The load number of another load whose number or invoice number is ``number``, if any."""
    query = sa.select(_LOAD.c.load_number).where(
        sa.or_(_LOAD.c.load_number == number, _LOAD.c.qb_doc_number == number)
    )
    if load_id is not None:
        query = query.where(_LOAD.c.id != load_id)
    with engine.connect() as conn:
        return conn.execute(query.limit(1)).scalar()
