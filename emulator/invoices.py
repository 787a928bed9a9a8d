"""Invoice rules: validation, totals, DocNumber handling, create/update/delete.

DocNumber follows the company preference ``SalesFormsPrefs.CustomTxnNumbers``:

* **on** (the default here): a supplied DocNumber is kept; one already used by another
  (non-deleted) invoice is refused with 6140 unless ``include=allowduplicatedocnum`` is given;
  no DocNumber supplied means the invoice has none (Intuit's documented behaviour).
* **off**: QuickBooks numbers invoices itself (1001, 1002, ...) and a DocNumber supplied at create
  time is replaced by the next number. (Intuit's older reference says a supplied value is stored
  anyway; the emulator follows the stricter reading because that is what makes load numbers
  disappear in practice.) On update a supplied DocNumber changes that invoice, as documented.

A DocNumber longer than 21 characters is refused with 2050 in either case.

Voiding (``operation=void``) keeps the invoice but zeroes it: every line's Amount (and a sales
line's Qty, so Amount = Qty x UnitPrice still holds), TotalAmt and Balance become 0 and the memo
(``PrivateNote``) starts with "Voided" (prepended to the memo there was, as Intuit documents).
Payments applied to an invoice lower its ``Balance`` (:mod:`emulator.payments`); an update keeps
them, and a total below what was paid is refused (6000).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from emulator import changes, errors, payments
from emulator.defaults import USD
from emulator.records import (
    CENT,
    decimal,
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

DOC_NUMBER_MAX = 21

WRITABLE = (
    "CustomerRef",
    "Line",
    "DocNumber",
    "TxnDate",
    "DueDate",
    "PrivateNote",
    "CustomerMemo",
    "BillEmail",
    "BillEmailCc",
    "BillEmailBcc",
    "BillAddr",
    "ShipAddr",
    "ShipDate",
    "TrackingNum",
    "SalesTermRef",
    "ClassRef",
    "DepartmentRef",
    "CustomField",
    "EmailStatus",
    "PrintStatus",
    "AllowIPNPayment",
    "AllowOnlinePayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment",
    "ApplyTaxAfterDiscount",
)

# Properties copied through unchanged when they carry a value.
PASSTHROUGH = (
    "PrivateNote",
    "CustomerMemo",
    "BillEmailCc",
    "BillEmailBcc",
    "BillAddr",
    "ShipAddr",
    "ShipDate",
    "TrackingNum",
    "SalesTermRef",
    "ClassRef",
    "DepartmentRef",
)


def _date(fields: dict[str, Any], key: str, default: str) -> str:
    value = text(fields, key)
    if value is None:
        return default
    try:
        return parse_date(value).isoformat()
    except ValueError as exc:
        raise errors.invalid_property(f"{key}: invalid date '{value}'", key) from exc


def _sales_line(realm: Realm, line: dict[str, Any]) -> tuple[dict[str, Any], Decimal]:
    detail = line.get("SalesItemLineDetail")
    if not isinstance(detail, dict):
        raise errors.required_missing("Line.SalesItemLineDetail")
    if not present(line.get("Amount")):
        raise errors.required_missing("Line.Amount")
    amount = money(line["Amount"], "Line.Amount")
    element = "Line.SalesItemLineDetail.ItemRef"
    item = resolve_ref(realm, "Item", ref_value(detail, "ItemRef"), element)
    out_detail: dict[str, Any] = {"ItemRef": {"value": item["Id"], "name": item["FullyQualifiedName"]}}
    qty = decimal(detail["Qty"], "Line.SalesItemLineDetail.Qty") if present(detail.get("Qty")) else None
    price = (
        decimal(detail["UnitPrice"], "Line.SalesItemLineDetail.UnitPrice")
        if present(detail.get("UnitPrice"))
        else None
    )
    if qty and price and (qty * price).quantize(CENT) != amount:
        raise errors.QBOError(
            6070,
            "Amount is not equal to UnitPrice * Qty",
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
        )
    if price:
        out_detail["UnitPrice"] = price
    if qty:
        out_detail["Qty"] = qty
    income = item.get("IncomeAccountRef")
    if income:
        out_detail["ItemAccountRef"] = dict(income)
    if present(detail.get("ServiceDate")):
        out_detail["ServiceDate"] = _date(detail, "ServiceDate", "")
    out_detail["TaxCodeRef"] = {"value": "NON"}
    out = {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": out_detail}
    if present(line.get("Description")):
        out["Description"] = str(line["Description"])
    return out, amount


def _lines(realm: Realm, lines: Any) -> tuple[list[dict[str, Any]], Decimal]:
    if not isinstance(lines, list):
        raise errors.required_missing("Line")
    out: list[dict[str, Any]] = []
    total = Decimal("0.00")
    for line in lines:
        if not isinstance(line, dict):
            raise errors.invalid_property("Line must be a list of objects", "Line")
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue  # computed by QuickBooks; whatever was sent is replaced
        if kind == "SalesItemLineDetail":
            built, amount = _sales_line(realm, line)
            total += amount
        elif kind == "DescriptionOnly":
            built = {"DetailType": "DescriptionOnly", "Amount": Decimal("0.00"), "DescriptionLineDetail": {}}
            if present(line.get("Description")):
                built["Description"] = str(line["Description"])
        else:
            raise errors.invalid_property(f"Line.DetailType '{kind}' is not supported", "Line.DetailType")
        out.append(built)
    if not any(line["DetailType"] == "SalesItemLineDetail" for line in out):
        raise errors.business_validation("You must fill out at least one split line.", "Line")
    for number, line in enumerate(out, start=1):
        line["Id"] = str(number)
        line["LineNum"] = number
    out.append({"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return out, total


def _doc_number(
    realm: Realm, fields: dict[str, Any], existing: dict[str, Any] | None, allow_duplicate: bool
) -> str | None:
    supplied = text(fields, "DocNumber")
    if supplied is not None and len(supplied) > DOC_NUMBER_MAX:
        raise errors.string_length("DocNumber", DOC_NUMBER_MAX, len(supplied))
    custom = realm.custom_txn_numbers()
    if existing is None and not custom:
        number = str(realm.next_doc_number)
        realm.next_doc_number += 1
        return number
    if existing is not None and supplied is None:
        return existing.get("DocNumber")
    if supplied is not None and custom and not allow_duplicate:
        own_id = existing["Id"] if existing else None
        for other in realm.all("Invoice"):
            if other["Id"] != own_id and other.get("DocNumber") == supplied:
                raise errors.duplicate_doc_number(supplied, other["Id"])
    return supplied


def _build(
    realm: Realm, fields: dict[str, Any], existing: dict[str, Any] | None, allow_duplicate: bool
) -> dict[str, Any]:
    """Validate the effective writable fields and compute the stored invoice (minus system keys)."""
    customer = resolve_ref(realm, "Customer", ref_value(fields, "CustomerRef"), "CustomerRef")
    lines, total = _lines(realm, fields.get("Line"))
    txn_date = _date(fields, "TxnDate", today())
    due_date = _date(fields, "DueDate", txn_date)
    doc_number = _doc_number(realm, fields, existing, allow_duplicate)
    invoice: dict[str, Any] = {}
    if doc_number is not None:
        invoice["DocNumber"] = doc_number
    invoice.update(
        {
            "TxnDate": txn_date,
            "DueDate": due_date,
            "CurrencyRef": dict(USD),
            "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
            "Line": lines,
            "TxnTaxDetail": {"TotalTax": 0},
            "TotalAmt": total,
            "Balance": total,
            "Deposit": 0,
            "ApplyTaxAfterDiscount": bool(fields.get("ApplyTaxAfterDiscount") or False),
            "PrintStatus": text(fields, "PrintStatus") or "NotSet",
            "EmailStatus": text(fields, "EmailStatus") or "NotSet",
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": bool(fields.get("AllowOnlineCreditCardPayment") or False),
            "AllowOnlineACHPayment": bool(fields.get("AllowOnlineACHPayment") or False),
            "CustomField": fields.get("CustomField") if isinstance(fields.get("CustomField"), list) else [],
            "LinkedTxn": [],
        }
    )
    for key in PASSTHROUGH:
        if present(fields.get(key)):
            invoice[key] = fields[key]
    bill_email = fields.get("BillEmail")
    if isinstance(bill_email, dict) and present(bill_email.get("Address")):
        invoice["BillEmail"] = {"Address": str(bill_email["Address"])}
    elif isinstance(customer.get("PrimaryEmailAddr"), dict):
        invoice["BillEmail"] = dict(customer["PrimaryEmailAddr"])
    return invoice


def create(realm: Realm, body: dict[str, Any], allow_duplicate: bool = False) -> dict[str, Any]:
    return realm.insert("Invoice", _build(realm, writable(body, WRITABLE), None, allow_duplicate))


def update(realm: Realm, body: dict[str, Any], allow_duplicate: bool = False) -> dict[str, Any]:
    existing = existing_for_update(realm, "Invoice", body)
    if is_sparse(body):
        fields = {**writable(existing, WRITABLE), **writable(body, WRITABLE)}
    else:
        fields = writable(body, WRITABLE)
    built = _build(realm, fields, existing, allow_duplicate)
    paid = payments.applied_to(realm, existing["Id"])
    if paid > built["TotalAmt"]:
        raise errors.business_validation(
            f"The invoice total {built['TotalAmt']} is less than the payments applied to it ({paid}).",
            "Line",
        )
    built["Balance"] = built["TotalAmt"] - paid
    built["LinkedTxn"] = list(existing.get("LinkedTxn") or [])
    record = {key: existing[key] for key in ("Id", "SyncToken", "MetaData", "domain")}
    record.update({"sparse": False, **built})
    return realm.replace("Invoice", record)


def delete(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    existing = existing_for_update(realm, "Invoice", body)
    payments.detach_invoice(realm, existing["Id"])
    realm.delete("Invoice", existing["Id"])
    return {"status": "Deleted", "domain": "QBO", "Id": existing["Id"]}


def void(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    """Void: the invoice stays, worth nothing, its memo "Voided"; payments on it become unapplied."""
    existing = existing_for_update(realm, "Invoice", body)
    payments.detach_invoice(realm, existing["Id"])
    record = copy.deepcopy(existing)
    zero = Decimal("0.00")
    for line in record["Line"]:
        line["Amount"] = zero
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, dict):
            detail["Qty"] = zero
    record["TotalAmt"] = zero
    record["Balance"] = zero
    memo = record.get("PrivateNote") or ""
    record["PrivateNote"] = f"Voided {memo}".strip() if not memo.startswith("Voided") else memo
    record["LinkedTxn"] = [link for link in record.get("LinkedTxn") or [] if link.get("TxnType") != "Payment"]
    return realm.replace("Invoice", record, operation=changes.VOID)
