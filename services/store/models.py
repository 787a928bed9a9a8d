"""The data model: the TMS side of each invoice, the QuickBooks connection, and the history of every attempt.

Amounts are ``Decimal`` in Python and whole cents in the database (exact on SQLite and PostgreSQL alike).
Times are timezone-aware UTC.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, Relationship, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Money(TypeDecorator):
    """A Decimal with two places, stored as whole cents."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> int | None:
        if value is None:
            return None
        cents = (Decimal(value) * 100).to_integral_exact()
        return int(cents)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(Decimal("0.01"))


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime that comes back aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class StrEnumType(TypeDecorator):
    """A ``StrEnum`` stored as its plain string value, returned as the enum member."""

    impl = sa.String(16)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class LoadState(StrEnum):
    PENDING = "pending"  # never pushed, or changed since and waiting
    SYNCED = "synced"
    PROBLEM = "problem"


class ChargeCodeState(StrEnum):
    UNSYNCED = "unsynced"
    SYNCED = "synced"
    MISSING = "missing"
    DUPLICATE = "duplicate"
    INACTIVE = "inactive"


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    BROKEN = "broken"  # tokens rejected or refresh failed; needs a new connect
    DISCONNECTED = "disconnected"


class Customer(SQLModel, table=True):
    """A TMS customer. ``qb_email`` is the TMS field "QuickBooks Email"."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    qb_email: str | None = Field(default=None, max_length=254)
    qb_customer_id: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow, onupdate=utcnow)


class ChargeCode(SQLModel, table=True):
    """A TMS charge code (Base Price, Chassis, Fuel Surcharge …) and the QuickBooks item it maps to."""

    __tablename__ = "charge_code"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    qb_item_id: str | None = Field(default=None, max_length=32)
    sync_state: ChargeCodeState = Field(
        default=ChargeCodeState.UNSYNCED, sa_column=Column(StrEnumType(ChargeCodeState), nullable=False)
    )
    sync_detail: str | None = Field(default=None, max_length=500)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow, onupdate=utcnow)


# What a load holds of its QuickBooks invoice: forgotten together when the invoice is gone (clear_qb_id)
# or belongs to another company (switching companies), so that the load is sent again as a new invoice.
INVOICE_FORGOTTEN: dict[str, None] = {
    "qb_invoice_id": None,
    "qb_sync_token": None,
    "qb_customer_id": None,
    "synced_customer_id": None,
    "synced_total": None,
    "synced_at": None,
}


class Load(SQLModel, table=True):
    """One load and its invoice: the TMS side, what QuickBooks holds of it, and its current reasons."""

    id: int | None = Field(default=None, primary_key=True)
    load_number: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    customer_id: str = Field(foreign_key="customer.id", max_length=64, index=True)
    invoice_date: dt.date

    state: LoadState = Field(
        default=LoadState.PENDING, sa_column=Column(StrEnumType(LoadState), nullable=False, index=True)
    )
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    problem_since: dt.datetime | None = _when(nullable=True)

    qb_invoice_id: str | None = Field(default=None, max_length=32, index=True)
    qb_sync_token: str | None = Field(default=None, max_length=16)
    qb_customer_id: str | None = Field(default=None, max_length=32)  # the QuickBooks customer invoiced
    synced_customer_id: str | None = Field(default=None, max_length=64)  # TMS customer at the last push
    synced_total: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    synced_at: dt.datetime | None = _when(nullable=True)
    sync_generation: int = Field(default=0)  # bumped when a push must not reuse the last request id
    # What QuickBooks last said of the invoice's money (its total and what is still owed), from its changes.
    qb_total: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    qb_balance: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    # The QuickBooks invoice number when it is not the load number (set_doc_number; kept on re-import).
    qb_doc_number: str | None = Field(default=None, max_length=21, unique=True, index=True)

    # Dismissed by a person: not to be synced, out of the problem list, the digest and automatic syncs.
    dismissed_by: str | None = Field(default=None, max_length=100)
    dismissed_at: dt.datetime | None = _when(nullable=True)
    dismissed_reason: str | None = Field(default=None, max_length=200)

    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: dt.datetime | None = _when(nullable=True)

    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow, onupdate=utcnow)

    charges: list["ChargeLine"] = Relationship(
        back_populates="load",
        sa_relationship_kwargs={"order_by": "ChargeLine.position", "cascade": "all, delete-orphan"},
    )

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.charges), Decimal("0.00"))

    @property
    def doc_number(self) -> str:
        """The number the QuickBooks invoice carries: the override, or the load number."""
        return self.qb_doc_number or self.load_number

    @property
    def reason_codes(self) -> list[str]:
        return [reason["code"] for reason in self.reasons]


class ChargeLine(SQLModel, table=True):
    __tablename__ = "charge_line"

    id: int | None = Field(default=None, primary_key=True)
    load_id: int = Field(foreign_key="load.id", index=True, ondelete="CASCADE")
    position: int
    code: str = Field(foreign_key="charge_code.code", max_length=64)
    description: str | None = Field(default=None, max_length=4000)
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))

    load: Optional["Load"] = Relationship(back_populates="charges")


class SyncAttempt(SQLModel, table=True):
    """Every push of a load to QuickBooks: when, started by whom or what, and how it ended."""

    __tablename__ = "sync_attempt"

    id: int | None = Field(default=None, primary_key=True)
    load_id: int = Field(foreign_key="load.id", index=True, ondelete="CASCADE")
    started_at: dt.datetime = _when(nullable=False, default=utcnow)
    finished_at: dt.datetime | None = _when(nullable=True)
    trigger: str = Field(max_length=100)  # e.g. "cli", "scheduler", "slack:U123", "webhook"
    outcome: str = Field(max_length=16)  # synced | problem | error
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    qb_error_code: str | None = Field(default=None, max_length=16)
    detail: str | None = Field(default=None, max_length=4000)
    intuit_tid: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, max_length=50)
    qb_invoice_id: str | None = Field(default=None, max_length=32)


class QboConnection(SQLModel, table=True):
    """The company's QuickBooks connection. Token columns hold ciphertext once encryption is configured."""

    __tablename__ = "qbo_connection"

    id: int | None = Field(default=None, primary_key=True)
    realm_id: str | None = Field(default=None, max_length=32)
    state: ConnectionState = Field(
        default=ConnectionState.DISCONNECTED, sa_column=Column(StrEnumType(ConnectionState), nullable=False)
    )
    access_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    refresh_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    access_expires_at: dt.datetime | None = _when(nullable=True)
    refresh_expires_at: dt.datetime | None = _when(nullable=True)
    broken_reason: str | None = Field(default=None, max_length=500)
    connected_by: str | None = Field(default=None, max_length=100)
    connected_at: dt.datetime | None = _when(nullable=True)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow, onupdate=utcnow)


