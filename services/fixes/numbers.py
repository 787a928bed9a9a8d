"""The fixes of invoice numbers: ``set_doc_number`` (a QuickBooks invoice number a person chooses for
a load whose number QuickBooks cannot hold) and ``enable_custom_txn_numbers`` (administrators: the
company setting that lets invoices carry the load numbers; then every load it blocked is retried)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services import catalogue
from services.diagnosis.problems import list_problems
from services.errors import UserInputError
from services.fixes import choices
from services.fixes.base import Fix
from services.fixes.choice import Choice, ChoiceKind, Offer
from services.fixes.context import FixContext, Options
from services.fixes.outcome import Outcome, applied, failed, needs_choice, nothing_to_do, refused
from services.quickbooks import Kind, QboError
from services.sync import LoadView, SyncEngine, classify, invoices
from services.sync.company import CompanySnapshot
from services.sync.docnumbers import DOC_NUMBER_MAX, clean_doc_number, used_by_other_loads


def offer_doc_number(sync: SyncEngine, load: str) -> Offer:
    """The invoice number the last diagnosis suggested, filled in."""
    return Offer(current=choices.suggested_doc_number(sync, load))


def typed_doc_number(value: str) -> str:
    if not value or len(value) > DOC_NUMBER_MAX or not value.isprintable():
        raise UserInputError(f"1 to {DOC_NUMBER_MAX} printable characters.")
    return value


class SetDocNumber(Fix):
    code = "set_doc_number"
    choice = Choice(ChoiceKind.DOC_NUMBER, "doc_number", offer_doc_number, typed_doc_number)

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        if options.doc_number is None:
            offered = ctx.sync.suggest_doc_numbers(view, CompanySnapshot(ctx.api), limit=3)
            suggested = f" Suggested: {offered[0]}." if offered else ""
            return needs_choice(
                f"Which QuickBooks invoice number should load {view.load_number} use (at most 21 "
                f"characters; the TMS keeps its number)?{suggested} Pass --doc-number.",
                [{"doc_number": number} for number in offered],
            )
        wanted = clean_doc_number(options.doc_number)
        target = None if wanted == view.load_number else wanted
        if target == view.qb_doc_number:
            return nothing_to_do(f"Load {view.load_number} is already invoiced as {wanted}.")
        if view.qb_invoice_id:
            return refused(
                f"Load {view.load_number} already has QuickBooks invoice {view.qb_invoice_id} numbered "
                f"{view.doc_number}; change the number there (Sales > Invoices)."
            )
        other = used_by_other_loads(ctx.engine, wanted, view.id)
        if other is not None:
            whose = "the number" if other == wanted else "the QuickBooks invoice number"
            return refused(f"{wanted} is {whose} of load {other}; choose another.")
        taken = [
            i
            for i in invoices.find_by_doc_number(ctx.api, wanted)
            if not invoices.is_ours(i, view.load_number)
        ]
        if taken:
            brief = invoices.invoice_brief(taken[0])
            return refused(
                f"QuickBooks already has invoice {wanted} (id {brief['qb_invoice_id']}, {brief['customer']}, "
                f"{catalogue.money(brief['total'])}); choose another number."
            )
        sent = sent_as(ctx, view, view.doc_number)
        if sent is not None:
            return sent
        try:
            ctx.update_load(view, qb_doc_number=target)
        except sa.exc.IntegrityError:
            return refused(f"{wanted} was just given to another load; choose another.")
        return applied(
            f"Load {view.load_number} will be invoiced in QuickBooks as {wanted} (the TMS keeps "
            f"{view.load_number}).",
            {"qb_doc_number": {"from": view.qb_doc_number, "to": target}},
        )


def sent_as(ctx: FixContext, view: LoadView, doc_number: str) -> Outcome | None:
    """Exactly once: an invoice an earlier attempt created under the old number is this load's (the
    refusal), else None."""
    if len(doc_number) > DOC_NUMBER_MAX:
        return None
    ours = [
        i
        for i in invoices.find_by_doc_number(ctx.api, doc_number)
        if invoices.is_ours_live(i, view.load_number)
    ]
    if not ours:
        return None
    return refused(
        f"QuickBooks already has this load's invoice {ours[0]['Id']} numbered {doc_number} (from "
        "an earlier attempt); retry to link it rather than number it again."
    )


class EnableCustomTxnNumbers(Fix):
    code = "enable_custom_txn_numbers"
    admin_only = True
    company_wide = True

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        prefs = preferences(ctx)
        if (prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            retried = retry_blocked(ctx, view.load_number)
            return nothing_to_do(
                "Custom transaction numbers are already on in QuickBooks." + retried_words(retried),
                {"retried": retried} if retried else {},
            )
        by_hand = catalogue.REASON["custom_txn_numbers_off"].by_hand_text
        current = {"Id": prefs.get("Id", "1"), "SyncToken": prefs.get("SyncToken", "0")}
        try:
            updated = ctx.sparse_update(
                "Preferences",
                current,
                {"SalesFormsPrefs": {"CustomTxnNumbers": True}},
                reread=lambda: preferences(ctx),
                scope=ctx.scope(view),
            )
        except QboError as exc:
            if exc.kind in (Kind.NOT_CONNECTED, Kind.AUTH, Kind.THROTTLED, Kind.UNAVAILABLE):
                raise
            said = f"{exc.code}: {exc.detail or exc.message}" if exc.code else (exc.detail or exc.message)
            return failed(
                f"QuickBooks refused to change the setting ({said}). Switch it on by hand — {by_hand}",
                {"error": classify(exc).evidence},
            )
        if not (updated.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            return failed(f"QuickBooks kept the setting off. Switch it on by hand — {by_hand}")
        retried = retry_blocked(ctx, view.load_number)
        return applied(
            "Turned on Custom transaction numbers in QuickBooks (Account and settings > Sales): invoices "
            "now carry the load numbers." + retried_words(retried),
            {"CustomTxnNumbers": {"from": False, "to": True}, **({"retried": retried} if retried else {})},
        )


def preferences(ctx: FixContext) -> dict[str, Any]:
    rows = ctx.api.query("SELECT * FROM Preferences").get("Preferences", [])
    return rows[0] if rows else {}


def retry_blocked(ctx: FixContext, except_number: str) -> dict[str, str]:
    """Sync every other load the setting blocked (not dismissed); their states by load number."""
    blocked = [
        p.load_number
        for p in list_problems(ctx.engine)
        if p.load_number != except_number and any(r.code == "custom_txn_numbers_off" for r in p.reasons)
    ]
    results = ctx.sync.sync_many(blocked, trigger="fix:enable_custom_txn_numbers") if blocked else []
    return {r.load_number: r.state for r in results}


def retried_words(retried: dict[str, str]) -> str:
    if not retried:
        return ""
    synced = sum(state == "synced" for state in retried.values())
    loads = catalogue.plural(len(retried), "other load")
    return f" Retried {loads} it blocked: {synced} synced."
