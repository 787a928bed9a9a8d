"""The tables of QuickBooks' own changes: per company how far its change feed was read
(``qbo_change_point``), the webhook notifications received (``qbo_change_event``, to drop repeats) and
the notices to tell the channel (``qbo_notice``)."""

import datetime as dt

from sqlmodel import Field, SQLModel

from services.store.models import _when, utcnow


class QboChangePoint(SQLModel, table=True):
    """How far QuickBooks' changes of one company were read: ``reached_at`` is the moment the last
    catch-up asked from (the next asks from there, less an overlap); ``due_at`` when a webhook said
    something changed since; ``full_at`` the last time every synced invoice was read back instead."""

    __tablename__ = "qbo_change_point"

    realm_id: str = Field(primary_key=True, max_length=32)
    reached_at: dt.datetime | None = _when(nullable=True)
    due_at: dt.datetime | None = _when(nullable=True)
    full_at: dt.datetime | None = _when(nullable=True)
    objects_seen: int = Field(default=0)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow)


class QboChangeEvent(SQLModel, table=True):
    """One change QuickBooks notified by webhook, keyed on its CloudEvents id (or, for the legacy form,
    a hash of company, entity, id, operation and time): a repeated delivery is recognised and dropped."""

    __tablename__ = "qbo_change_event"

    key: str = Field(primary_key=True, max_length=64)
    realm_id: str = Field(max_length=32, index=True)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=32)
    operation: str = Field(max_length=16)
    occurred_at: dt.datetime | None = _when(nullable=True)
    received_at: dt.datetime = _when(nullable=False, default=utcnow, index=True)


class QboNotice(SQLModel, table=True):
    """A problem QuickBooks' changes created, to tell the channel once (grouped with the others found
    at the same time). ``claimed_by``/``claimed_until`` lease it to the process posting it."""

    __tablename__ = "qbo_notice"

    id: int | None = Field(default=None, primary_key=True)
    realm_id: str = Field(max_length=32)
    load_number: str = Field(max_length=64)
    code: str = Field(max_length=40)
    text: str = Field(max_length=500)
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    posted_at: dt.datetime | None = _when(nullable=True, index=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: dt.datetime | None = _when(nullable=True)
