"""The fixes of a load's customer: ``link_customer`` (to a QuickBooks customer a person chooses),
``create_customer``, ``update_customer_email`` (a person types or picks the email) and
``push_customer_change`` (the synced invoice follows the load's new customer); with how the customer
and email choices are offered."""

from __future__ import annotations

from typing import Any

from services.fixes import choices
from services.fixes.base import Fix
from services.fixes.choice import Choice, ChoiceKind, Offer, required
from services.fixes.context import FixContext, Options, qb_id
from services.fixes.matching import customer_brief, is_active, match_customer, normalize_email
from services.fixes.outcome import Outcome, applied, needs_choice, nothing_to_do, refused
from services.quickbooks import QboError
from services.quickbooks.escape import needs_prefix_match, quote, safe_prefix
from services.store.models import Customer, utcnow
from services.store.storage import write_session
from services.sync import LoadView, SyncEngine
from services.sync.company import ALL_STATES
from services.tms.records import clean_email


def offer_customers(sync: SyncEngine, load: str) -> Offer:
    """Every QuickBooks customer to search, the likely ones first."""
    customers = choices.customer_list(sync, load)
    if not customers.has_active():
        return Offer(notice="QuickBooks has no active customer to link. Create the customer instead.")
    likely, _ = customers.answer()
    return Offer(subject=sync.read_view(load).customer.name, options=likely, searched=customers)


def offer_emails(sync: SyncEngine, load: str) -> Offer:
    """The TMS customer's QuickBooks email now, and the likely QuickBooks customers' emails."""
    customer = sync.read_view(load).customer
    current, options = choices.email_options(sync, load)
    return Offer(subject=customer.name, current=current, options=options)


class LinkCustomer(Fix):
    code = "link_customer"
    choice = Choice(
        ChoiceKind.CUSTOMER, "customer_id", offer_customers, required("Choose a QuickBooks customer.")
    )

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        wanted = qb_id(options.customer_id, "link_customer needs --customer-id (a QuickBooks customer id)")
        customer = ctx.api.read("Customer", wanted)
        if customer is None:
            return refused(f"QuickBooks has no customer {wanted}.")
        if not is_active(customer):
            return refused(f"QuickBooks customer {wanted} ({customer.get('DisplayName')}) is inactive.")
        tms = view.customer
        if tms.qb_customer_id == wanted:
            return nothing_to_do(f"{tms.name} is already linked to QuickBooks customer {wanted}.")
        set_customer(ctx, tms.id, qb_customer_id=wanted)
        brief = customer_brief(customer)
        return applied(
            f"Linked {tms.name} to QuickBooks customer {wanted} ({brief['name']}).",
            {"tms_customer": tms.id, "qb_customer_id": {"from": tms.qb_customer_id, "to": wanted}},
        )


class CreateCustomer(Fix):
    code = "create_customer"

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        tms = view.customer
        customers = ctx.api.query_all("Customer", ALL_STATES)
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        if match.customer is not None:
            found = match.customer["Id"]
            if tms.qb_customer_id == found:
                return nothing_to_do(f"{tms.name} is already in QuickBooks (customer {found}).")
            set_customer(ctx, tms.id, qb_customer_id=found)
            return applied(
                f"{tms.name} already exists in QuickBooks; linked it.",
                {"qb_customer_id": {"from": tms.qb_customer_id, "to": found}},
            )
        body: dict[str, Any] = {"DisplayName": tms.name, "CompanyName": tms.name}
        if tms.qb_email:
            body["PrimaryEmailAddr"] = {"Address": tms.qb_email}
        try:
            created = ctx.api.create("Customer", body, request_id=ctx.request_id("create_customer", tms.id))
        except QboError as exc:
            if exc.code != "6240":
                raise
            named = [customer_brief(c) for c in customers_named(ctx, tms.name)]
            where = (
                f"customer {named[0]['id']} ({named[0]['email'] or 'no email'})"
                if named
                else "a vendor or employee"
            )
            return needs_choice(
                f"QuickBooks already has {where} named “{tms.name}”. Link to it (link_customer), or rename "
                "the customer in the TMS and create it again.",
                named,
            )
        set_customer(ctx, tms.id, qb_customer_id=created["Id"])
        return applied(
            f"Created QuickBooks customer {created['Id']} for {tms.name} and linked it.",
            {"created_qb_customer": customer_brief(created)},
        )


