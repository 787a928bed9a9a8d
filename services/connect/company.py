"""Which QuickBooks company qbsync syncs to: tokens for another one refused (``CompanyOffered``), and
switching companies (``switch_company``): in the transaction that stores the new company's tokens,
every QuickBooks id that belonged to the old company (invoice ids of loads, linked customers, mapped
charge codes) is forgotten and the switch audited, so those loads are sent to the new company on the
next sync instead of being read as deleted invoices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.catalogue import company_offered_words, company_switched
from services.errors import UserInputError
from services.store.models import (
    INVOICE_FORGOTTEN,
    ChargeCode,
    ChargeCodeState,
    Customer,
    FixAudit,
    Load,
    LoadState,
)

_LOADS = Load.__table__  # type: ignore[attr-defined]
_CUSTOMERS = Customer.__table__  # type: ignore[attr-defined]
_CODES = ChargeCode.__table__  # type: ignore[attr-defined]
_AUDIT = FixAudit.__table__  # type: ignore[attr-defined]
SWITCH_FIX = "switch_company"  # the audit's name for switching companies


class CompanyOffered(UserInputError):
    """Tokens for another QuickBooks company than the one qbsync syncs to: nothing was changed."""

    def __init__(self, known_realm: str, offered_realm: str, connected: bool) -> None:
        self.known_realm = known_realm
        self.offered_realm = offered_realm
        super().__init__(company_offered_words(known_realm, offered_realm, connected))


@dataclass(frozen=True)
class Footprint:
    """How many QuickBooks ids of the remembered company qbsync holds."""

    loads: int
    customers: int
    items: int


@dataclass(frozen=True)
class CompanySwitch:
    from_realm: str
    to_realm: str
    footprint: Footprint

    @property
    def words(self) -> str:
        f = self.footprint
        return company_switched(self.from_realm, self.to_realm, f.loads, f.customers, f.items)


def switch_company(
    conn: Connection, known: str, realm_id: str, actor: str, now: dt.datetime
) -> CompanySwitch:
    """Switch from company ``known`` to ``realm_id``: forget the old company's ids and audit the switch."""
    switched = CompanySwitch(known, realm_id, _forget_company(conn, now))
    conn.execute(
        sa.insert(_AUDIT).values(
            at=now,
            actor=actor[:100],
            load_number=None,
            fix=SWITCH_FIX,
            outcome="applied",
            changes={
                "realm_id": {"from": known, "to": realm_id},
                "loads": switched.footprint.loads,
                "customers": switched.footprint.customers,
                "items": switched.footprint.items,
            },
            detail=switched.words[:4000],
        )
    )
    return switched


def last_switch(conn: Connection) -> str | None:
    """What the last switch of companies did (its audit line), if there was one."""
    query = sa.select(_AUDIT.c.detail).where(_AUDIT.c.fix == SWITCH_FIX).order_by(_AUDIT.c.id.desc())
    return conn.execute(query.limit(1)).scalar()


def footprint(conn: Connection) -> Footprint:
    """How many QuickBooks ids of the remembered company qbsync holds now."""

    def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table).where(sa.or_(*where))).scalar_one()
        )

    return Footprint(
        count(_LOADS, _LOADS.c.qb_invoice_id.is_not(None), _LOADS.c.qb_customer_id.is_not(None)),
        count(_CUSTOMERS, _CUSTOMERS.c.qb_customer_id.is_not(None)),
        count(_CODES, _CODES.c.qb_item_id.is_not(None)),
    )


def _forget_company(conn: Connection, now: dt.datetime) -> Footprint:
    """Forget every QuickBooks id of the old company: those loads sync into the new one as new invoices."""
    held = footprint(conn)
    conn.execute(
        sa.update(_LOADS)
        .where(sa.or_(_LOADS.c.qb_invoice_id.is_not(None), _LOADS.c.qb_customer_id.is_not(None)))
        .values(
            **INVOICE_FORGOTTEN,
            state=LoadState.PENDING.value,
            reasons=[],
            problem_since=None,
            sync_generation=_LOADS.c.sync_generation + 1,
            updated_at=now,
        )
    )
    conn.execute(
        sa.update(_CUSTOMERS)
        .where(_CUSTOMERS.c.qb_customer_id.is_not(None))
        .values(qb_customer_id=None, updated_at=now)
    )
    conn.execute(
        sa.update(_CODES)
        .where(_CODES.c.qb_item_id.is_not(None))
        .values(qb_item_id=None, sync_state=ChargeCodeState.UNSYNCED.value, sync_detail=None, updated_at=now)
    )
    return held
