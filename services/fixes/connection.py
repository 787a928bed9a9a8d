"""The fixes of the connection and of the sync itself: ``connect`` (QuickBooks authorization) and
``retry`` (sync the load again)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from services import catalogue
from services.connect.flow import new_state
from services.fixes.base import Fix
from services.fixes.context import FixContext, Options
from services.fixes.outcome import Outcome, action, applied, failed, nothing_to_do
from services.store.models import SyncAttempt
from services.sync import LoadView


class Connect(Fix):
    code = "connect"
    on_dismissed = True
    sync_after = False

    def apply(self, ctx: FixContext, view: LoadView | None, options: Options) -> Outcome:
        status = ctx.connection.status()
        if status.connected:
            return nothing_to_do(f"QuickBooks is already connected (company {status.realm_id}).")
        state = new_state()
        return action(
            "Open the QuickBooks authorization page to connect (or run `qbsync connect`).",
            {"authorize_url": ctx.auth.authorization_url(state), "state": state},
        )


class Retry(Fix):
    code = "retry"
    sync_after = False  # the retry itself was the sync

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        confirmed = view.was_synced and last_push_synced(ctx, view)  # e.g. retried by someone just now
        synced = ctx.sync.sync_load(view.load_number, trigger="fix:retry")
        number, invoice = view.load_number, synced.qb_invoice_id
        if synced.state == "synced" and synced.note:  # synced before; QuickBooks could not check it now
            return nothing_to_do(f"Load {number} is synced (invoice {invoice}); {synced.note}.")
        if synced.state == "synced" and confirmed and invoice == view.qb_invoice_id:
            return nothing_to_do(f"Load {number} is synced (QuickBooks invoice {invoice}): nothing to retry.")
        if synced.state == "synced":
            return applied(
                f"Load {number} is synced (QuickBooks invoice {invoice}).", {"qb_invoice_id": invoice}
            )
        if synced.note:  # another worker holds the load: it is being pushed right now
            return nothing_to_do(f"Load {number} is being pushed right now: {synced.note}.")
        titles = "; ".join(catalogue.reason_title(r.code) for r in synced.reasons) or synced.state
        return failed(f"Retried; load {number} still does not sync: {titles}.")


def last_push_synced(ctx: FixContext, view: LoadView) -> bool:
    """Whether the load's last push ended synced (QuickBooks answered it)."""
    with Session(ctx.engine) as session:
        last = session.execute(
            sa.select(SyncAttempt.outcome)
            .where(SyncAttempt.load_id == view.id)
            .order_by(SyncAttempt.id.desc())
            .limit(1)
        ).scalar()
    return last == "synced"
