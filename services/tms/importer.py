"""Importing TMS data: customers, charge codes and loads, from a JSON file or an already-parsed object.

The import is all or nothing. Every record is validated first (strict models: wrong types and unknown
fields are errors), then duplicate keys and references are checked, and only a document without a
single problem is written, in one transaction. A bad document raises ``ImportFileError`` listing every
problem, each naming the record and the field.

A file is streamed (``services.tms.stream``): the checking pass holds one record at a time and keeps
only problems and keys; the writing pass reads the records again and writes them ``WRITE_CHUNK`` at a
time (chunked ``IN`` reads of the stored rows, one executemany per kind of change), still in the one
transaction, so memory does not grow with the number of loads beyond their keys.

Records are upserted by key: customers by ``id``, charge codes by ``code``, loads by ``load_number``.
Only the TMS-side columns are written; QuickBooks ids, the sync columns and a load's QuickBooks invoice
number override are left alone. A dismissed load that the TMS changes comes back (restored, audited).
A row whose values are already those of the file is not rewritten, so importing the same file twice
changes nothing the second time.

A TMS event (``POST /tms/events``, ``event_at`` given: its signed timestamp) is imported the same way,
with two differences. Its top-level ``"event_id"`` (optional; a file may not carry one) is accepted
once: it is stored in the same transaction as the write, so a second delivery, even a concurrent one,
fails on the unique key and writes nothing (``DuplicateEventError``); ids are kept ``EVENT_IDS_KEPT``.
And each customer, charge code and load keeps the timestamp of the newest event applied to it: a
record of an older event is skipped (``ImportSummary.skipped_older``), the event's other records are
written. An import of a file is not an event: it overwrites whatever the events wrote, as always.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from services.catalogue import email_invalid, restored_by_import_text
from services.errors import QbsyncError, UserInputError
from services.store.models import (
    ChargeCode,
    ChargeLine,
    Customer,
    FixAudit,
    Load,
    TmsEvent,
    TmsRecordEvent,
    utcnow,
)
from services.store.storage import immediate_transaction
from services.tms.loadnumbers import (
    LoadNumberError,
    clean_load_number,
    describe_value,
    find_forbidden_character,
    show,
)
from services.tms.stream import NotStreamable, StreamedDocument

log = logging.getLogger(__name__)

SECTIONS = ("customers", "charge_codes", "loads")
EVENT_ID = "event_id"  # a TMS event's own top-level field (not a section)
MAX_EVENT_ID_LENGTH = 200
EVENT_IDS_KEPT = dt.timedelta(hours=24)  # far past the ±5 minutes a signed event is valid
MAX_KEY_LENGTH = 64
MAX_EMAIL_LENGTH = 254
MAX_DESCRIPTION_LENGTH = 4000
MAX_AMOUNT = Decimal("9999999.99")
MIN_YEAR, MAX_YEAR = 1900, 2199
MAX_PROBLEMS_SHOWN = 50
QUERY_CHUNK = 500
WRITE_CHUNK = 2000  # records validated and written together
ANALYZE_AFTER = 1000  # new rows after which PostgreSQL statistics are refreshed
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- problems and errors


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import. ``record`` is e.g. ``"loads[2] (L-1003)"`` or ``"customers"``
    (empty for the document as a whole); ``field`` is e.g. ``"charges[0].amount"`` or ``None``."""

    record: str
    field: str | None
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.record, self.field, self.message) if part)


class ImportFileError(UserInputError):
    """The data cannot be imported; nothing was written. ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ImportProblem], source: str = "import") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(_problems_message(self.problems, source))


class DuplicateEventError(QbsyncError):
    """A TMS event whose ``event_id`` was applied before; nothing was written."""

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"event_id {show(event_id)} was received before; nothing was written")


def _problems_message(problems: Sequence[ImportProblem], source: str) -> str:
    """One line for a single problem; otherwise a count, then one problem per line (capped)."""
    head = f"nothing was imported from {source}"
    if len(problems) == 1:
        return f"{head}: {problems[0]}"
    lines = [f"{head}: {len(problems)} problems"]
    lines += [f"  {problem}" for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")
    return "\n".join(lines)


class _Problems:
    """Collects problems in document order (section, then record position)."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple[int, int], int, ImportProblem]] = []

    def add(self, record: str, field: str | None, message: str, *, order: tuple[int, int] = (-1, 0)) -> None:
        self._items.append((order, len(self._items), ImportProblem(record, field, message)))

    def __bool__(self) -> bool:
        return bool(self._items)

    def sorted(self) -> list[ImportProblem]:
        return [problem for _, _, problem in sorted(self._items, key=lambda item: item[:2])]


# --------------------------------------------------------------------------- summary


