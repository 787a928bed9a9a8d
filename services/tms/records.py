"""What a valid TMS record is: the strict models of customers, charge codes and loads
(``CustomerRecord``, ``ChargeCodeRecord``, ``LoadRecord``), the checks of each field (text, email,
date, amount), the sections a document holds (``SECTIONS``, ``SPECS``) and ``clean_email`` for an
email typed by a person."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from services.catalogue import email_invalid
from services.errors import UserInputError
from services.tms.loadnumbers import (
    LoadNumberError,
    clean_load_number,
    describe_value,
    find_forbidden_character,
    show,
)

SECTIONS = ("customers", "charge_codes", "loads")
EVENT_ID = "event_id"  # a TMS event's own top-level field (not a section)
MAX_KEY_LENGTH = 64
MAX_EMAIL_LENGTH = 254
MAX_DESCRIPTION_LENGTH = 4000
MAX_AMOUNT = Decimal("9999999.99")
MIN_YEAR, MAX_YEAR = 1900, 2199
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- field validators


def reject(message: str) -> NoReturn:
    """Fail validation with ``message`` as is (braces in values are not format fields)."""
    raise PydanticCustomError("qbsync", "{message}", {"message": message})


def _not_a_string(what: str, value: object) -> str:
    hint = f', put it in quotes like "{value}"' if isinstance(value, int | float | Decimal) else ""
    if isinstance(value, bool):
        hint = ""
    return f"{what} must be a string, got {describe_value(value)}{hint}"


def _check_text(what: str, value: object, max_length: int, *, multiline: bool = False) -> str:
    """``value`` trimmed; it must be a non-empty string of at most ``max_length`` characters without
    control characters (newlines and tabs are allowed when ``multiline``)."""
    if not isinstance(value, str):
        reject(_not_a_string(what, value))
    text = value.strip()
    if not text:
        reject(f"{what} is empty")
    bad = find_forbidden_character(text, allowed="\n\r\t" if multiline else "")
    if bad is not None:
        reject(f"{what} contains {bad[1]} at position {bad[0] + 1}: {show(text)}")
    if len(text) > max_length:
        reject(f"{what} is too long: {len(text)} characters, at most {max_length}: {show(text)}")
    return text


def _text(what: str, max_length: int) -> BeforeValidator:
    """A validator for a required single-line text field."""
    return BeforeValidator(lambda value: _check_text(what, value, max_length))


def _description(value: object) -> str | None:
    """An optional, possibly multi-line description; blank means none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _check_text("description", value, MAX_DESCRIPTION_LENGTH, multiline=True)


def _load_number(value: object) -> str:
    try:
        return clean_load_number(value)
    except LoadNumberError as exc:
        reject(str(exc))


