"""``qbsync demo``: a week at Harbor Line Drayage, end to end, with no accounts.

A fresh SQLite database in a temporary folder, the QuickBooks emulator in-process, and a story in
which every reason code occurs: the first sync before QuickBooks is connected, then a week of people
changing things in the TMS and in QuickBooks, a morning sync, an afternoon in which QuickBooks pushes
back, the problem list (two loads dismissed by the clerk), and every problem load diagnosed and fixed
through the fix service — each human choice made explicitly and said — then the dismissed loads
restored (one by the clerk, one by a change in the TMS), until every load is synced once.

The story talks to a ``Narrator`` (the command line renders it); nothing here prints.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import requests
from sqlmodel import Session, select

from demo import data as demo_data
from services.catalogue import money
from services.connect.flow import complete_authorization
from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.problems import Dismissed, Problem, list_dismissed, list_problems
from services.diagnosis.reasons import ORDER, TRANSIENT, Reason
from services.digest.build import Digest, build_digest
from services.fixes.fixer import FixResult
from services.fixes.matching import normalize_name
from services.quickbooks import RetryPolicy
from services.settings import Settings, load_settings
from services.store.models import Load
from services.store.storage import upgrade
from services.sync import SyncResult
from services.tms.importer import import_data
from services.tms.summary import ImportSummary
from wiring.services import Services, bootstrap

ACTOR = "demo"
ATTEMPTS = 3  # QuickBooks calls are tried this often before a throttle or an outage is reported


class Narrator(Protocol):
    """Where the story goes; each method receives plain domain results."""

    def section(self, title: str) -> None: ...
    def say(self, text: str) -> None: ...
    def choice(self, text: str) -> None: ...
    def results(self, results: list[SyncResult]) -> None: ...
    def problems(self, problems: list[Problem], dismissed: list[Dismissed]) -> None: ...
    def diagnosis(self, diagnosis: Diagnosis, recorded: list[Reason] | None = None) -> None: ...
    def fix(self, result: FixResult) -> None: ...
    def outcome(self, diagnosis: Diagnosis) -> None: ...
    def digest(self, digest: Digest, tz: str) -> None: ...


@dataclass
class DemoEnvironment:
    folder: Path
    emulator: Any  # emulator.server.EmulatorServer
    settings: Settings
    services: Services


@contextlib.contextmanager
def demo_environment(keep: bool = False) -> Iterator[DemoEnvironment]:
    """A migrated SQLite file in a new temporary folder, the emulator on a free port, and qbsync's
    services configured for both. Everything is stopped and removed afterwards (the folder is kept
    with ``keep``), also on errors and Ctrl-C."""
    from emulator.server import EmulatorServer

    folder = Path(tempfile.mkdtemp(prefix="qbsync-demo-"))
    emulator = svc = None
    try:
        url = f"sqlite:///{folder / 'qbsync.db'}"
        upgrade(url)
        emulator = EmulatorServer(port=0).start()
        settings = load_settings(
            DATABASE_URL=url,
            QBO_CLIENT_ID="qbsync-demo",
            QBO_CLIENT_SECRET=secrets.token_urlsafe(24),
            QBO_API_BASE_URL=emulator.api_base,
            INTUIT_DISCOVERY_URL=emulator.discovery_url,
            QBSYNC_SECRET_KEY=secrets.token_urlsafe(32),
        )
        svc = bootstrap(settings, retry=RetryPolicy(attempts=ATTEMPTS, base_delay=0.02, max_delay=0.1))
        yield DemoEnvironment(folder, emulator, settings, svc)
    finally:
        if svc is not None:
            svc.close()
        if emulator is not None:
            emulator.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class FinalState:
    """Every load synced, and each load number on exactly one QuickBooks invoice — the load's own."""

    loads: int
    synced: int
    qb_invoices: int
    not_synced: list[str] = field(default_factory=list)
    numbered_twice: list[str] = field(default_factory=list)
    not_in_quickbooks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.synced == self.loads and not (self.numbered_twice or self.not_in_quickbooks)


def final_state(svc: Services) -> FinalState:
    with Session(svc.engine) as session:
        rows = session.exec(select(Load)).all()
        loads = [(row.load_number, row.state, row.qb_invoice_id) for row in rows]
        doc_numbers = {row.load_number: row.doc_number for row in rows}
    invoices = svc.api.query_all("Invoice")
    numbers = Counter(invoice.get("DocNumber") for invoice in invoices)
    by_id = {invoice["Id"]: invoice.get("DocNumber") for invoice in invoices}
    return FinalState(
        loads=len(loads),
        synced=sum(state == "synced" for _, state, _ in loads),
        qb_invoices=len(invoices),
        not_synced=[number for number, state, _ in loads if state != "synced"],
        numbered_twice=sorted(str(number) for number, count in numbers.items() if count > 1),
        not_in_quickbooks=[
            number for number, _, invoice_id in loads if by_id.get(invoice_id) != doc_numbers[number]
        ],
    )


