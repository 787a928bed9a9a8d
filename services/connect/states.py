"""Who may start a browser connection, and the CSRF states of the ones started.

A **Connect ticket** opens ``GET /qbo/connect`` once: it is made when a Slack administrator presses
Connect QuickBooks (for that administrator, ``slack:T:U``) or by ``qbsync connect`` (``cli:…``), and
lasts ten minutes. An **OAuth state** is issued when a ticket is spent: it is bound to the browser that
spent the ticket (the SHA-256 digest of a random cookie value set there), carries who asked, and is
spent by the callback. Both are random (192 bits), stored only as a SHA-256 digest, single-use, and
expire after ten minutes; checking one spends it, whatever follows."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.models import ConnectTicket, OAuthState, utcnow

LIFETIME = dt.timedelta(minutes=10)
KEEP_USED = dt.timedelta(days=1)  # spent and expired states and tickets are purged after this
_STATES = OAuthState.__table__  # type: ignore[attr-defined]
_TICKETS = ConnectTicket.__table__  # type: ignore[attr-defined]
CLI_ACTOR_PREFIX = "cli"


class StateRefused(Exception):
    """A state or a ticket is unknown, already used or expired; ``why`` says which."""

    def __init__(self, why: str) -> None:
        self.why = why  # unknown | used | expired
        super().__init__(why)


class TicketRefused(StateRefused):
    """A Connect ticket is missing, unknown, already used or expired."""


@dataclass(frozen=True)
class SpentState:
    requested_by: str | None
    browser_digest: str | None = None
    switch_company: bool = False

    def same_browser(self, cookie: str | None) -> bool:
        """True when ``cookie`` is the value set in the browser that started this connection."""
        if not self.browser_digest or not cookie or len(cookie) > 200:
            return False
        return hmac.compare_digest(digest(cookie), self.browser_digest)


@dataclass(frozen=True)
class Ticket:
    actor: str
    switch_company: bool = False


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_cli(actor: str | None) -> bool:
    return bool(actor) and (actor == CLI_ACTOR_PREFIX or actor.startswith(f"{CLI_ACTOR_PREFIX}:"))


def browser_secret() -> str:
    """The random value of the cookie that binds a connection to one browser."""
    return secrets.token_urlsafe(32)


def _issue(engine: Engine, table: sa.Table, now: dt.datetime | None, **values: object) -> str:
    now = now or utcnow()
    value = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.expires_at < now - KEEP_USED))
        conn.execute(
            table.insert().values(digest=digest(value), created_at=now, expires_at=now + LIFETIME, **values)
        )
    return value


def _spend(engine: Engine, table: sa.Table, value: str | None, now: dt.datetime | None, refused: type):
    if not value or len(value) > 200:
        raise refused("unknown")
    now = now or utcnow()
    key = digest(value)
    with engine.begin() as conn:
        taken = conn.execute(
            table.update()
            .where(table.c.digest == key, table.c.used_at.is_(None), table.c.expires_at > now)
            .values(used_at=now)
        ).rowcount
        row = conn.execute(sa.select(table).where(table.c.digest == key)).mappings().first()
    if row is None:
        raise refused("unknown")
    if not taken:
        raise refused("used" if row["used_at"] is not None else "expired")
    return row


# -- tickets: who may open /qbo/connect ----------------------------------------------------------------


def issue_ticket(
    engine: Engine, actor: str, *, switch_company: bool = False, now: dt.datetime | None = None
) -> str:
    """A new single-use ticket for ``actor`` (an administrator, checked by the caller, or the CLI)."""
    if not actor or len(actor) > 100:
        raise ValueError("a Connect ticket needs the actor it is made for")
    return _issue(engine, _TICKETS, now, actor=actor, switch_company=switch_company)


def spend_ticket(engine: Engine, ticket: str | None, *, now: dt.datetime | None = None) -> Ticket:
    """Use ``ticket`` once. ``TicketRefused`` when it is missing, unknown, already used or expired."""
    row = _spend(engine, _TICKETS, ticket, now, TicketRefused)
    return Ticket(row["actor"], bool(row["switch_company"]))


# -- OAuth states: one browser connection ---------------------------------------------------------------


def issue(
    engine: Engine,
    requested_by: str | None = None,
    *,
    browser: str | None = None,
    switch_company: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """A new state, stored (bound to the browser whose cookie value is ``browser``); old spent or
    expired states are purged on the way."""
    return _issue(
        engine,
        _STATES,
        now,
        requested_by=requested_by,
        browser_digest=digest(browser) if browser else None,
        switch_company=switch_company,
    )


def spend(engine: Engine, state: str | None, *, now: dt.datetime | None = None) -> SpentState:
    """Use ``state`` once. ``StateRefused`` when it is unknown, already used or expired."""
    row = _spend(engine, _STATES, state, now, StateRefused)
    return SpentState(row["requested_by"], row["browser_digest"], bool(row["switch_company"]))
