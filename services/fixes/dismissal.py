"""The fixes that take a load out of syncing and back: ``dismiss`` (with a reason a person gives) and
``undismiss`` (Restore)."""

from __future__ import annotations

from services import catalogue
from services.errors import UserInputError
from services.fixes.base import Fix
from services.fixes.choice import Choice, ChoiceKind, Offer, required
from services.fixes.context import FixContext, Options
from services.fixes.outcome import Outcome, applied, nothing_to_do, refused
from services.store.models import utcnow
from services.sync import LoadView, SyncEngine
from services.tms.loadnumbers import find_forbidden_character


def offer_reason(sync: SyncEngine, load: str) -> Offer:
    return Offer()


class Dismiss(Fix):
    code = "dismiss"
    on_dismissed = True
    sync_after = False
    choice = Choice(ChoiceKind.REASON, "reason", offer_reason, required("Say why, in a few words."))

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        why = dismiss_reason(options.reason)
        if view.dismissed:
            words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
            return nothing_to_do(f"Load {view.load_number} is already dismissed. {words}.")
        current = ctx.sync.current_result(view.load_number)
        if current.state == "synced":
            return refused(
                f"Load {view.load_number} is synced (QuickBooks invoice {current.qb_invoice_id}): there is "
                "nothing to dismiss; dismissing would not remove the invoice from QuickBooks."
            )
        now = utcnow()
        ctx.update_load(view, dismissed_by=ctx.actor, dismissed_at=now, dismissed_reason=why)
        return applied(
            f"Dismissed load {view.load_number}: it is not synced, and leaves the problem list and the "
            f"digest. {catalogue.undismiss_hint(view.load_number)}",
            {"dismissed": {"by": ctx.actor, "at": now.isoformat(), "reason": why}},
        )


class Undismiss(Fix):
    code = "undismiss"
    on_dismissed = True

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        if not view.dismissed:
            return nothing_to_do(f"Load {view.load_number} is not dismissed.")
        words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
        ctx.update_load(view, dismissed_by=None, dismissed_at=None, dismissed_reason=None)
        was = {"by": view.dismissed_by, "at": view.dismissed_at.isoformat(), "reason": view.dismissed_reason}
        return applied(
            f"Restored load {view.load_number} ({words[0].lower()}{words[1:]}): it is back among the loads "
            "qbsync syncs.",
            {"dismissed": {"from": was, "to": None}},
        )


def dismiss_reason(value: str | None) -> str:
    """Why a load is dismissed, in a few words (at most ``DISMISS_REASON_MAX`` characters)."""
    why = " ".join((value or "").split())
    if not why:
        raise UserInputError(
            "dismiss needs --reason: a short reason, e.g. 'invoiced by hand' or 'cancelled load'"
        )
    if find_forbidden_character(why) is not None:
        raise UserInputError("the reason contains a control character")
    if len(why) > catalogue.DISMISS_REASON_MAX:
        raise UserInputError(
            f"the reason has {len(why)} characters, at most {catalogue.DISMISS_REASON_MAX}: say it shortly"
        )
    return why
