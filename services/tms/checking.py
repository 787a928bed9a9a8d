"""Checking a whole document before anything is written: its sections read one record at a time
(``Sections``), every record validated with its problems in plain words, keys given twice, a TMS
event's id, and the customers and charge codes the loads refer to (``check_references``, the one
check that reads the database). What the pass keeps is a ``Checked``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Connection

from services.tms.loadnumbers import describe_value, find_forbidden_character, show
from services.tms.problems import ProblemList
from services.tms.records import (
    EVENT_ID,
    MAX_KEY_LENGTH,
    SECTIONS,
    SPECS,
    ChargeRecord,
    Record,
    SectionSpec,
    reject,
)
from services.tms.tables import CHARGE_CODES, CUSTOMERS, existing_keys

MAX_EVENT_ID_LENGTH = 200


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
# A document is read as sections of records, one record at a time (``Sections``): from a parsed
# object, or streamed from a file. The validation pass keeps only problems, the keys of each section and
# the keys the loads refer to; the write pass reads the records again and writes them in chunks.


class Sections:
    """``sections()`` yields ``(name, records, value)``: ``records`` iterates a list section, else it
    is ``None`` and ``value`` is the section's value. Each call starts again from the beginning."""

    def sections(self) -> Iterator[tuple[str, Iterator[Any] | None, Any]]:
        raise NotImplementedError


class ParsedSections(Sections):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def sections(self) -> Iterator[tuple[str, Iterator[Any] | None, Any]]:
        for name, value in self._data.items():
            yield name, (iter(value) if isinstance(value, list) else None), value


@dataclass
class Checked:
    """What the validation pass found: problems, the keys of every record of each section (valid or
    not), the keys the loads refer to, and top-level keys given twice."""

    problems: ProblemList = field(default_factory=ProblemList)
    keys: dict[str, set[str]] = field(default_factory=dict)
    wanted: dict[str, set[str]] = field(default_factory=lambda: {"customers": set(), "charge_codes": set()})
    repeated_sections: list[str] = field(default_factory=list)
    event_id: str | None = None


def check_document(document: Sections, *, event: bool = False) -> Checked:
    """Validate the shape, every record and duplicate keys (no database needed). A TMS ``event`` may
    carry an ``event_id``."""
    checked = Checked()
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
        if name not in SPECS:
            checked.problems.add("", None, _unknown_section_message(name, event), order=(-2, position))
            continue
        rank = SECTIONS.index(name)
        if records is None:
            message = f"must be a list of records, got {describe_value(value)}"
            checked.problems.add(name, None, message, order=(-1, rank))
            continue
        checked.keys[name] = _check_section(SPECS[name], rank, records, checked)
    return checked


def _check_section(spec: SectionSpec, rank: int, records: Iterator[Any], checked: Checked) -> set[str]:
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
        reject(f"must be a string of 1 to {MAX_EVENT_ID_LENGTH} characters, got {describe_value(value)}")
    if not value:
        reject("must not be empty")
    if len(value) > MAX_EVENT_ID_LENGTH:
        reject(f"is too long: {len(value)} characters, at most {MAX_EVENT_ID_LENGTH}: {show(value)}")
    bad = find_forbidden_character(value)
    if bad is not None:
        reject(f"contains {bad[1]} at position {bad[0] + 1}: {show(value)}")
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


def _label(spec: SectionSpec, index: int, raw: Any) -> str:
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
    label = _label(SPECS["loads"], index, raw)
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


def _error_message(spec: SectionSpec, error: Any) -> str:
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


def _unknown_field_message(spec: SectionSpec, loc: tuple[int | str, ...]) -> str:
    model: type[Record] = ChargeRecord if len(loc) > 1 and loc[0] == "charges" else spec.model
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


def check_references(conn: Connection, document: Sections, checked: Checked) -> None:
    """Every load's customer and charge codes must be in the file or already in the database.

    Keys of records in the file that failed validation count as present: their own problem is
    reported, not a second, misleading "not found". Only when a key is missing are the loads read
    again, to name each one that refers to it."""
    in_file = {kind: checked.keys.get(kind, set()) for kind in ("customers", "charge_codes")}
    columns = {"customers": CUSTOMERS.c.id, "charge_codes": CHARGE_CODES.c.code}
    missing = {}
    for kind, column in columns.items():
        wanted = checked.wanted[kind] - in_file[kind]
        missing[kind] = wanted - existing_keys(conn, column, wanted)
    if not any(missing.values()):
        return
    rank = SECTIONS.index("loads")
    for name, records, _ in document.sections():
        if name != "loads" or records is None:
            continue
        for index, raw in enumerate(records):
            for ref in _references_of(rank, index, raw):
                if ref.key in missing[ref.kind]:
                    message = f"{SPECS[ref.kind].noun} {show(ref.key)} is not in this file or the database"
                    checked.problems.add(ref.record, ref.field, message, order=ref.order)
