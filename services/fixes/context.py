"""What every fix is given: the chosen :class:`Options`, and a :class:`FixContext` with the services a
fix uses (database, QuickBooks, connection, sync), who runs it, and the helpers several fixes share —
a sparse update keyed so a repeated request is not a second write, an update of the load, the
QuickBooks invoice of a synced load, linking a charge code to an item."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from services.connect.connection import ConnectionService
from services.crashpoints import crash_point, sending
from services.errors import UserInputError
from services.fixes.outcome import Outcome, refused
from services.quickbooks import IntuitAuth, Kind, QboError, QuickBooksApi
from services.store.models import ChargeCode, ChargeCodeState, Load, utcnow
from services.store.storage import write_session
from services.sync import LoadView, SyncEngine

FIX_NAMESPACE = uuid.UUID("0c3f7a5e-52a4-4d8e-9a0b-6f9a2e1d7c44")


@dataclass(frozen=True)
class Options:
    """A person's choice for one run of a fix (see each fix's ``choice``)."""

    customer_id: str | None = None
    email: str | None = None
    code: str | None = None
    item_id: str | None = None
    doc_number: str | None = None
    reason: str | None = None


@dataclass
class FixContext:
    """One run of one fix: the services it uses, the fix, who runs it, and how many runs of it came
    before (which keys its QuickBooks request ids)."""

    engine: Engine
    api: QuickBooksApi
    auth: IntuitAuth
    connection: ConnectionService
    sync: SyncEngine
    fix: str
    company_wide: bool
    actor: str = ""
    attempt: int = 0

    def realm(self) -> str:
        return self.connection.status().realm_id or ""

    def request_id(self, kind: str, key: str) -> str:
        return request_id(kind, self.realm(), key)

    def scope(self, view: LoadView) -> str:
        """What a fix's QuickBooks requests are keyed by: the fix, its load (none for a company-wide
        fix) and how many runs of it came before this one."""
        load = "*" if self.company_wide else view.load_number
        return f"{self.fix}|{load}|{self.attempt}"

    def sparse_update(
        self,
        entity: str,
        current: dict[str, Any],
        values: dict[str, Any],
        reread: Callable[[], dict[str, Any] | None] | None = None,
        *,
        scope: str,
    ) -> dict[str, Any]:
        """A sparse update with the current SyncToken; on a stale token (5010) re-read and retry once.

        Each request carries a ``requestid`` made of ``scope`` (the fix, its load and its run), the record,
        the SyncToken it was read at and the values sent: a request repeated (a timeout, a lost answer,
        a run that died half-way) gets QuickBooks' first answer instead of a second write."""
        for attempt in range(2):
            body = {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True, **values}
            key = f"{entity}|{current['Id']}|{current['SyncToken']}|{digest(values)}"
            try:
                with sending("fix_sent"):
                    return self.api.update(entity, body, request_id=self.request_id(f"update|{scope}", key))
            except QboError as exc:
                if exc.kind is not Kind.STALE or attempt:
                    raise
                current = (reread() if reread else self.api.read(entity, current["Id"])) or current
        raise AssertionError("unreachable")

    def update_load(self, view: LoadView, **values: Any) -> None:
        with write_session(self.engine) as session:
            load = session.get(Load, view.id)
            for name, value in values.items():
                setattr(load, name, value)
            load.updated_at = utcnow()
        crash_point("fix_commit")

    def synced_invoice(self, view: LoadView) -> dict[str, Any] | Outcome:
        """The load's QuickBooks invoice, or the refusal when it has none (any more)."""
        if not view.qb_invoice_id:
            return refused(f"Load {view.load_number} has no QuickBooks invoice yet; sync it first.")
        invoice = self.api.read("Invoice", view.qb_invoice_id)
        if invoice is None:
            return refused(f"Invoice {view.qb_invoice_id} no longer exists in QuickBooks (clear_qb_id).")
        return invoice

    def link_code(self, code: str, item_id: str) -> None:
        with write_session(self.engine) as session:
            charge = session.get(ChargeCode, code)
            if charge.qb_item_id != item_id or charge.sync_state != ChargeCodeState.SYNCED:
                charge.qb_item_id = item_id
                charge.sync_state = ChargeCodeState.SYNCED
                charge.sync_detail = None


def qb_id(value: str | None, missing: str) -> str:
    """A QuickBooks id a person gave (digits), or why it is not one."""
    value = (value or "").strip()
    if not value:
        raise UserInputError(missing)
    if not value.isdigit():
        raise UserInputError(f"QuickBooks ids are numbers, got {value!r}")
    return value


def request_id(kind: str, realm: str, key: str) -> str:
    return str(uuid.uuid5(FIX_NAMESPACE, f"{kind}|{realm}|{key}"))


def digest(values: dict[str, Any]) -> str:
    text = json.dumps(jsonable(values), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
