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

The steps have modules of their own: reading the bytes (``reading``), what a valid record is
(``records``), checking the whole document (``checking``), the write (``writing``, over ``tables``), what
went wrong (``problems``) and what was done (``summary``). This module runs them in order and is the
import's public face: the names other parts of qbsync use are importable from here.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.errors import QbsyncError
from services.store.models import utcnow
from services.store.storage import immediate_transaction
from services.tms.checking import Checked, ParsedSections, Sections, check_document, check_references
from services.tms.loadnumbers import describe_value
from services.tms.problems import MAX_PROBLEMS_SHOWN, DuplicateEventError, ImportFileError, ImportProblem
from services.tms.reading import duplicate_problems, open_source, parse_json, strict_decoder
from services.tms.records import SECTIONS, clean_email
from services.tms.stream import NotStreamable, StreamedDocument
from services.tms.summary import ImportSummary
from services.tms.tables import TMS_EVENTS
from services.tms.writing import write_document

# Kept importable from here for the Slack routes, the TMS events and the fixes, which import them so.
__all__ = [
    "DuplicateEventError",
    "ImportFileError",
    "ImportSummary",
    "clean_email",
    "import_data",
    "import_file",
    "import_stream",
]

log = logging.getLogger(__name__)

EVENT_IDS_KEPT = dt.timedelta(hours=24)  # far past the ±5 minutes a signed event is valid
WRITE_CHUNK = 2000  # records validated and written together


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
    document = ParsedSections(data)
    return _import(engine, document, check_document(document, event=event_at is not None), source, event_at)


def import_stream(
    engine: Engine, stream: BinaryIO, *, source: str = "import", event_at: dt.datetime | None = None
) -> ImportSummary:
    """Import the JSON document read from ``stream`` (binary, seekable), one record at a time: the
    memory used does not grow with the number of records (beyond their keys). Checked and written
    exactly as ``import_data`` does it; a file that is not well-formed JSON is read whole to say why."""
    duplicates: list[str] = []
    try:
        checked = check_document(
            StreamedDocument(stream, lambda: strict_decoder(duplicates)), event=event_at is not None
        )
    except NotStreamable:
        stream.seek(0)
        return import_data(engine, parse_json(stream.read(), source), source=source, event_at=event_at)
    for name in checked.repeated_sections:  # the outer object is the last one the parser completes
        if len(duplicates) < MAX_PROBLEMS_SHOWN:
            duplicates.append(name)
    if duplicates:
        raise ImportFileError(duplicate_problems(duplicates), source)
    return _import(engine, StreamedDocument(stream, lambda: strict_decoder([])), checked, source, event_at)


def _import(
    engine: Engine, document: Sections, checked: Checked, source: str, event_at: dt.datetime | None = None
) -> ImportSummary:
    """Check the references in the database, then write, all in one transaction (with a TMS event's
    id, so that a second delivery of it fails on the unique key)."""
    try:
        with immediate_transaction(engine) as conn:
            if event_at is not None:
                _record_event(conn, checked.event_id, event_at)
            check_references(conn, document, checked)
            if checked.problems:
                raise ImportFileError(checked.problems.sorted(), source)
            summary = write_document(
                conn, document, checked, source, chunk_size=WRITE_CHUNK, event_at=event_at
            )
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