class UpdateCustomerEmail(Fix):
    code = "update_customer_email"
    choice = Choice(ChoiceKind.EMAIL, "email", offer_emails, clean_email)

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        tms = view.customer
        if not options.email:
            customers = ctx.api.query_all("Customer")
            match = match_customer(tms.name, tms.qb_email, None, customers)
            found = (
                match.evidence.get("candidates") or match.evidence.get("qb_customers_with_this_email") or []
            )
            return needs_choice(
                f"Which email should {tms.name} use? Pass --email (QuickBooks candidates listed).",
                [c for c in found if c.get("email")],
            )
        email = clean_email(options.email)
        linked_ok = False
        if tms.qb_customer_id:
            linked = ctx.api.read("Customer", tms.qb_customer_id)
            linked_ok = linked is not None and is_active(linked)
        if normalize_email(tms.qb_email) == normalize_email(email) and (linked_ok or not tms.qb_customer_id):
            return nothing_to_do(f"{tms.name}'s QuickBooks email is already {email}.")
        set_customer(ctx, tms.id, qb_email=email, qb_customer_id=tms.qb_customer_id if linked_ok else None)
        return applied(
            f"Set {tms.name}'s QuickBooks email to {email} (was {tms.qb_email or 'empty'}).",
            {"tms_customer": tms.id, "qb_email": {"from": tms.qb_email, "to": email}},
        )


class PushCustomerChange(Fix):
    code = "push_customer_change"

    def apply(self, ctx: FixContext, view: LoadView, options: Options) -> Outcome:
        invoice = ctx.synced_invoice(view)
        if isinstance(invoice, Outcome):
            return invoice
        customers = ctx.api.query_all("Customer", ALL_STATES)
        tms = view.customer
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        if match.customer is None:
            return refused(
                f"{tms.name} is not synced to QuickBooks ({match.problem}); "
                "link or create the customer first."
            )
        wanted = match.customer["Id"]
        current = (invoice.get("CustomerRef") or {}).get("value")
        if current == wanted and view.synced_customer_id == tms.id:
            return nothing_to_do(f"Invoice {invoice['Id']} is already for {tms.name}.")
        changes_to_send: dict[str, Any] = {"CustomerRef": {"value": wanted}}
        email = (match.customer.get("PrimaryEmailAddr") or {}).get("Address")
        if email:
            changes_to_send["BillEmail"] = {"Address": email}
        if not tms.qb_customer_id:  # first: a sync after a crash below knows the invoice is up to date
            set_customer(ctx, tms.id, qb_customer_id=wanted)
        if current != wanted:
            invoice = ctx.sparse_update("Invoice", invoice, changes_to_send, scope=ctx.scope(view))
        ctx.update_load(
            view, qb_customer_id=wanted, synced_customer_id=tms.id, qb_sync_token=invoice["SyncToken"]
        )
        return applied(
            f"Invoice {invoice['Id']} is now for {tms.name} (QuickBooks customer {wanted}).",
            {"qb_invoice_id": invoice["Id"], "CustomerRef": {"from": current, "to": wanted}},
        )


def set_customer(ctx: FixContext, customer_id: str, **values: Any) -> None:
    with write_session(ctx.engine) as session:
        customer = session.get(Customer, customer_id)
        for name, value in values.items():
            setattr(customer, name, value)
        customer.updated_at = utcnow()


def customers_named(ctx: FixContext, name: str) -> list[dict[str, Any]]:
    """QuickBooks customers called ``name`` (names compare without case). A curly quote never goes
    into a query: the part before it is matched with LIKE and the whole name compared here."""
    if needs_prefix_match(name):
        prefix = safe_prefix(name)
        where = f"DisplayName LIKE {quote(prefix + '%')} AND {ALL_STATES}" if prefix else ALL_STATES
    else:
        where = f"DisplayName = {quote(name)} AND {ALL_STATES}"
    rows = ctx.api.query_all("Customer", where)
    return [c for c in rows if str(c.get("DisplayName") or "").casefold() == name.casefold()]