class FixAudit(SQLModel, table=True):
    """Every fix run: who, when, on which load, and what it changed in QuickBooks."""

    __tablename__ = "fix_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _when(nullable=False, default=utcnow)
    actor: str = Field(max_length=100)
    load_number: str | None = Field(default=None, max_length=64, index=True)
    fix: str = Field(max_length=40)
    outcome: str = Field(max_length=16)  # applied | unchanged | refused | failed | choice
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    detail: str | None = Field(default=None, max_length=4000)


class OAuthState(SQLModel, table=True):
    """A CSRF state of one browser connection (``GET /qbo/connect``): stored as a SHA-256 digest,
    single-use and short-lived. ``requested_by`` is who asked, when known (a Slack actor)."""

    __tablename__ = "oauth_state"

    digest: str = Field(primary_key=True, max_length=64)
    requested_by: str | None = Field(default=None, max_length=100)
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    expires_at: dt.datetime = _when(nullable=False, index=True)
    used_at: dt.datetime | None = _when(nullable=True)
    # SHA-256 of the random cookie set in the browser that started the connection (``/qbo`` path).
    browser_digest: str | None = Field(default=None, max_length=64)
    # Asked for with ``qbsync connect --switch-company``: the callback may connect another company.
    switch_company: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class ConnectTicket(SQLModel, table=True):
    """A single-use, ten-minute ticket that opens ``GET /qbo/connect``: made when a Slack administrator
    presses Connect QuickBooks (``actor`` is ``slack:T:U``) or by ``qbsync connect`` (``cli``).
    Stored as a SHA-256 digest."""

    __tablename__ = "connect_ticket"

    digest: str = Field(primary_key=True, max_length=64)
    actor: str = Field(max_length=100)
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    expires_at: dt.datetime = _when(nullable=False, index=True)
    used_at: dt.datetime | None = _when(nullable=True)
    switch_company: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class DigestPost(SQLModel, table=True):
    """The daily digest of one channel and day, claimed before it is posted so it is posted once.

    A claim holds a lease (``claimed_by`` until ``claimed_until``). ``posting_at`` is written just
    before the message is sent: a claim that lapsed without ``ts`` and without ``posting_at`` was never
    sent; one with ``posting_at`` may have been, and the channel is read before sending again. The
    chart follows the same steps (``chart_posting_at``, ``chart_file_id``).
    """

    __tablename__ = "digest_post"

    channel: str = Field(primary_key=True, max_length=32)
    day: dt.date = Field(primary_key=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: dt.datetime | None = _when(nullable=True)
    posting_at: dt.datetime | None = _when(nullable=True)
    ts: str | None = Field(default=None, max_length=32)
    posted_at: dt.datetime | None = _when(nullable=True)
    chart_posting_at: dt.datetime | None = _when(nullable=True)
    chart_file_id: str | None = Field(default=None, max_length=32)
    finished_at: dt.datetime | None = _when(nullable=True)  # message and chart both done
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    stopped: str | None = Field(default=None, max_length=64)  # Slack's refusal that ended the day's try
    chart_error: str | None = Field(default=None, max_length=64)  # the chart was not attached: why


class JobLock(SQLModel, table=True):
    """A named lock across processes with a lease: one run of a job at a time (``sync_and_retry``)."""

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=64)
    holder: str | None = Field(default=None, max_length=100)
    until: dt.datetime | None = _when(nullable=True)
    last_started_at: dt.datetime | None = _when(nullable=True)
    last_finished_at: dt.datetime | None = _when(nullable=True)
    last_outcome: str | None = Field(default=None, max_length=500)


