"""How the billing clerk of the demo handles each reason: diagnose the load, make the human choice
the evidence points to (and say it), apply the fix, until the load is synced (``Clerk.resolve``); and
the clerk's helpers that change the TMS and QuickBooks along the way. ``demo.walkthrough``'s ``Story``
is a clerk telling the week's acts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from sqlmodel import Session, select

from demo import data as demo_data
from demo.environment import DemoEnvironment
from demo.narrator import Narrator
from services.catalogue import money
from services.connect.flow import complete_authorization
from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.reasons import Reason
from services.fixes.fixer import FixResult
from services.fixes.matching import normalize_name
from services.store.models import Load
from services.tms.importer import import_data
from services.tms.summary import ImportSummary

ACTOR = "demo"


class Clerk:
    """The billing clerk: each reason's handler, and the helpers the story's acts use."""

    def __init__(self, env: DemoEnvironment, out: Narrator, today: dt.date) -> None:
        self.env = env
        self.svc = env.services
        self.emu = env.emulator
        self.out = out
        self.today = today
        self.sample = demo_data.build(today)
        self.redated: set[str] = set()
        self.handlers: dict[str, Callable[[str, Reason], Diagnosis]] = {
            "qb_not_connected": self._connect,
            "custom_txn_numbers_off": self._numbering_on,
            "doc_number_too_long": self._shorten,
            "customer_not_synced": self._customer,
            "charge_codes_not_synced": self._charge_codes,
            "duplicate_load_number": self._duplicate,
            "customer_changed": self._customer_changed,
            "qb_invoice_deleted": self._deleted,
            "qb_invoice_voided": self._voided,
            "amount_mismatch": self._amount,
            "qb_validation_error": self._rejected,
        }

    def resolve(self, number: str, recorded: list[Reason] | None = None) -> Diagnosis:
        """Diagnose the load, then apply the fix its first reason names until nothing blocks it."""
        diagnosis = self.svc.diagnoser.diagnose(number)
        self.out.diagnosis(diagnosis, recorded)
        for _ in range(6):
            if diagnosis.state in ("synced", "not_found"):
                break
            if not diagnosis.reasons:
                diagnosis = self._fix(
                    diagnosis.load_number, "retry", "Nothing blocks it now: retry."
                ).diagnosis
            else:
                reason = diagnosis.reasons[0]
                handler = self.handlers.get(reason.code, self._retry)
                diagnosis = handler(diagnosis.load_number, reason)
            diagnosis = diagnosis or self.svc.diagnoser.diagnose(number)
        self.out.outcome(diagnosis)
        return diagnosis

    def _fix(self, number: str, fix: str, why: str, **options: Any) -> FixResult:
        self.out.choice(why)
        result = self.svc.fixer.apply(number, fix, ACTOR, admin=True, **options)
        self.out.fix(result)
        return result

    def _retry(self, number: str, reason: Reason) -> Diagnosis:
        return self._fix(number, "retry", "Retry.").diagnosis

    def _deleted(self, number: str, reason: Reason) -> Diagnosis:
        why = (
            "The invoice was deleted by mistake: clear the QuickBooks ID so the load is sent again "
            "(the fix first checks that it is really gone)."
        )
        return self._fix(number, "clear_qb_id", why).diagnosis

    def _voided(self, number: str, reason: Reason) -> Diagnosis:
        why = (
            "The customer changed its mind and the move went ahead: clear the voided invoice's QuickBooks ID "
            "so the load is invoiced again."
        )
        return self._fix(number, "clear_qb_id", why).diagnosis

    def _amount(self, number: str, reason: Reason) -> Diagnosis:
        why = "The TMS is right (3 more chassis days): push the load's charges to the QuickBooks invoice."
        return self._fix(number, "push_invoice_update", why).diagnosis

    def _rejected(self, number: str, reason: Reason) -> Diagnosis:
        if reason.evidence.get("qb_code") == "6210" and number not in self.redated:
            self._redate(self.sample.load(number))
        return self._retry(number, reason)

    def _redate(self, load: dict[str, Any]) -> ImportSummary:
        moved = {**load, "invoice_date": self.today.isoformat()}
        summary = self._import([moved])
        self.redated.add(load["load_number"])
        self.out.choice(
            f"QuickBooks names a closed period: billing moves the invoice date of load "
            f"{load['load_number']} from {load['invoice_date']} to {moved['invoice_date']} in the TMS "
            "(the books stay closed)."
        )
        return summary

    def _connect(self, number: str, reason: Reason) -> Diagnosis:
        result = self._fix(number, "connect", "Connect QuickBooks, as the diagnosis says.")
        url = result.changes["authorize_url"]
        answer = requests.get(url, allow_redirects=False, timeout=10)
        query = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
        if query.get("state") != result.changes["state"]:
            raise RuntimeError("the authorization answer carries another state")
        connected = complete_authorization(
            self.svc.connector,
            code=query["code"],
            realm_id=query["realmId"],
            actor=ACTOR,
            redirect_uri=self.env.settings.qbo_redirect_uri,
        )
        self.out.say(
            f"The clerk opens the authorization page and approves; Intuit redirects back with a code "
            f"for company {connected.status.realm_id}, which qbsync exchanges for tokens (stored encrypted)."
        )
        return self.svc.diagnoser.diagnose(number)

    def _numbering_on(self, number: str, reason: Reason) -> Diagnosis:
        why = (
            "An administrator turns Custom transaction numbers back on from qbsync (a company "
            "setting, so it asks for an administrator); every load it blocked is retried."
        )
        return self._fix(number, "enable_custom_txn_numbers", why).diagnosis

    def _shorten(self, number: str, reason: Reason) -> Diagnosis:
        shorter = reason.code == "doc_number_too_long"
        ask = f"Ask for {'a shorter' if shorter else 'another'} QuickBooks invoice number."
        offered = self._fix(number, "set_doc_number", ask)
        if offered.outcome != "choice" or not offered.choices:
            return offered.diagnosis
        short = offered.choices[0]["doc_number"]
        why = (
            f"Choosing the suggested {short}: the TMS keeps {number}, the QuickBooks invoice carries {short}."
        )
        return self._fix(number, "set_doc_number", why, doc_number=short).diagnosis

    def _customer_changed(self, number: str, reason: Reason) -> Diagnosis:
        why = "The TMS is right (dispatch moved the load): push its customer to the QuickBooks invoice."
        return self._fix(number, "push_customer_change", why).diagnosis

    def _customer(self, number: str, reason: Reason) -> Diagnosis:
        evidence = reason.evidence
        tms_name = evidence.get("tms_customer") or ""
        same = [c for c in evidence.get("candidates") or [] if _same_company(tms_name, c.get("name"))]
        if not same:
            return self._fix(
                number,
                "create_customer",
                f"{tms_name} is not in QuickBooks at all: create it there (with the TMS's QuickBooks email).",
            ).diagnosis
        chosen = same[0]
        if evidence.get("tms_email"):
            return self._fix(
                number,
                "update_customer_email",
                f"Choosing {chosen['email']}, the email on "
                f"{chosen['name']}'s QuickBooks profile (customer {chosen['id']}), for the TMS.",
                email=chosen["email"],
            ).diagnosis
        return self._fix(
            number,
            "link_customer",
            f"Choosing QuickBooks customer {chosen['id']} '{chosen['name']}' for {tms_name}.",
            customer_id=chosen["id"],
        ).diagnosis

    def _charge_codes(self, number: str, reason: Reason) -> Diagnosis:
        result = self._fix(
            number, "resync_charge_codes", "Resync the charge codes (the orange refresh arrows in the TMS)."
        )
        for choice in result.choices:
            items = choice["qb_items"]
            chosen = next(
                (i for i in items if normalize_name(i["full_name"]) == normalize_name(choice["name"])),
                items[0],
            )
            others = ", ".join(f"'{i['full_name']}'" for i in items if i is not chosen)
            result = self._fix(
                number,
                "map_charge_code",
                f"Choosing QuickBooks item {chosen['id']} "
                f"'{chosen['full_name']}' for {choice['code']} (not {others}).",
                code=choice["code"],
                item_id=chosen["id"],
            )
        return result.diagnosis

    def _duplicate(self, number: str, reason: Reason) -> Diagnosis:
        manual = reason.evidence
        if manual.get("voided"):  # QuickBooks keeps the voided invoice's number
            return self._shorten(number, reason)
        load_total = self.svc.sync.read_view(number).total
        if str(load_total) == manual["total"] and _same_company(
            self._load_customer(number), manual["customer"]
        ):
            return self._fix(
                number,
                "adopt_qb_invoice",
                f"Invoice {manual['qb_invoice_id']} is this load's "
                "invoice typed by hand (same customer, same total): adopt it.",
            ).diagnosis
        invoice = self.svc.api.read("Invoice", manual["qb_invoice_id"])
        self.svc.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
        self.out.choice(
            f"Invoice {manual['qb_invoice_id']} ({manual['customer']}, {money(manual['total'])}) is not "
            f"this load's ({money(load_total)}): the bookkeeper deletes it in QuickBooks (Sales > Invoices)."
        )
        return self._fix(number, "clear_qb_id", "Then clear the QuickBooks ID and send the load.").diagnosis

    # -- helpers ----------------------------------------------------------------------------------

    def _import(self, loads: list[dict[str, Any]], customers=None, codes=None) -> ImportSummary:
        return import_data(
            self.svc.engine, {"customers": customers or [], "charge_codes": codes or [], "loads": loads}
        )

    def _count(self, loads: list[dict[str, Any]]) -> str:
        amount = sum((demo_data.total(x) for x in loads), Decimal("0.00"))
        return f"{len(loads)} loads ({money(amount)})"

    def _load_row(self, number: str) -> Load:
        with Session(self.svc.engine) as session:
            row = session.exec(select(Load).where(Load.load_number == number)).one()
            session.expunge(row)
            return row

    def _load_customer(self, number: str) -> str:
        return self.svc.sync.read_view(number).customer.name

    def _item(self, name: str) -> dict[str, Any]:
        return next(i for i in self.svc.api.query_all("Item") if i.get("FullyQualifiedName") == name)

    def _manual_invoice(self, number: str, customer: str, amount) -> dict[str, Any]:
        api = self.svc.api
        customer_id = next(c["Id"] for c in api.query_all("Customer") if c["DisplayName"] == customer)
        item = self._item("Base Price")
        line = {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "Description": "Drayage",
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": amount},
        }
        return api.create(
            "Invoice", {"DocNumber": number, "CustomerRef": {"value": customer_id}, "Line": [line]}
        )

    def _custom_numbers(self, on: bool) -> None:
        prefs = self.svc.api.query("SELECT * FROM Preferences")["Preferences"][0]
        self.svc.api.update(
            "Preferences",
            {
                "Id": prefs.get("Id", "1"),
                "SyncToken": prefs["SyncToken"],
                "sparse": True,
                "SalesFormsPrefs": {"CustomTxnNumbers": on},
            },
        )


def _same_company(a: str | None, b: str | None) -> bool:
    """One name is the other with something added ("Golden Gate Grocers" / "Golden Gate Grocers Inc.")."""
    a, b = normalize_name(a), normalize_name(b)
    return bool(a and b) and (a.startswith(b) or b.startswith(a))
