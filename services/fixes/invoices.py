"""The fixes of a load's QuickBooks invoice: ``push_invoice_update`` (its lines follow the load's
charges), ``adopt_qb_invoice`` (an invoice made by hand with the load's number becomes the load's) and
``clear_qb_id`` (administrators: forget an invoice verified gone or voided in QuickBooks, and send again)."""

from __future__ import annotations

from decimal import Decimal

from services.catalogue import money
from services.fixes.base import Fix
from services.fixes.context import FixContext, Options
from services.fixes.matching import match_customer, match_item
from services.fixes.outcome import Outcome, applied, nothing_to_do, refused
from services.store.models import INVOICE_FORGOTTEN, LoadState, utcnow
from services.sync import LoadView, invoices
from services.sync.company import ALL_STATES


class PushInvoiceUpdate(Fix):
    code = "push_invoice_update"

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        invoice = ctx.synced_invoice(view)
        if isinstance(invoice, Outcome):
            return invoice
        qb_total = Decimal(str(invoice.get("TotalAmt", "0"))).quantize(Decimal("0.01"))
        if qb_total == view.total:
            ctx.update_load(view, synced_total=view.total)
            return nothing_to_do(f"Invoice {invoice['Id']} already totals {money(qb_total)}.")
        items = ctx.api.query_all("Item", ALL_STATES)
        item_ids: dict[str, str] = {}
        for code, charge in view.codes.items():
            match = match_item(charge.name, charge.qb_item_id, items)
            if match.item is None:
                return refused(
                    f"Charge code {code} is {match.problem} in QuickBooks; resync charge codes first."
                )
            item_ids[code] = match.item["Id"]
            ctx.link_code(code, match.item["Id"])
        body = invoices.invoice_body(view, (invoice.get("CustomerRef") or {}).get("value"), item_ids)
        updated = ctx.sparse_update("Invoice", invoice, {"Line": body["Line"]}, scope=ctx.scope(view))
        ctx.update_load(view, synced_total=view.total, qb_sync_token=updated["SyncToken"])
        return applied(
            f"Invoice {invoice['Id']} lines replaced: total {money(qb_total)} → {money(view.total)}.",
            {"qb_invoice_id": invoice["Id"], "TotalAmt": {"from": str(qb_total), "to": str(view.total)}},
        )


class AdoptQbInvoice(Fix):
    code = "adopt_qb_invoice"

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        found = invoices.find_by_doc_number(ctx.api, view.doc_number)
        if not found:
            return refused(f"QuickBooks has no invoice numbered {view.doc_number} to adopt.")
        invoice = found[0]
        if view.qb_invoice_id == invoice["Id"]:
            return nothing_to_do(f"Invoice {invoice['Id']} is already this load's invoice.")
        customers = ctx.api.query_all("Customer", ALL_STATES)
        tms = view.customer
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        brief = invoices.invoice_brief(invoice)
        differences = []
        if match.customer is None:
            differences.append(f"the load's customer {tms.name} is not synced to QuickBooks")
        elif match.customer["Id"] != brief["qb_customer_id"]:
            differences.append(
                f"customer differs (QuickBooks: {brief['customer']}, load: {tms.name} = QuickBooks customer "
                f"{match.customer['Id']})"
            )
        if Decimal(brief["total"]) != view.total:
            differences.append(
                f"total differs (QuickBooks: {money(brief['total'])}, load: {money(view.total)})"
            )
        if differences:
            return refused(f"Cannot adopt invoice {invoice['Id']}: " + "; ".join(differences) + ".")
        note = "\n".join(filter(None, [invoice.get("PrivateNote"), invoices.marker(view.load_number)]))
        if not invoices.is_ours(invoice, view.load_number):
            invoice = ctx.sparse_update("Invoice", invoice, {"PrivateNote": note}, scope=ctx.scope(view))
        ctx.update_load(
            view,
            qb_invoice_id=invoice["Id"],
            qb_sync_token=invoice["SyncToken"],
            qb_customer_id=brief["qb_customer_id"],
            synced_customer_id=tms.id,
            synced_total=view.total,
            synced_at=utcnow(),
            state=LoadState.SYNCED,
            reasons=[],
            problem_since=None,
        )
        return applied(
            f"Adopted QuickBooks invoice {invoice['Id']} as load {view.load_number}'s invoice.",
            {"qb_invoice_id": invoice["Id"], "marked": True},
        )


class ClearQbId(Fix):
    code = "clear_qb_id"
    admin_only = True

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        in_the_way = [
            inv
            for inv in invoices.find_by_doc_number(ctx.api, view.doc_number)
            if inv["Id"] != view.qb_invoice_id and not invoices.is_ours(inv, view.load_number)
        ]
        if in_the_way:
            ids = ", ".join(inv["Id"] for inv in in_the_way)
            return refused(
                f"Invoice {ids} numbered {view.doc_number} still exists in QuickBooks. "
                "Delete it there first (Sales > Invoices), then clear the QuickBooks ID."
            )
        if view.qb_invoice_id:
            current = ctx.api.read("Invoice", view.qb_invoice_id)
            if current is not None and invoices.is_voided(current):
                ctx.update_load(
                    view,
                    **INVOICE_FORGOTTEN,
                    state=LoadState.PENDING,
                    sync_generation=view.sync_generation + 1,
                )
                return applied(
                    f"Forgot voided QuickBooks invoice {view.qb_invoice_id}. QuickBooks keeps it and its "
                    f"number {view.doc_number}: give the new invoice another number (Set invoice number).",
                    {"qb_invoice_id": {"from": view.qb_invoice_id, "to": None}, "voided": True},
                )
            if current is not None:
                return nothing_to_do(f"Nothing to clear: invoice {view.qb_invoice_id} is in QuickBooks.")
            ctx.update_load(
                view, **INVOICE_FORGOTTEN, state=LoadState.PENDING, sync_generation=view.sync_generation + 1
            )
            return applied(
                f"Forgot QuickBooks invoice {view.qb_invoice_id} (verified gone); sending again.",
                {"qb_invoice_id": {"from": view.qb_invoice_id, "to": None}},
            )
        current = ctx.sync.current_result(view.load_number)
        if current.state == "synced":
            return nothing_to_do("Nothing to clear: the load is synced.")
        if "duplicate_load_number" not in {r.code for r in current.reasons}:
            return nothing_to_do(
                f"Nothing to clear: load {view.load_number} has no QuickBooks invoice, and none numbered "
                f"{view.doc_number} is in the way."
            )
        ctx.update_load(view, sync_generation=view.sync_generation + 1)
        return applied(
            f"No invoice numbered {view.doc_number} is in the way any more; sending again.",
            {"verified_gone": True},
        )