class Quiet:
    """A narrator that says nothing (the story's state is all that is wanted)."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def stage_problems(env: DemoEnvironment, out: Narrator | None = None, today: dt.date | None = None) -> Story:
    """The week up to its problems: QuickBooks connected, last week synced, then every reason present
    and none fixed yet (the state ``qbsync playground`` starts from). Returns the story to go on with."""
    tz = env.settings.timezone
    story = Story(env, out or Quiet(), today or dt.datetime.now(ZoneInfo(tz)).date())
    story.setting_up()
    story.first_sync()
    story.during_the_week()
    story.morning_sync()
    story.afternoon()
    return story


def run_demo(env: DemoEnvironment, out: Narrator, today: dt.date | None = None) -> FinalState:
    """Tell the whole story; return the final state (checked by the caller)."""
    tz = env.settings.timezone
    story = stage_problems(env, out, today)
    story.problem_list()
    story.fix_everything()
    story.dismissed_loads()
    out.section("Today's digest (qbsync digest)")
    out.digest(build_digest(env.services.engine, today=story.today, tz=tz), tz)
    return final_state(env.services)


class Story:
    """The acts of the demo, in order, and how the billing clerk handles each reason: diagnose, make
    the human choice the evidence points to (and say it), apply the fix, until the load is synced."""

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
            "amount_mismatch": self._amount,
            "qb_validation_error": self._rejected,
        }

    # -- acts -------------------------------------------------------------------------------------

    def setting_up(self) -> None:
        self.out.section(f"{demo_data.COMPANY_NAME}: the TMS and the QuickBooks company")
        self.emu.seed(demo_data.quickbooks_company())
        self._import(self.sample.last_week, customers=demo_data.CUSTOMERS, codes=demo_data.CHARGE_CODES)
        codes = ", ".join(f"{c['name']} ({c['code']})" for c in demo_data.CHARGE_CODES)
        self.out.say(
            f"TMS: {len(demo_data.CUSTOMERS)} customers (importers, forwarders, food distributors), "
            f"charge codes {codes}, and {self._count(self.sample.last_week)} from last week."
        )
        self.out.say(
            f"QuickBooks: {demo_data.COMPANY_NAME} (company {self.emu.realm_id}) with "
            f"{len(demo_data.QB_CUSTOMERS)} customers and their emails, and Products and Services "
            f"{', '.join(demo_data.QB_ITEMS)} (no Detention). Nobody has connected qbsync to it yet."
        )

    def first_sync(self) -> None:
        self.out.section("First sync, before anyone connected QuickBooks")
        results = self.svc.sync.sync_many(None, trigger=ACTOR)
        self.out.results(results)
        self.out.say("The billing clerk diagnoses the first load and follows the fix it names.")
        self.resolve(results[0].load_number)
        self.out.say("Connected: the clerk syncs the rest of last week's loads.")
        self.out.results(self.svc.sync.sync_many(None, trigger=ACTOR))

    def during_the_week(self) -> None:
        self.out.section("During the week, people change things in the TMS and in QuickBooks")
        s, api = self.sample, self.svc.api
        moved = {**s.load("moved"), "customer_id": "C-1005"}
        self._import([moved])
        self.out.say(
            f"Dispatch moves load {moved['load_number']} from Atlas Home Imports to Keystone Cold "
            "Storage in the TMS (its invoice is already in QuickBooks)."
        )
        recharged = copy.deepcopy(s.load("recharged"))
        recharged["charges"][1].update(description="Chassis, 6 days at $45.00", amount="270.00")
        self._import([recharged])
        self.out.say(
            f"Billing adds 3 more chassis days to load {recharged['load_number']} in the TMS: "
            "Chassis $135.00 → $270.00."
        )
        invoice = api.read("Invoice", self._load_row(s.roles["deleted"]).qb_invoice_id)
        api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
        self.out.say(f"Someone deletes invoice {s.roles['deleted']} (id {invoice['Id']}) in QuickBooks.")
        parent = self._item("Accessorials")
        extra = api.create(
            "Item",
            {
                "Name": "Storage",
                "Type": "Service",
                "SubItem": True,
                "ParentRef": {"value": parent["Id"]},
                "IncomeAccountRef": parent["IncomeAccountRef"],
            },
        )
        self.out.say(
            f'A bookkeeper adds a second "Storage" item ({extra["FullyQualifiedName"]}, id '
            f"{extra['Id']}) in QuickBooks > Products and Services."
        )
        self._import(s.this_week)
        self.out.say(f"The TMS sends {self._count(s.this_week)} delivered this week.")
        copied = s.load("copied_by_hand")
        manual = self._manual_invoice(
            copied["load_number"], "Pacific Rim Trading Co.", demo_data.total(copied)
        )
        self.out.say(
            f"A bookkeeper types invoice {copied['load_number']} into QuickBooks by hand for Pacific "
            f"Rim Trading Co. (id {manual['Id']}, {money(manual['TotalAmt'])}), same total as the load."
        )
        typed = s.load("typed_by_hand")
        wrong = self._manual_invoice(
            typed["load_number"], "Bayview Furniture Outlet", demo_data.total(typed) - 400
        )
        self.out.say(
            f"Another invoice is created by hand with number {typed['load_number']}, for Bayview "
            f"Furniture Outlet (id {wrong['Id']}, {money(wrong['TotalAmt'])}) — a typing mistake."
        )

    def morning_sync(self) -> None:
        self.out.section("The morning sync (new and changed loads), then the nightly reconcile")
        results = self.svc.sync.sync_many(None, trigger="scheduler")
        results += self.svc.sync.reconcile(trigger="reconcile")
        self.out.results(results)

    def afternoon(self) -> None:
        self.out.section("The afternoon: QuickBooks pushes back")
        s = self.sample
        self._import(s.afternoon)
        closed = s.load("closed_period")
        self.out.say(
            f"The controller has closed {dt.date.fromisoformat(closed['invoice_date']):%B} in "
            f"QuickBooks; load {closed['load_number']} is dated {closed['invoice_date']}. "
            "(The emulator does not model closed books; it is scripted to answer as QuickBooks "
            "does, fault 6210.)"
        )
        self.emu.add_fault(
            "fault",
            code="6210",
            message="Account Period Closed",
            detail="The account period has closed and the books are locked: change the "
            "transaction date or reopen the period.",
            method="POST",
            path_contains="/invoice",
        )
        results = [self.svc.sync.sync_load(closed["load_number"], trigger="scheduler")]
        self.out.say(
            f"Another app floods the company with requests: QuickBooks answers HTTP 429 to every "
            f"try for load {s.roles['throttled']} ({ATTEMPTS} tries)."
        )
        self.emu.add_fault("429", count=ATTEMPTS, method="POST", path_contains="/invoice")
        results.append(self.svc.sync.sync_load(s.roles["throttled"], trigger="scheduler"))
        self.out.say(f"QuickBooks has an outage (HTTP 503) while load {s.roles['outage']} is sent.")
        self.emu.add_fault("503", count=ATTEMPTS, method="POST", path_contains="/invoice")
        results.append(self.svc.sync.sync_load(s.roles["outage"], trigger="scheduler"))
        self._custom_numbers(False)
        self.out.say(
            "The bookkeeper turns off Custom transaction numbers (QuickBooks > Settings > Sales), "
            f"then load {s.roles['numbering_off']} is sent."
        )
        results.append(self.svc.sync.sync_load(s.roles["numbering_off"], trigger="scheduler"))
        self.out.results(results)

    def problem_list(self) -> None:
        self.out.section("Problem invoices")
        s = self.sample
        closed = s.load("closed_period")
        month = f"{dt.date.fromisoformat(closed['invoice_date']):%B}"
        self._fix(
            closed["load_number"],
            "dismiss",
            f"The controller will not reopen {month}: the clerk dismisses load {closed['load_number']} "
            "until billing re-dates it, so it stops coming back in every sync and digest.",
            reason=f"{month} is closed; billing will re-date it in the TMS",
        )
        self._fix(
            s.roles["throttled"],
            "dismiss",
            f"Dispatch says load {s.roles['throttled']} was cancelled: the clerk dismisses it.",
            reason="cancelled, says dispatch",
        )
        self.out.say("qbsync problems:")
        self.out.problems(list_problems(self.svc.engine), list_dismissed(self.svc.engine))
        typed = self.sample.roles["copied_by_hand"].replace("-", "")
        self.out.say(
            f'Pacific Rim calls about load "{typed}" (typed without the dash); the clerk looks it up:'
        )
        self.out.diagnosis(self.svc.diagnoser.diagnose(typed))

    def fix_everything(self) -> None:
        self.out.section("Diagnose and fix, one load at a time")
        self.out.say(
            "In fix order; QuickBooks' own hiccups (throttling, the outage) only need a retry, "
            "so they come last."
        )
        problems = list_problems(self.svc.engine)
        problems.sort(key=lambda p: (p.reasons[0].code in TRANSIENT, ORDER[p.reasons[0].code]))
        for problem in problems:
            self.resolve(problem.load_number, problem.reasons)

    def dismissed_loads(self) -> None:
        self.out.section("The dismissed loads come back")
        s = self.sample
        throttled = s.roles["throttled"]
        self._fix(
            throttled,
            "undismiss",
            f"Dispatch finds load {throttled} was delivered after all: the clerk restores it, which "
            "retries the sync.",
        )
        self.resolve(throttled)
        closed = s.load("closed_period")
        number = closed["load_number"]
        if number in self._redate(closed).restored:
            self.out.say(
                f"The import changed load {number}, which was dismissed: it is back in the problem list "
                "by itself, with a note saying who dismissed it and why."
            )
        self.resolve(number)

    # -- one load ---------------------------------------------------------------------------------

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
            self.svc,
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
        offered = self._fix(number, "set_doc_number", "Ask for a shorter QuickBooks invoice number.")
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
