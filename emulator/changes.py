"""Who is writing, and what a write changed.

Every write to a realm (API, batch or the admin seed) runs inside :func:`recording`, which says which
QuickBooks user makes it (``MetaData.LastModifiedByRef``) and collects a :class:`Change` per record
created, updated, deleted or voided. The caller hands the collected changes to the webhook sender
once the write is committed (a failed seed throws them away with its rollback).

The user comes from the optional request header ``X-Emulator-User`` (a test and operator
convenience: real QuickBooks knows the user from the token); without it writes are made by
:data:`DEFAULT_USER_ID`, the user that connected the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

USER_HEADER = "X-Emulator-User"
DEFAULT_USER_ID = "9130350000000001"
USER_ID_MAX = 64

CREATE, UPDATE, DELETE, VOID, MERGE = "Create", "Update", "Delete", "Void", "Merge"
OPERATIONS = (CREATE, UPDATE, DELETE, VOID, MERGE)


@dataclass(frozen=True)
class Change:
    """One committed change to one record."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str
    moment: datetime  # when it happened (the record's LastUpdatedTime is this, to the second)

    def moment_text(self) -> str:
        """Intuit's webhook timestamp: UTC with milliseconds and ``Z``."""
        return self.moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Recording:
    user_id: str = DEFAULT_USER_ID
    changes: list[Change] = field(default_factory=list)


_current: ContextVar[Recording | None] = ContextVar("emulator_recording", default=None)


def user_from_header(value: str | None) -> str:
    """The user id named by ``X-Emulator-User`` (the default user when absent or unusable)."""
    value = (value or "").strip()
    return value[:USER_ID_MAX] if value else DEFAULT_USER_ID


@contextmanager
def recording(user_id: str = DEFAULT_USER_ID) -> Iterator[Recording]:
    """Collect the changes made in this block, made by ``user_id``."""
    rec = Recording(user_id=user_id)
    token = _current.set(rec)
    try:
        yield rec
    finally:
        _current.reset(token)


@contextmanager
def unrecorded() -> Iterator[None]:
    """Writes in this block are nobody's changes (a new company's own records)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def user_id() -> str:
    rec = _current.get()
    return rec.user_id if rec is not None else DEFAULT_USER_ID


def note(realm_id: str, entity: str, entity_id: str, operation: str, moment: datetime) -> None:
    rec = _current.get()
    if rec is not None:
        rec.changes.append(Change(realm_id, entity, entity_id, operation, moment))