@dataclass
class SectionCounts:
    """How many records of one section were created, updated, or already up to date."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportSummary:
    """What an import did. ``customer_changed`` lists the load numbers whose customer this import
    changed after their invoice was synced to another customer (the sync reports ``customer_changed``)."""

    source: str
    customers: SectionCounts = field(default_factory=SectionCounts)
    charge_codes: SectionCounts = field(default_factory=SectionCounts)
    loads: SectionCounts = field(default_factory=SectionCounts)
    customer_changed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # dismissed loads changed by this import
    written: list[str] = field(default_factory=list)  # loads created or changed (not in the JSON)
    # TMS events: per section, the keys left alone because a newer event was applied to them
    skipped_older: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether anything was created or updated."""
        return any(counts.created or counts.updated for counts in self.sections().values())

    def sections(self) -> dict[str, SectionCounts]:
        return {"customers": self.customers, "charge_codes": self.charge_codes, "loads": self.loads}

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values."""
        result: dict[str, Any] = {name: counts.as_dict() for name, counts in self.sections().items()}
        result["customer_changed"] = list(self.customer_changed)
        if self.restored:
            result["restored"] = list(self.restored)
        if self.skipped_older:
            result["skipped_older"] = {name: list(keys) for name, keys in self.skipped_older.items()}
        return result


# --------------------------------------------------------------------------- field validators


def _reject(message: str) -> NoReturn:
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
        _reject(_not_a_string(what, value))
    text = value.strip()
    if not text:
        _reject(f"{what} is empty")
    bad = find_forbidden_character(text, allowed="\n\r\t" if multiline else "")
    if bad is not None:
        _reject(f"{what} contains {bad[1]} at position {bad[0] + 1}: {show(text)}")
    if len(text) > max_length:
        _reject(f"{what} is too long: {len(text)} characters, at most {max_length}: {show(text)}")
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
        _reject(str(exc))


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
        _reject(f"qb_email {show(email)} is not a plausible email address: {why}")
    return email


_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _invoice_date(value: object) -> dt.date:
    """A calendar date written ``YYYY-MM-DD``."""
    example = 'write it as YYYY-MM-DD, like "2026-11-20"'
    if not isinstance(value, str):
        _reject(f"invoice_date must be a date string, {example}; got {describe_value(value)}")
    text = value.strip()
    if not _DATE_SHAPE.fullmatch(text):
        _reject(f'invoice_date must be a date as YYYY-MM-DD, like "2026-11-20"; got {show(text)}')
    try:
        date = dt.date.fromisoformat(text)
    except ValueError as exc:
        _reject(f"invoice_date {show(text)} is not a real date ({exc})")
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        _reject(f"invoice_date {show(text)} is out of range (years {MIN_YEAR} to {MAX_YEAR})")
    return date


_AMOUNT_SHAPE = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)


def _amount(value: object) -> Decimal:
    """A money amount from a decimal string: plain digits, at most 2 decimal places, not negative,
    at most ``MAX_AMOUNT``. JSON numbers are refused: a float cannot be trusted to hold cents."""
    example = 'amount must be a decimal string like "850.00"'
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        _reject(f"{example}, got the number {value}; put it in quotes")
    if not isinstance(value, str):
        _reject(f"{example}, got {describe_value(value)}")
    text = value.strip()
    if not text:
        _reject(f"{example}, got an empty string")
    if not _AMOUNT_SHAPE.fullmatch(text):
        _reject(_amount_shape_message(text, example))
    amount = Decimal(text)
    if amount < 0:
        _reject(f"amount must not be negative, got {show(text)}")
    if amount > MAX_AMOUNT:
        _reject(f"amount {show(text)} is too large (at most {MAX_AMOUNT})")
    if amount != amount.quantize(CENT):
        _reject(f"amount {show(text)} has more than 2 decimal places")
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


class _Record(BaseModel):
    """Strict: no type coercion, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CustomerRecord(_Record):
    """A TMS customer. An absent ``qb_email`` keeps the stored one; null or blank clears it."""

    id: Annotated[str, _text("id", MAX_KEY_LENGTH)]
    name: Annotated[str, _text("name", 200)]
    qb_email: Annotated[str | None, BeforeValidator(_email)] = None


class ChargeCodeRecord(_Record):
    """A TMS charge code."""

    code: Annotated[str, _text("code", MAX_KEY_LENGTH)]
    name: Annotated[str, _text("name", 100)]


class ChargeRecord(_Record):
    """One charge line of a load."""

    code: Annotated[str, _text("code", MAX_KEY_LENGTH)]
    description: Annotated[str | None, BeforeValidator(_description)] = None
    amount: Annotated[Decimal, BeforeValidator(_amount)]


class LoadRecord(_Record):
    """A load and its invoice lines."""

    load_number: Annotated[str, BeforeValidator(_load_number)]
    customer_id: Annotated[str, _text("customer_id", MAX_KEY_LENGTH)]
    invoice_date: Annotated[dt.date, BeforeValidator(_invoice_date)]
    charges: list[ChargeRecord]

    @field_validator("charges")
    @classmethod
    def _at_least_one(cls, charges: list[ChargeRecord]) -> list[ChargeRecord]:
        if not charges:
            _reject("a load needs at least one charge")
        return charges


@dataclass(frozen=True)
class _SectionSpec:
    name: str
    model: type[_Record]
    key: str
    noun: str


_SPECS = {
    "customers": _SectionSpec("customers", CustomerRecord, "id", "customer"),
    "charge_codes": _SectionSpec("charge_codes", ChargeCodeRecord, "code", "charge code"),
    "loads": _SectionSpec("loads", LoadRecord, "load_number", "load"),
}