def _email(value: object) -> str | None:
    """A plausible email address, trimmed: one @, something before it, no spaces, a dot in the domain.
    Null or blank means no email."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    email = _check_text("qb_email", value, MAX_EMAIL_LENGTH)
    local, _, domain = email.partition("@")
    why = None
    if any(ch.isspace() for ch in email):
        why = "it contains a space"
    elif "@" not in email:
        why = "it has no @"
    elif email.count("@") > 1:
        why = "it has more than one @"
    elif not local:
        why = "nothing comes before the @"
    elif "." not in domain:
        why = "the domain after the @ has no dot"
    elif domain.startswith(".") or domain.endswith(".") or ".." in domain:
        why = "the domain after the @ is malformed"
    if why:
        reject(f"qb_email {show(email)} is not a plausible email address: {why}")
    return email


_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _invoice_date(value: object) -> dt.date:
    """A calendar date written ``YYYY-MM-DD``."""
    example = 'write it as YYYY-MM-DD, like "2026-11-20"'
    if not isinstance(value, str):
        reject(f"invoice_date must be a date string, {example}; got {describe_value(value)}")
    text = value.strip()
    if not _DATE_SHAPE.fullmatch(text):
        reject(f'invoice_date must be a date as YYYY-MM-DD, like "2026-11-20"; got {show(text)}')
    try:
        date = dt.date.fromisoformat(text)
    except ValueError as exc:
        reject(f"invoice_date {show(text)} is not a real date ({exc})")
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        reject(f"invoice_date {show(text)} is out of range (years {MIN_YEAR} to {MAX_YEAR})")
    return date


_AMOUNT_SHAPE = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)


def _amount(value: object) -> Decimal:
    """A money amount from a decimal string: plain digits, at most 2 decimal places, not negative,
    at most ``MAX_AMOUNT``. JSON numbers are refused: a float cannot be trusted to hold cents."""
    example = 'amount must be a decimal string like "850.00"'
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        reject(f"{example}, got the number {value}; put it in quotes")
    if not isinstance(value, str):
        reject(f"{example}, got {describe_value(value)}")
    text = value.strip()
    if not text:
        reject(f"{example}, got an empty string")
    if not _AMOUNT_SHAPE.fullmatch(text):
        reject(_amount_shape_message(text, example))
    amount = Decimal(text)
    if amount < 0:
        reject(f"amount must not be negative, got {show(text)}")
    if amount > MAX_AMOUNT:
        reject(f"amount {show(text)} is too large (at most {MAX_AMOUNT})")
    if amount != amount.quantize(CENT):
        reject(f"amount {show(text)} has more than 2 decimal places")
    return amount.quantize(CENT)


def _amount_shape_message(text: str, example: str) -> str:
    """Why ``text`` is not a plain decimal: not finite, exponent notation, or something else."""
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        plain = "digits and one decimal point, no currency sign or thousands separator"
        return f"{example} ({plain}), got {show(text)}"
    if not parsed.is_finite():
        return f'amount must be a finite number like "850.00", got {show(text)}'
    return f'amount must be written with plain digits like "850.00", not {show(text)}'


Key = Annotated[str, _text("value", MAX_KEY_LENGTH)]


# --------------------------------------------------------------------------- record models


class Record(BaseModel):
    """Strict: no type coercion, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CustomerRecord(Record):
    """A TMS customer. An absent ``qb_email`` keeps the stored one; null or blank clears it."""

    id: Annotated[str, _text("id", MAX_KEY_LENGTH)]
    name: Annotated[str, _text("name", 200)]
    qb_email: Annotated[str | None, BeforeValidator(_email)] = None


class ChargeCodeRecord(Record):
    """A TMS charge code."""

    code: Annotated[str, _text("code", MAX_KEY_LENGTH)]
    name: Annotated[str, _text("name", 100)]


class ChargeRecord(Record):
    """One charge line of a load."""

    code: Annotated[str, _text("code", MAX_KEY_LENGTH)]
    description: Annotated[str | None, BeforeValidator(_description)] = None
    amount: Annotated[Decimal, BeforeValidator(_amount)]


class LoadRecord(Record):
    """A load and its invoice lines."""

    load_number: Annotated[str, BeforeValidator(_load_number)]
    customer_id: Annotated[str, _text("customer_id", MAX_KEY_LENGTH)]
    invoice_date: Annotated[dt.date, BeforeValidator(_invoice_date)]
    charges: list[ChargeRecord]

    @field_validator("charges")
    @classmethod
    def _at_least_one(cls, charges: list[ChargeRecord]) -> list[ChargeRecord]:
        if not charges:
            reject("a load needs at least one charge")
        return charges


@dataclass(frozen=True)
class SectionSpec:
    name: str
    model: type[Record]
    key: str
    noun: str


SPECS = {
    "customers": SectionSpec("customers", CustomerRecord, "id", "customer"),
    "charge_codes": SectionSpec("charge_codes", ChargeCodeRecord, "code", "charge code"),
    "loads": SectionSpec("loads", LoadRecord, "load_number", "load"),
}


def clean_email(value: object) -> str:
    """A QuickBooks email typed by a person (e.g. a fix): the import's rules; ``UserInputError`` if bad."""
    try:
        email = _email(value)
    except PydanticCustomError as exc:
        raise UserInputError(email_invalid(exc.message())) from None
    if email is None:
        raise UserInputError("the email is empty")
    return email
