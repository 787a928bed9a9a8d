"""``qbsync demo``: a week at Harbor Line Drayage, end to end, with no accounts.

A fresh SQLite database in a temporary folder, the QuickBooks emulator in-process, and a story in
which every reason code occurs: the first sync before QuickBooks is connected, then a week of people
changing things in the TMS and in QuickBooks, a morning sync, an afternoon in which QuickBooks pushes
back, the problem list (two loads dismissed by the clerk), and every problem load diagnosed and fixed
through the fix service — each human choice made explicitly and said — then the dismissed loads
restored (one by the clerk, one by a change in the TMS), until every load is synced once.

The story talks to a ``Narrator`` (the command line renders it); nothing here prints.

The week's acts are here (``Story``); how the clerk handles each reason is in ``demo.clerk``, where
the demo runs in ``demo.environment``, and where the story goes in ``demo.narrator``.
"""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

from demo import data as demo_data
from demo.clerk import ACTOR, Clerk
from demo.environment import ATTEMPTS, DemoEnvironment, FinalState, final_state
from demo.narrator import Narrator, Quiet
from services.catalogue import REASON_ORDER, TRANSIENT, money
from services.diagnosis.problems import list_dismissed, list_problems
from services.digest.build import build_digest


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


class Story(Clerk):
    """The acts of the demo, in order; the clerk handles each reason as it comes (``Clerk.resolve``)."""

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
        cancelled = api.read("Invoice", self._load_row(s.roles["voided"]).qb_invoice_id)
        api.void("Invoice", cancelled["Id"], cancelled["SyncToken"])
        self.out.say(
            f"The customer cancels the move of load {s.roles['voided']}, and the bookkeeper voids its "
            f"invoice (id {cancelled['Id']}) in QuickBooks."
        )
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
        problems.sort(key=lambda p: (p.reasons[0].code in TRANSIENT, REASON_ORDER[p.reasons[0].code]))
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