@dataclass(frozen=True)
class _Reference:
    """A key a load refers to: its customer, or one charge's code."""

    order: tuple[int, int]
    record: str
    field: str
    kind: str  # "customers" or "charge_codes"
    key: str


# --------------------------------------------------------------------------- validating the document
#
# A document is read as sections of records, one record at a time (``_Sections``): from a parsed
# object, or streamed from a file. The validation pass keeps only problems, the keys of each section and
# the keys the loads refer to; the write pass reads the records again and writes them in chunks.


class _Sections:
    """``sections()`` yields ``(name, records, value)``: ``records`` iterates a list section, else it
    is ``None`` and ``value`` is the section's value. Each call starts again from the beginning."""

    def sections(self) -> Iterator[tuple[str, Iterator[Any] | None, Any]]:
        raise NotImplementedError


class _ParsedSections(_Sections):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def sections(self) -> Iterator[tuple[str, Iterator[Any] | None, Any]]:
        for name, value in self._data.items():
            yield name, (iter(value) if isinstance(value, list) else None), value


@dataclass
class _Checked:
    """What the validation pass found: problems, the keys of every record of each section (valid or
    not), the keys the loads refer to, and top-level keys given twice."""

    problems: _Problems = field(default_factory=_Problems)
    keys: dict[str, set[str]] = field(default_factory=dict)
    wanted: dict[str, set[str]] = field(default_factory=lambda: {"customers": set(), "charge_codes": set()})
    repeated_sections: list[str] = field(default_factory=list)
    event_id: str | None = None


def _check_document(document: _Sections, *, event: bool = False) -> _Checked:
    """Validate the shape, every record and duplicate keys (no database needed). A TMS ``event`` may
    carry an ``event_id``."""
    checked = _Checked()
    seen: set[str] = set()
    for position, (name, records, value) in enumerate(document.sections()):
        if name in seen:
            checked.repeated_sections.append(name)
        seen.add(name)
        if event and name == EVENT_ID:
            try:
                checked.event_id = _event_id(value if records is None else [])
            except PydanticCustomError as exc:
                checked.problems.add("", EVENT_ID, exc.message(), order=(-2, position))
            continue
        if name not in _SPECS:
            checked.problems.add("", None, _unknown_section_message(name, event), order=(-2, position))
            continue
        rank = SECTIONS.index(name)
        if records is None:
            message = f"must be a list of records, got {describe_value(value)}"
            checked.problems.add(name, None, message, order=(-1, rank))
            continue
        checked.keys[name] = _check_section(_SPECS[name], rank, records, checked)
    return checked


def _check_section(spec: _SectionSpec, rank: int, records: Iterator[Any], checked: _Checked) -> set[str]:
    """Validate each record of one section and report keys that occur twice. Returns the keys of all
    records."""
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(records):
        label = _label(spec, index, raw)
        order = (rank, index)
        try:
            spec.model.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                checked.problems.add(
                    label, _field_path(error["loc"]), _error_message(spec, error), order=order
                )
        if spec.name == "loads":
            for ref in _references_of(rank, index, raw):
                checked.wanted[ref.kind].add(ref.key)
        key = _raw_key(raw, spec.key)
        if key is None:
            continue
        if key in first_seen:
            message = f"duplicate {spec.key} {show(key)}, also at {spec.name}[{first_seen[key]}]"
            checked.problems.add(label, spec.key, message, order=order)
        else:
            first_seen[key] = index
    return set(first_seen)


def _event_id(value: object) -> str:
    """A TMS event's id: a string of 1 to ``MAX_EVENT_ID_LENGTH`` characters, kept as sent (no
    control characters)."""
    if not isinstance(value, str):
        _reject(f"must be a string of 1 to {MAX_EVENT_ID_LENGTH} characters, got {describe_value(value)}")
    if not value:
        _reject("must not be empty")
    if len(value) > MAX_EVENT_ID_LENGTH:
        _reject(f"is too long: {len(value)} characters, at most {MAX_EVENT_ID_LENGTH}: {show(value)}")
    bad = find_forbidden_character(value)
    if bad is not None:
        _reject(f"contains {bad[1]} at position {bad[0] + 1}: {show(value)}")
    return value


def _unknown_section_message(name: object, event: bool = False) -> str:
    message = f"unknown section {show(str(name))}"
    if name == EVENT_ID:
        sections = ", ".join(SECTIONS)
        where = "an event_id belongs to TMS events sent to POST /tms/events"
        return f"{message} ({where}; the sections are {sections})"
    guess = _closest(str(name), (*SECTIONS, EVENT_ID) if event else SECTIONS)
    hint = f"did you mean {guess!r}? " if guess else ""
    return f"{message} ({hint}the sections are {', '.join(SECTIONS)})"


def _raw_key(raw: Any, name: str) -> str | None:
    """The trimmed key of a raw record when it is a non-empty string (valid or not otherwise)."""
    value = raw.get(name) if isinstance(raw, dict) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _label(spec: _SectionSpec, index: int, raw: Any) -> str:
    """``loads[2] (L-1003)``: the position, and the key when the record has a readable one (a key
    with a control character or too long is shown only in the message about it)."""
    position = f"{spec.name}[{index}]"
    key = _raw_key(raw, spec.key)
    if key is None or len(key) > MAX_KEY_LENGTH or find_forbidden_character(key) is not None:
        return position
    return f"{position} ({key})"


