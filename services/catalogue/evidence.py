"""A reason's evidence as labelled lines of plain text (``evidence_lines``: money one way, no
``True``/``None``/empty lists) and one option a fix offers (``choice_text``)."""

from __future__ import annotations

from typing import Any

from services.catalogue.reasons import TRANSIENT
from services.catalogue.status import waiting_words
from services.catalogue.values import money, when


def _customer(entry: dict[str, Any]) -> str:
    name = entry.get("name") or "(no name)"
    parts = [f"QuickBooks customer {entry['id']}" if entry.get("id") else None, name]
    text = " ".join(p for p in parts if p)
    if entry.get("email"):
        text += f" <{entry['email']}>"
    return text


def _item(entry: dict[str, Any]) -> str:
    text = f"item {entry.get('id')} {entry.get('full_name') or entry.get('name') or ''}".rstrip()
    if entry.get("active") is False:
        text += " (inactive)"
    return text


_CODE_PROBLEMS = {
    "missing": "not in QuickBooks Products and Services",
    "duplicate": "more than once in QuickBooks Products and Services",
    "inactive": "inactive in QuickBooks Products and Services",
}


def evidence_lines(code: str, evidence: dict[str, Any], *, dates: bool = True) -> list[tuple[str, str]]:
    """The evidence of one reason as (label, text) lines, in plain words; empty values are left out.
    ``dates=False`` leaves out the lines made of times (a renderer that shows times its own way adds
    them: ``waiting_words``)."""
    ev = evidence or {}
    lines: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value is None or value == "" or value == [] or value == {}:
            return
        lines.append((label, value if isinstance(value, str) else _plain(value)))

    if code == "customer_not_synced":
        add("TMS customer", ev.get("tms_customer"))
        add("TMS QuickBooks email", ev.get("tms_email") or "(empty)" if "tms_email" in ev else None)
        add("Linked QuickBooks customer", ev.get("linked_qb_customer_id"))
        if ev.get("gone_in_quickbooks"):
            add("Changed in QuickBooks", f"{ev['gone_in_quickbooks']} {when(ev.get('changed_at'))}")
        for entry in ev.get("qb_customers_with_this_email") or []:
            add("QuickBooks customer with this email", _customer(entry))
        for entry in ev.get("candidates") or []:
            add("Closest QuickBooks customer", _customer(entry))
    elif code == "charge_codes_not_synced" and ev.get("charge_codes"):
        for entry in ev["charge_codes"]:
            problem = _CODE_PROBLEMS.get(entry.get("problem") or "missing", "not synced")
            text = f"{entry.get('code')} ({entry.get('name')}): {problem}"
            items = [_item(i) for i in entry.get("qb_items") or []]
            if items:
                text += ": " + "; ".join(items)
            add("Charge code", text)
    elif code == "duplicate_load_number" and ev.get("qb_invoice_id"):
        text = f"invoice {ev.get('doc_number') or ''} (id {ev['qb_invoice_id']})".replace("  ", " ")
        add("Manual QuickBooks invoice", text)
        add("Its customer", ev.get("customer"))
        add("Its total", money(ev["total"]) if ev.get("total") is not None else None)
        add("Its date", ev.get("date"))
    elif code == "customer_changed":
        synced = ev.get("synced_customer") or {}
        current = ev.get("current_customer") or {}
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        qb_name = synced.get("qb_customer_name")
        was = synced.get("name") or synced.get("tms_id")
        if qb_name and qb_name != was:
            was = f"{was} (QuickBooks: {qb_name})"
        add("Synced for", was)
        add("Load now for", current.get("name") or current.get("tms_id"))
        moved = ev.get("qb_customer_now") or {}
        add("QuickBooks invoice now for", moved.get("name") or moved.get("id"))
    elif code == "amount_mismatch":
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        add("QuickBooks total", money(ev["qb_total"]) if ev.get("qb_total") is not None else None)
        add("Load total", money(ev["tms_total"]) if ev.get("tms_total") is not None else None)
    elif code == "qb_invoice_deleted":
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        add("Deleted by", ev.get("changed_by"))
        add("Deleted at", when(ev["changed_at"]) if ev.get("changed_at") else None)
    elif code == "qb_invoice_voided":
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        add("Voided by", ev.get("changed_by"))
        add("Voided at", when(ev["changed_at"]) if ev.get("changed_at") else None)
        add("Total before", money(ev["synced_total"]) if ev.get("synced_total") is not None else None)
    elif code == "doc_number_too_long" and ev.get("length"):
        add("Load number", f"{ev.get('load_number')} ({ev['length']} characters, at most {ev.get('max')})")
        add("QuickBooks invoice number set", ev.get("qb_doc_number"))
        add("Suggested invoice number", ev.get("suggested_doc_number"))
    elif code == "custom_txn_numbers_off" and "preference" in ev:
        add("QuickBooks setting", "Custom transaction numbers: off")
    elif code == "qb_not_connected" and "connection" in ev:
        add("Connection", str(ev["connection"]))
        add("Detail", ev.get("detail"))
    elif code in TRANSIENT and ev.get("from_last_attempt"):
        if dates:
            failed, retry = ev.get("failed_at"), ev.get("retry_at")
            shown = waiting_words(when(failed) if failed else None, when(retry) if retry else None)
            for label, text in shown:
                add(label, text)
    elif code == "load_not_found":
        near = ev.get("near_matches") or []
        add("Near matches", ", ".join(near) if near else None)
    else:
        _generic(ev, add)
        return lines
    _qb_fault(ev, add)
    return lines


def choice_text(choice: dict[str, Any]) -> str:
    """One option a fix offers (a QuickBooks customer, the items for a charge code, an invoice
    number) in plain words."""
    if "doc_number" in choice:
        return str(choice["doc_number"])
    if "qb_items" in choice:
        items = "; ".join(_item(i) for i in choice.get("qb_items") or [])
        return f"{choice.get('code')} ({choice.get('name')}): {items}" if items else str(choice.get("code"))
    if "id" in choice or "email" in choice:
        return _customer(choice)
    return _plain(choice)


def _qb_fault(ev: dict[str, Any], add) -> None:
    """QuickBooks' own code and message, where a reason came from a Fault."""
    if ev.get("qb_code"):
        add("QuickBooks error", f"{ev['qb_code']}: {ev.get('detail') or ''}".rstrip(": "))
        add("Field", ev.get("element"))
        add("Intuit request id", ev.get("intuit_tid"))


_GENERIC_LABELS = {
    "qb_code": "QuickBooks error code",
    "detail": "QuickBooks says",
    "element": "Field",
    "intuit_tid": "Intuit request id",
    "from_last_attempt": None,
}


def _generic(ev: dict[str, Any], add) -> None:
    for key, value in ev.items():
        if key in _GENERIC_LABELS and _GENERIC_LABELS[key] is None:
            continue
        label = _GENERIC_LABELS.get(key) or key.replace("_", " ").capitalize()
        add(label, value)
    if ev.get("from_last_attempt"):
        add("When", "at the last attempt (QuickBooks is only asked again by a retry)")


def _plain(value: Any) -> str:
    """A value as words: booleans as yes/no, lists and dicts flattened, nothing empty shown."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [
            f"{k.replace('_', ' ')} {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {})
        ]
        return ", ".join(parts)
    if isinstance(value, list | tuple):
        return "; ".join(_plain(v) for v in value if v not in (None, "", [], {}))
    return str(value)
