"""Payment rules: receiving money from a customer and applying it to that customer's invoices.

A payment needs ``CustomerRef`` and ``TotalAmt``; each ``Line`` applies ``Amount`` to one invoice
named by ``LinkedTxn: [{"TxnId": <invoice id>, "TxnType": "Invoice"}]``. What is not applied stays
on the payment as ``UnappliedAmt``.

* unknown customer or invoice -> 2500 Invalid Reference Id (inactive customer -> 610);
* an invoice of another customer, lines adding up to more than ``TotalAmt``, or more applied to an
  invoice than its ``Balance`` -> 6000 business validation fault (the emulator's choice: Intuit
  documents no dedicated code for these);
* applying a payment lowers each invoice's ``Balance`` and links the payment on the invoice
  (``LinkedTxn: [{"TxnId": <payment id>, "TxnType": "Payment"}]``); that is an update of the
  invoice (SyncToken + 1, LastUpdatedTime), as in QuickBooks;
* updating a payment re-applies it; deleting it gives the invoices their balance back;
* voiding it (``operation=update&include=void`` with ``{"Id", "SyncToken", "sparse": true}``, the
  way QuickBooks voids payments) keeps it worth 0 with the memo "Voided" and gives the invoices
  their balance back.

When an invoice is voided or deleted, the payments applied to it keep their money as unapplied
(:func:`detach_invoice`).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from emulator import changes, errors
from emulator.defaults import USD
from emulator.records import (
    existing_for_update,
    is_sparse,
    money,
    present,
    ref_value,
    resolve_ref,
    text,
    writable,
)
from emulator.state import Realm
from emulator.timeutil import parse_date, today

WRITABLE = (
    "CustomerRef",
    "TotalAmt",
    "Line",
    "TxnDate",
    "PaymentRefNum",
    "PrivateNote",
    "DepositToAccountRef",
    "PaymentMethodRef",
)
ZERO = Decimal("0.00")
LINK_ELEMENT = "Line.LinkedTxn.TxnId"

Applications = dict[str, Decimal]  # invoice id -> amount applied


def applications(payment: dict[str, Any] | None) -> Applications:
    """How much of a stored payment is applied to each invoice."""
    applied: Applications = {}
    for line in (payment or {}).get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == "Invoice":
                applied[link["TxnId"]] = applied.get(link["TxnId"], ZERO) + Decimal(str(line["Amount"]))
    return applied


def applied_to(realm: Realm, invoice_id: str) -> Decimal:
    """The total of all payments applied to an invoice."""
    return sum((applications(p).get(invoice_id, ZERO) for p in realm.all("Payment")), ZERO)


def _invalid_business(detail: str, element: str = "") -> errors.QBOError:
    return errors.business_validation(detail, element)


def _line(realm: Realm, line: Any, customer_id: str) -> tuple[dict[str, Any], str, Decimal]:
    if not isinstance(line, dict):
        raise errors.invalid_property("Line must be a list of objects", "Line")
    if not present(line.get("Amount")):
        raise errors.required_missing("Line.Amount")
    amount = money(line["Amount"], "Line.Amount")
    if amount <= 0:
        raise errors.invalid_property("Line.Amount must be greater than 0", "Line.Amount")
    links = line.get("LinkedTxn")
    if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
        raise errors.invalid_property("a payment line needs exactly one LinkedTxn", "Line.LinkedTxn")
    link = links[0]
    if link.get("TxnType") != "Invoice":
        raise errors.invalid_property(
            f"LinkedTxn.TxnType '{link.get('TxnType')}' is not supported (Invoice only)",
            "Line.LinkedTxn.TxnType",
        )
    if not present(link.get("TxnId")):
        raise errors.required_missing(LINK_ELEMENT)
    invoice = realm.get("Invoice", link["TxnId"])
    if invoice is None:
        raise errors.invalid_reference("Invoice", link["TxnId"], LINK_ELEMENT)
    if invoice["CustomerRef"]["value"] != customer_id:
        raise _invalid_business(
            f"Invoice {invoice['Id']} belongs to another customer than the payment's.", LINK_ELEMENT
        )
    built = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    return built, invoice["Id"], amount


def _build(
    realm: Realm, fields: dict[str, Any], previous: Applications
) -> tuple[dict[str, Any], Applications]:
    """Validate; the stored payment (minus system keys) and what it applies to each invoice.

    ``previous`` is what the payment applied before an update: that money is available again.
    """
    customer = resolve_ref(realm, "Customer", ref_value(fields, "CustomerRef"), "CustomerRef")
    if not present(fields.get("TotalAmt")):
        raise errors.required_missing("TotalAmt")
    total = money(fields["TotalAmt"], "TotalAmt")
    if total < 0:
        raise errors.invalid_property("TotalAmt must not be negative", "TotalAmt")
    raw_lines = fields.get("Line") or []
    if not isinstance(raw_lines, list):
        raise errors.invalid_property("Line must be a list of objects", "Line")
    lines: list[dict[str, Any]] = []
    applied: Applications = {}
    for raw in raw_lines:
        built, invoice_id, amount = _line(realm, raw, customer["Id"])
        lines.append(built)
        applied[invoice_id] = applied.get(invoice_id, ZERO) + amount
    if sum(applied.values(), ZERO) > total:
        raise _invalid_business("The amount applied to invoices is more than the payment's TotalAmt.", "Line")
    for invoice_id, amount in applied.items():
        invoice = realm.get("Invoice", invoice_id) or {}
        available = Decimal(str(invoice.get("Balance", 0))) + previous.get(invoice_id, ZERO)
        if amount > available:
            raise _invalid_business(
                f"The payment applies {amount} to invoice {invoice_id}, whose balance is {available}.",
                "Line.Amount",
            )
    txn_date = text(fields, "TxnDate")
    try:
        txn_date = parse_date(txn_date).isoformat() if txn_date else today()
    except ValueError as exc:
        raise errors.invalid_property(f"TxnDate: invalid date '{txn_date}'", "TxnDate") from exc
    payment: dict[str, Any] = {
        "TxnDate": txn_date,
        "CurrencyRef": dict(USD),
        "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
        "TotalAmt": total,
        "UnappliedAmt": total - sum(applied.values(), ZERO),
        "ProcessPayment": False,
        "Line": lines,
        "DepositToAccountRef": _deposit_account(realm, fields),
    }
    for key in ("PaymentRefNum", "PrivateNote"):
        if text(fields, key) is not None:
            payment[key] = text(fields, key)
    if isinstance(fields.get("PaymentMethodRef"), dict):
        payment["PaymentMethodRef"] = fields["PaymentMethodRef"]
    return payment, applied


def _deposit_account(realm: Realm, fields: dict[str, Any]) -> dict[str, Any]:
    ref_id = ref_value(fields, "DepositToAccountRef")
    if ref_id is not None:
        account = resolve_ref(realm, "Account", ref_id, "DepositToAccountRef")
        return {"value": account["Id"], "name": account["Name"]}
    for account in realm.all("Account"):
        if account.get("AccountSubType") == "UndepositedFunds":
            return {"value": account["Id"], "name": account["Name"]}
    return {}


def _rebalance(realm: Realm, payment_id: str, before: Applications, after: Applications) -> None:
    """Move invoice balances and links from what a payment applied ``before`` to ``after``."""
    for invoice_id in sorted(set(before) | set(after), key=int):
        delta = after.get(invoice_id, ZERO) - before.get(invoice_id, ZERO)
        stored = realm.get("Invoice", invoice_id)
        if stored is None:
            continue
        invoice = copy.deepcopy(stored)
        links = [
            link
            for link in invoice.get("LinkedTxn") or []
            if not (link.get("TxnType") == "Payment" and link.get("TxnId") == payment_id)
        ]
        if invoice_id in after:
            links.append({"TxnId": payment_id, "TxnType": "Payment"})
        if delta == 0 and links == invoice.get("LinkedTxn"):
            continue
        balance = Decimal(str(invoice["Balance"])) - delta
        invoice["Balance"] = min(max(balance, ZERO), Decimal(str(invoice["TotalAmt"])))
        invoice["LinkedTxn"] = links
        realm.replace("Invoice", invoice)


def create(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    built, applied = _build(realm, writable(body, WRITABLE), {})
    payment = realm.insert("Payment", built)
    _rebalance(realm, payment["Id"], {}, applied)
    return payment


def update(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    existing = existing_for_update(realm, "Payment", body)
    if is_sparse(body):
        fields = {**writable(existing, WRITABLE), **writable(body, WRITABLE)}
    else:
        fields = writable(body, WRITABLE)
    before = applications(existing)
    built, applied = _build(realm, fields, before)
    record = {key: existing[key] for key in ("Id", "SyncToken", "MetaData", "domain")}
    record.update({"sparse": False, **built})
    payment = realm.replace("Payment", record)
    _rebalance(realm, payment["Id"], before, applied)
    return payment


def delete(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    existing = existing_for_update(realm, "Payment", body)
    _rebalance(realm, existing["Id"], applications(existing), {})
    realm.delete("Payment", existing["Id"])
    return {"status": "Deleted", "domain": "QBO", "Id": existing["Id"]}


def void(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    existing = existing_for_update(realm, "Payment", body)
    _rebalance(realm, existing["Id"], applications(existing), {})
    payment = copy.deepcopy(existing)
    for line in payment["Line"]:
        line["Amount"] = ZERO
    payment.update({"TotalAmt": ZERO, "UnappliedAmt": ZERO, "PrivateNote": "Voided"})
    return realm.replace("Payment", payment, operation=changes.VOID)


def detach_invoice(realm: Realm, invoice_id: str) -> None:
    """An invoice is voided or deleted: payments applied to it keep that money as unapplied."""
    for stored in realm.all("Payment"):
        amount = applications(stored).get(invoice_id)
        if amount is None:
            continue
        payment = copy.deepcopy(stored)
        payment["Line"] = [
            line
            for line in payment["Line"]
            if not any(link.get("TxnId") == invoice_id for link in line.get("LinkedTxn") or [])
        ]
        payment["UnappliedAmt"] = Decimal(str(payment["UnappliedAmt"])) + amount
        realm.replace("Payment", payment)