def _references_of(rank: int, index: int, raw: Any) -> Iterator[_Reference]:
    """The customer and charge codes one load names, from the raw data (also for an invalid load, so
    that a missing reference is reported together with the load's other problems)."""
    if not isinstance(raw, dict):
        return
    label = _label(_SPECS["loads"], index, raw)
    customer = _raw_key(raw, "customer_id")
    if customer is not None:
        yield _Reference((rank, index), label, "customer_id", "customers", customer)
    charges = raw.get("charges")
    if not isinstance(charges, list):
        return
    for position, charge in enumerate(charges):
        code = _raw_key(charge, "code")
        if code is not None:
            yield _Reference((rank, index), label, f"charges[{position}].code", "charge_codes", code)


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    """``("charges", 0, "amount")`` → ``"charges[0].amount"``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _error_message(spec: _SectionSpec, error: Any) -> str:
    """A plain-words message for one pydantic error."""
    kind, value, loc = error["type"], error.get("input"), error["loc"]
    if kind == "qbsync":
        return error["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field_message(spec, loc)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        noun = "a charge" if loc and loc[0] == "charges" else f"a {spec.noun}"
        return f"{noun} must be an object, got {describe_value(value)}"
    if kind == "list_type":
        return f"must be a list, got {describe_value(value)}"
    return str(error["msg"])


def _unknown_field_message(spec: _SectionSpec, loc: tuple[int | str, ...]) -> str:
    model: type[_Record] = ChargeRecord if len(loc) > 1 and loc[0] == "charges" else spec.model
    noun = "a charge" if model is ChargeRecord else f"a {spec.noun}"
    allowed = list(model.model_fields)
    guess = _closest(str(loc[-1]), allowed)
    hint = f"did you mean {guess!r}? " if guess else ""
    return f"unknown field ({hint}the fields of {noun} are {', '.join(allowed)})"


def _closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice ``name`` was probably meant to be (``customerId`` → ``customer_id``)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_").strip()
    matches = difflib.get_close_matches(snake, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


# --------------------------------------------------------------------------- import


def import_data(
    engine: Engine, data: Any, *, source: str = "import", event_at: dt.datetime | None = None
) -> ImportSummary:
    """Validate ``data`` (a parsed JSON document) completely, then upsert it in one transaction.

    Raises ``ImportFileError`` listing every problem, with nothing written, when anything is wrong.
    ``event_at`` makes it a TMS event signed at that time (``event_id``, older records skipped).
    """
    if not isinstance(data, dict):
        sections = ", ".join(f'"{name}": [...]' for name in SECTIONS)
        message = f"the data must be a JSON object like {{{sections}}}, got {describe_value(data)}"
        raise ImportFileError([ImportProblem("", None, message)], source)
    document = _ParsedSections(data)
    return _import(engine, document, _check_document(document, event=event_at is not None), source, event_at)


def import_stream(
    engine: Engine, stream: BinaryIO, *, source: str = "import", event_at: dt.datetime | None = None
) -> ImportSummary:
    """Import the JSON document read from ``stream`` (binary, seekable), one record at a time: the
    memory used does not grow with the number of records (beyond their keys). Checked and written
    exactly as ``import_data`` does it; a file that is not well-formed JSON is read whole to say why."""
    duplicates: list[str] = []
    try:
        checked = _check_document(
            StreamedDocument(stream, lambda: _strict_decoder(duplicates)), event=event_at is not None
        )
    except NotStreamable:
        stream.seek(0)
        return import_data(engine, parse_json(stream.read(), source), source=source, event_at=event_at)
    for name in checked.repeated_sections:  # the outer object is the last one the parser completes
        if len(duplicates) < MAX_PROBLEMS_SHOWN:
            duplicates.append(name)
    if duplicates:
        raise ImportFileError(_duplicate_problems(duplicates), source)
    return _import(engine, StreamedDocument(stream, lambda: _strict_decoder([])), checked, source, event_at)


def _import(
    engine: Engine, document: _Sections, checked: _Checked, source: str, event_at: dt.datetime | None = None
) -> ImportSummary:
    """Check the references in the database, then write, all in one transaction (with a TMS event's
    id, so that a second delivery of it fails on the unique key)."""
    try:
        with immediate_transaction(engine) as conn:
            if event_at is not None:
                _record_event(conn, checked.event_id, event_at)
            _check_references(conn, document, checked)
            if checked.problems:
                raise ImportFileError(checked.problems.sorted(), source)
            summary = _write(conn, document, checked, source, event_at)
    except sa.exc.IntegrityError as exc:
        raise QbsyncError(
            f"the import from {source} conflicted with a concurrent change and was rolled back; "
            f"run it again ({type(exc.orig).__name__})"
        ) from exc
    log.info("imported from %s: %s", source, summary.as_dict())
    return summary


def _record_event(conn: Connection, event_id: str | None, event_at: dt.datetime) -> None:
    """Forget the event ids older than ``EVENT_IDS_KEPT``, then store this one: an id stored already
    (or being stored by a concurrent delivery, which this insert waits for) is refused."""
    now = utcnow()
    conn.execute(TMS_EVENTS.delete().where(TMS_EVENTS.c.received_at < now - EVENT_IDS_KEPT))
    if event_id is None:
        return
    try:
        conn.execute(TMS_EVENTS.insert().values(event_id=event_id, event_at=event_at, received_at=now))
    except sa.exc.IntegrityError as exc:
        raise DuplicateEventError(event_id) from exc


def import_file(engine: Engine, path_or_dash: str | Path, *, stdin: BinaryIO | None = None) -> ImportSummary:
    """Import a JSON file; ``"-"`` reads standard input (or ``stdin`` when given), kept in a
    temporary file while it is read."""
    source, stream = open_source(path_or_dash, stdin)
    with stream:
        return import_stream(engine, stream, source=source)


def open_source(path_or_dash: str | Path, stdin: BinaryIO | None = None) -> tuple[str, BinaryIO]:
    """The name to show and a private, seekable copy of a file, or of standard input for ``"-"``: the
    import reads it twice (check, then write), and a file edited in between must not change what is
    written after the check."""
    if str(path_or_dash) == "-":
        return "standard input", _private_copy(stdin if stdin is not None else sys.stdin.buffer)
    path = Path(path_or_dash)
    try:
        if path.is_dir():
            raise IsADirectoryError
        with path.open("rb") as original:
            return str(path), _private_copy(original)
    except FileNotFoundError:
        reason = "the file does not exist"
    except IsADirectoryError:
        reason = "it is a directory, not a file"
    except PermissionError:
        reason = "permission denied"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise ImportFileError([ImportProblem("", None, reason)], str(path))


def _private_copy(source: BinaryIO) -> BinaryIO:
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    shutil.copyfileobj(source, spooled)
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


class _JsonConstantError(ValueError):
    pass


class _JsonNumberTooLong(ValueError):
    pass


def _parse_int(text: str) -> int:
    """A JSON integer; one longer than Python converts (4,300 digits by default) is refused as bad input."""
    digits = len(text.lstrip("-"))
    limit = sys.get_int_max_str_digits()
    if limit and digits > limit:
        raise _JsonNumberTooLong(f"a number has {digits:,} digits")
    return int(text)


def parse_json(raw: bytes, source: str = "import") -> Any:
    """Decode UTF-8 (a BOM is allowed) and parse JSON strictly: no NaN/Infinity, no key twice in an
    object. Raises ``ImportFileError`` saying where the problem is."""

    def fail(message: str) -> NoReturn:
        raise ImportFileError([ImportProblem("", None, message)], source)

    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        empty = {"standard input": "standard input is empty", "webhook": "the request's body is empty"}
        fail(empty.get(source, "the file is empty"))
    text = _decode(raw, fail)
    duplicates: list[str] = []
    try:
        data = _strict_decoder(duplicates).decode(text)
    except json.JSONDecodeError as exc:
        fail(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    except _JsonConstantError as exc:
        fail(f'not valid JSON: {exc} is not a JSON value (write amounts as strings like "850.00")')
    except _JsonNumberTooLong as exc:
        fail(f'{exc}, too many to read (write amounts as strings like "850.00")')
    except RecursionError:
        fail("not valid JSON: nested too deeply")
    if duplicates:
        raise ImportFileError(_duplicate_problems(duplicates), source)
    return data


def _strict_decoder(duplicates: list[str]) -> json.JSONDecoder:
    """The JSON decoder of imports: amounts never become floats, no NaN/Infinity, no integer longer
    than Python reads, and the keys found twice in one object are added to ``duplicates``."""
    return json.JSONDecoder(
        parse_float=Decimal,
        parse_int=_parse_int,
        parse_constant=_refuse_constant,
        object_pairs_hook=lambda pairs: _unique_object(pairs, duplicates),
    )


def _duplicate_problems(duplicates: Sequence[str]) -> list[ImportProblem]:
    return [ImportProblem("", None, f"an object has the key {key!r} more than once") for key in duplicates]


def _decode(raw: bytes, fail: Callable[[str], NoReturn]) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail("the file is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        fail(f"the file is not UTF-8 text: byte 0x{byte} at line {line}, column {column}; save it as UTF-8")


def _refuse_constant(name: str) -> NoReturn:
    raise _JsonConstantError(name)


def _unique_object(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result and len(duplicates) < MAX_PROBLEMS_SHOWN:
            duplicates.append(key)
        result[key] = value
    return result


# --------------------------------------------------------------------------- database side
#
# Plain SQL statements over the model's tables: tens of thousands of loads are read in a few chunked
# IN queries and written with one executemany per kind of change.

CUSTOMERS: sa.Table = Customer.__table__  # type: ignore[attr-defined]
CHARGE_CODES: sa.Table = ChargeCode.__table__  # type: ignore[attr-defined]
LOADS: sa.Table = Load.__table__  # type: ignore[attr-defined]
CHARGE_LINES: sa.Table = ChargeLine.__table__  # type: ignore[attr-defined]
FIX_AUDIT: sa.Table = FixAudit.__table__  # type: ignore[attr-defined]
TMS_EVENTS: sa.Table = TmsEvent.__table__  # type: ignore[attr-defined]
RECORD_EVENTS: sa.Table = TmsRecordEvent.__table__  # type: ignore[attr-defined]


def _chunks(keys: Iterable[Any]) -> Iterator[list[Any]]:
    batch = sorted(set(keys))
    for start in range(0, len(batch), QUERY_CHUNK):
        yield batch[start : start + QUERY_CHUNK]


def _rows_by_key(conn: Connection, key: sa.Column, columns: Sequence[sa.Column], keys: Iterable[Any]):
    """``{key: row}`` for the stored rows whose ``key`` is one of ``keys``, in chunked IN queries."""
    found: dict[Any, sa.Row] = {}
    for chunk in _chunks(keys):
        for row in conn.execute(sa.select(key, *columns).where(key.in_(chunk))):
            found[row[0]] = row
    return found


def _model_defaults(model: type[SQLModel], **required: Any) -> dict[str, Any]:
    """The values a new ``model`` row gets from the model's own defaults (e.g. a load's state), for
    every column without a database-side default or a value of its own."""
    instance = model(**required)
    return {
        column.name: getattr(instance, column.name)
        for column in model.__table__.columns  # type: ignore[attr-defined]
        if column.default is None and not column.primary_key and column.name not in required
    }


@dataclass
class _Stored:
    """The stored rows the document's records will update: ``(key, …)`` rows and charge lines."""

    customers: dict[str, sa.Row]
    charge_codes: dict[str, sa.Row]
    loads: dict[str, sa.Row]
    lines: dict[int, list[tuple[str, str | None, Decimal]]]

    @classmethod
    def fetch_loads(cls, conn: Connection, records: Sequence[LoadRecord]) -> _Stored:
        """The stored loads of ``records`` and their charge lines."""
        loads = _rows_by_key(
            conn,
            LOADS.c.load_number,
            [
                LOADS.c.id,
                LOADS.c.customer_id,
                LOADS.c.invoice_date,
                LOADS.c.qb_invoice_id,
                LOADS.c.synced_customer_id,
                LOADS.c.dismissed_at,
                LOADS.c.dismissed_by,
                LOADS.c.dismissed_reason,
            ],
            (record.load_number for record in records),
        )
        lines = _charge_lines_of(conn, (row.id for row in loads.values()))
        return cls(customers={}, charge_codes={}, loads=loads, lines=lines)