class LoadRetry(SQLModel, table=True):
    """The automatic retries of a load whose reasons pass by themselves: how many, and when next."""

    __tablename__ = "load_retry"

    load_id: int = Field(foreign_key="load.id", primary_key=True, ondelete="CASCADE")
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = _when(nullable=False)
    last_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class TmsEvent(SQLModel, table=True):
    """The ``event_id`` of a TMS event already applied (``POST /tms/events``): a second delivery is
    refused. Kept a day (far longer than the ±5 minutes a signed timestamp is valid), then purged."""

    __tablename__ = "tms_event"

    event_id: str = Field(primary_key=True, max_length=200)
    event_at: dt.datetime = _when(nullable=False)  # the event's signed timestamp
    received_at: dt.datetime = _when(nullable=False, default=utcnow, index=True)


class TmsRecordEvent(SQLModel, table=True):
    """The timestamp of the newest TMS event applied to one record (``kind`` customers, charge_codes
    or loads; ``key`` its id, code or load number): an older event does not overwrite it."""

    __tablename__ = "tms_record_event"

    kind: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=64)
    event_at: dt.datetime = _when(nullable=False)


class SlackAccess(SQLModel, table=True):
    """Whether Slack still accepts the app: set when the app is uninstalled or its token revoked
    (``reason`` is Slack's event or error, ``lost_at`` when), cleared when a valid token is back.
    ``token_fingerprint`` is a hash of the token Slack refused; ``skips_logged`` holds per Slack job
    the day its skip was last logged (one line a day)."""

    __tablename__ = "slack_access"

    name: str = Field(primary_key=True, max_length=32)
    lost_at: dt.datetime | None = _when(nullable=True)
    reason: str | None = Field(default=None, max_length=64)
    token_fingerprint: str | None = Field(default=None, max_length=64)
    skips_logged: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _when(nullable=False, default=utcnow)


class DigestChannel(SQLModel, table=True):
    """What the last check of the digest channel (``QBSYNC_DIGEST_CHANNEL``) found: its name, and the
    problem that keeps the digest out of it (Slack's error, e.g. ``channel_not_found`` for a private
    channel the app was not invited to; ``missing_scope`` with the scope ``needed``), or none."""

    __tablename__ = "digest_channel"

    channel: str = Field(primary_key=True, max_length=80)
    name: str | None = Field(default=None, max_length=80)
    problem: str | None = Field(default=None, max_length=64)
    needed: str | None = Field(default=None, max_length=200)
    checked_at: dt.datetime = _when(nullable=False, default=utcnow)


class QboBudget(SQLModel, table=True):
    """One QuickBooks company's budget shared by every process (``services.quickbooks.shared_budget``): the
    row a process locks while it changes the company's grants, and until when QuickBooks asked every
    process to wait (seconds since the epoch on the database's clock; 0: no pause)."""

    __tablename__ = "qbo_budget"

    realm_id: str = Field(primary_key=True, max_length=32)
    paused_until: float = Field(default=0.0)


class QboGrant(SQLModel, table=True):
    """Sends of one company's budget granted to a process: ``kind`` ``request`` or ``batch``, at most
    ``sends`` of them between ``granted_at`` and ``use_by`` (the database's clock). A grant counts against
    QuickBooks' sliding minute until ``use_by`` and a minute have passed; once its process is done with
    it, ``sends`` and ``use_by`` become what it really sent and when it last did."""

    __tablename__ = "qbo_grant"
    __table_args__ = (sa.Index("ix_qbo_grant_realm_id_use_by", "realm_id", "use_by"),)

    id: int | None = Field(default=None, primary_key=True)
    realm_id: str = Field(max_length=32)
    kind: str = Field(max_length=8)
    sends: int
    granted_at: float
    use_by: float


class QboSlot(SQLModel, table=True):
    """One of a company's places among the requests in flight (``slot`` from 0 to the limit less one),
    held by one request of one process (``holder``) until it is answered, or until its lease ``until``
    (the database's clock) runs out when its process died."""

    __tablename__ = "qbo_slot"

    realm_id: str = Field(primary_key=True, max_length=32)
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holder: str | None = Field(default=None, max_length=120)
    until: float | None = Field(default=None)