def _charge_lines_of(
    conn: Connection, load_ids: Iterable[int]
) -> dict[int, list[tuple[str, str | None, Decimal]]]:
    """The stored charge lines of each load, in position order, as ``(code, description, amount)``."""
    lines: dict[int, list[tuple[str, str | None, Decimal]]] = {}
    columns = [CHARGE_LINES.c.load_id, CHARGE_LINES.c.code, CHARGE_LINES.c.description, CHARGE_LINES.c.amount]
    for chunk in _chunks(load_ids):
        query = (
            sa.select(*columns)
            .where(CHARGE_LINES.c.load_id.in_(chunk))
            .order_by(CHARGE_LINES.c.load_id, CHARGE_LINES.c.position)
        )
        for load_id, code, description, amount in conn.execute(query):
            lines.setdefault(load_id, []).append((code, description, amount))
    return lines


def _existing_keys(conn: Connection, column: sa.Column, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` exist in ``column``."""
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(conn.scalars(sa.select(column).where(column.in_(chunk))))
    return found


def _check_references(conn: Connection, document: _Sections, checked: _Checked) -> None:
    """Every load's customer and charge codes must be in the file or already in the database.

    Keys of records in the file that failed validation count as present: their own problem is
    reported, not a second, misleading "not found". Only when a key is missing are the loads read
    again, to name each one that refers to it."""
    in_file = {kind: checked.keys.get(kind, set()) for kind in ("customers", "charge_codes")}
    columns = {"customers": CUSTOMERS.c.id, "charge_codes": CHARGE_CODES.c.code}
    missing = {}
    for kind, column in columns.items():
        wanted = checked.wanted[kind] - in_file[kind]
        missing[kind] = wanted - _existing_keys(conn, column, wanted)
    if not any(missing.values()):
        return
    rank = SECTIONS.index("loads")
    for name, records, _ in document.sections():
        if name != "loads" or records is None:
            continue
        for index, raw in enumerate(records):
            for ref in _references_of(rank, index, raw):
                if ref.key in missing[ref.kind]:
                    message = f"{_SPECS[ref.kind].noun} {show(ref.key)} is not in this file or the database"
                    checked.problems.add(ref.record, ref.field, message, order=ref.order)


def _write(
    conn: Connection, document: _Sections, checked: _Checked, source: str, event_at: dt.datetime | None = None
) -> ImportSummary:
    """Upsert the validated document: customers and charge codes first, then loads, each section in
    chunks of ``WRITE_CHUNK`` records read again from the document. Sections the document holds in
    another order are written in a further pass, so that a load never comes before its customer.
    For a TMS event (``event_at``), the records a newer event was applied to are left alone."""
    summary = ImportSummary(source=source)
    pending = [name for name in SECTIONS if name in checked.keys]
    while pending:
        left = len(pending)
        for name, records, _ in document.sections():
            if records is None or not pending or name != pending[0]:
                continue  # a section written already, or one whose turn has not come (read past it)
            pending.pop(0)
            spec = _SPECS[name]
            for chunk in _batched(records, WRITE_CHUNK):
                validated = [spec.model.model_validate(raw) for raw in chunk]
                if event_at is not None:
                    validated = _not_older(conn, spec, validated, event_at, summary)
                _write_chunk(conn, spec, validated, summary, source)
        if len(pending) == left:
            raise QbsyncError(f"the import from {source} changed while it was read; nothing was written")
    _refresh_statistics(conn, summary)
    return summary


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_chunk(
    conn: Connection, spec: _SectionSpec, records: list[Any], summary: ImportSummary, source: str
) -> None:
    if spec.name == "customers":
        stored = _rows_by_key(
            conn, CUSTOMERS.c.id, [CUSTOMERS.c.name, CUSTOMERS.c.qb_email], (r.id for r in records)
        )
        _write_customers(conn, records, stored, summary.customers)
    elif spec.name == "charge_codes":
        stored = _rows_by_key(conn, CHARGE_CODES.c.code, [CHARGE_CODES.c.name], (r.code for r in records))
        _write_charge_codes(conn, records, stored, summary.charge_codes)
    else:
        loads = _Stored.fetch_loads(conn, records)
        summary.customer_changed += _write_loads(conn, records, loads, summary.loads, summary.written)
        summary.restored += _restore_changed_dismissed(conn, records, loads, source)


def _not_older(
    conn: Connection, spec: _SectionSpec, records: list[Any], event_at: dt.datetime, summary: ImportSummary
) -> list[Any]:
    """The records of a TMS event signed at ``event_at`` that no newer event was applied to; their
    timestamps move to ``event_at`` (one upsert per chunk, which also locks them until the commit, so
    two concurrent events on one record apply in order). The others are added to
    ``summary.skipped_older``."""
    applied: set[str] = set()
    insert = _upsert_insert(conn)
    statement = insert.on_conflict_do_update(
        index_elements=[RECORD_EVENTS.c.kind, RECORD_EVENTS.c.key],
        set_={"event_at": insert.excluded.event_at},
        where=RECORD_EVENTS.c.event_at <= insert.excluded.event_at,
    ).returning(RECORD_EVENTS.c.key)
    for chunk in _chunks(getattr(record, spec.key) for record in records):
        rows = [{"kind": spec.name, "key": key, "event_at": event_at} for key in chunk]
        applied.update(conn.scalars(statement.values(rows)))
    skipped = [getattr(record, spec.key) for record in records if getattr(record, spec.key) not in applied]
    if skipped:
        summary.skipped_older.setdefault(spec.name, []).extend(skipped)
    return [record for record in records if getattr(record, spec.key) in applied]


def _upsert_insert(conn: Connection) -> Any:
    """``INSERT … ON CONFLICT`` of the record timestamps in this database's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(RECORD_EVENTS)


def _refresh_statistics(conn: Connection, summary: ImportSummary) -> None:
    """After a large first import, let PostgreSQL know the tables are no longer empty.

    Until autovacuum gets to them, the planner still believes the new tables are tiny, and the
    chunked IN queries of the next import (prepared after a few runs) scan them sequentially."""
    created = summary.customers.created + summary.loads.created
    if conn.dialect.name != "postgresql" or created < ANALYZE_AFTER:
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql("ANALYZE " + ", ".join(quote(t.name) for t in (CUSTOMERS, LOADS, CHARGE_LINES)))


def _execute_many(conn: Connection, statement: sa.Executable, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(statement, rows)


def _write_customers(
    conn: Connection,
    records: list[CustomerRecord],
    stored: dict[str, sa.Row],
    counts: SectionCounts,
) -> None:
    """Customers by ``id``: name and QuickBooks email; the QuickBooks customer id is kept."""
    defaults = _model_defaults(Customer, id="", name="")
    new, changed = [], []
    for record in records:
        row = stored.get(record.id)
        email_given = "qb_email" in record.model_fields_set
        if row is None:
            new.append({**defaults, "id": record.id, "name": record.name, "qb_email": record.qb_email})
            continue
        email = record.qb_email if email_given else row.qb_email
        if (row.name, row.qb_email) == (record.name, email):
            counts.unchanged += 1
        else:
            changed.append({"key": record.id, "name": record.name, "qb_email": email})
    _execute_many(conn, CUSTOMERS.insert(), new)
    update = CUSTOMERS.update().where(CUSTOMERS.c.id == sa.bindparam("key"))
    _execute_many(conn, update.values(name=sa.bindparam("name"), qb_email=sa.bindparam("qb_email")), changed)
    counts.created += len(new)
    counts.updated += len(changed)


def _write_charge_codes(
    conn: Connection,
    records: list[ChargeCodeRecord],
    stored: dict[str, sa.Row],
    counts: SectionCounts,
) -> None:
    """Charge codes by ``code``: the name; the QuickBooks item mapping and its state are kept."""
    defaults = _model_defaults(ChargeCode, code="", name="")
    new, changed = [], []
    for record in records:
        row = stored.get(record.code)
        if row is None:
            new.append({**defaults, "code": record.code, "name": record.name})
        elif row.name == record.name:
            counts.unchanged += 1
        else:
            changed.append({"key": record.code, "name": record.name})
    _execute_many(conn, CHARGE_CODES.insert(), new)
    update = CHARGE_CODES.update().where(CHARGE_CODES.c.code == sa.bindparam("key"))
    _execute_many(conn, update.values(name=sa.bindparam("name")), changed)
    counts.created += len(new)
    counts.updated += len(changed)


def _wanted_lines(record: LoadRecord) -> list[tuple[str, str | None, Decimal]]:
    return [(charge.code, charge.description, charge.amount) for charge in record.charges]


def _write_loads(
    conn: Connection, records: list[LoadRecord], stored: _Stored, counts: SectionCounts, written: list[str]
) -> list[str]:
    """Loads by ``load_number``: customer, invoice date, and the charge lines (replaced as a whole;
    ``updated_at`` moves when they change). The sync columns are left alone. Returns the loads whose
    customer changed after their invoice was synced."""
    defaults = _model_defaults(Load, load_number="", customer_id="", invoice_date=dt.date.min)
    new: list[LoadRecord] = []
    changed: list[tuple[int, LoadRecord]] = []
    customer_changed: list[str] = []
    for record in records:
        row = stored.loads.get(record.load_number)
        if row is None:
            new.append(record)
            continue
        if _customer_changed_after_sync(row, record.customer_id):
            customer_changed.append(record.load_number)
        same = (row.customer_id, row.invoice_date) == (record.customer_id, record.invoice_date)
        if same and stored.lines.get(row.id, []) == _wanted_lines(record):
            counts.unchanged += 1
        else:
            changed.append((row.id, record))

    _execute_many(
        conn,
        LOADS.insert(),
        [
            {**defaults, **record.model_dump(include={"load_number", "customer_id", "invoice_date"})}
            for record in new
        ],
    )
    new_ids = _rows_by_key(conn, LOADS.c.load_number, [LOADS.c.id], (record.load_number for record in new))
    update = LOADS.update().where(LOADS.c.id == sa.bindparam("key"))
    _execute_many(
        conn,
        update.values(customer_id=sa.bindparam("customer_id"), invoice_date=sa.bindparam("invoice_date")),
        [
            {"key": load_id, "customer_id": record.customer_id, "invoice_date": record.invoice_date}
            for load_id, record in changed
        ],
    )
    for chunk in _chunks(load_id for load_id, _ in changed):
        conn.execute(CHARGE_LINES.delete().where(CHARGE_LINES.c.load_id.in_(chunk)))
    targets = [(new_ids[record.load_number].id, record) for record in new] + changed
    _execute_many(conn, CHARGE_LINES.insert(), [line for target in targets for line in _line_rows(*target)])
    counts.created += len(new)
    counts.updated += len(changed)
    written.extend([record.load_number for record in new] + [record.load_number for _, record in changed])
    return customer_changed


def _restore_changed_dismissed(
    conn: Connection, records: list[LoadRecord], stored: _Stored, source: str
) -> list[str]:
    """Dismissed loads whose customer, date or charges this import changed come back, with a note in
    the fix audit (who dismissed them and why)."""
    restored = []
    for record in records:
        row = stored.loads.get(record.load_number)
        if row is None or row.dismissed_at is None:
            continue
        same = (row.customer_id, row.invoice_date) == (record.customer_id, record.invoice_date)
        if same and stored.lines.get(row.id, []) == _wanted_lines(record):
            continue
        restored.append(record.load_number)
        conn.execute(
            LOADS.update()
            .where(LOADS.c.id == row.id)
            .values(dismissed_at=None, dismissed_by=None, dismissed_reason=None)
        )
        conn.execute(
            FIX_AUDIT.insert().values(
                at=utcnow(),
                actor=("import" if source == "import" else f"import:{source}")[:100],
                load_number=record.load_number,
                fix="undismiss",
                outcome="applied",
                changes={
                    "dismissed": {
                        "from": {
                            "by": row.dismissed_by,
                            "at": row.dismissed_at.isoformat(),
                            "reason": row.dismissed_reason,
                        },
                        "to": None,
                    },
                    "changed_in_tms": True,
                },
                detail=restored_by_import_text(row.dismissed_by, row.dismissed_reason),
            )
        )
    return restored


def _line_rows(load_id: int, record: LoadRecord) -> list[dict[str, Any]]:
    return [
        {
            "load_id": load_id,
            "position": position,
            "code": charge.code,
            "description": charge.description,
            "amount": charge.amount,
        }
        for position, charge in enumerate(record.charges)
    ]


def _customer_changed_after_sync(row: sa.Row, customer_id: str) -> bool:
    """This import moves a synced invoice's load to a customer other than the one invoiced (the
    same test the sync engine applies; an adopted invoice without a recorded customer is not)."""
    return (
        row.customer_id != customer_id
        and row.qb_invoice_id is not None
        and row.synced_customer_id is not None
        and row.synced_customer_id != customer_id
    )


def clean_email(value: object) -> str:
    """A QuickBooks email typed by a person (e.g. a fix): the import's rules; ``UserInputError`` if bad."""
    try:
        email = _email(value)
    except PydanticCustomError as exc:
        raise UserInputError(email_invalid(exc.message())) from None
    if email is None:
        raise UserInputError("the email is empty")
    return email
