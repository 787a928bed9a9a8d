"""Cost that follows change: N synced invoices, K changed in QuickBooks (deleted, total edited, voided,
paid), found by the change feed (``ChangeFeed.catch_up``: change data capture since the point reached)
against a baseline measured in the same run, ``SyncEngine.reconcile`` (every synced invoice read back,
100 ids a query); then how long a deletion takes to show on its load, by webhook and by change data
capture alone, through the real web app and the ``qbo_changes`` job on its tick.

Run: ``.venv/bin/python -m benchmarks.changes_feed [--invoices 20000] [--changed 50] [--scaling]
[--quick] [--database-url postgresql://…]`` (README: ``--invoices 100000 --scaling``, about 30 min).
Target: reconcile requests in proportion to the changes, not to the invoices.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from benchmarks.common import CODES, CUSTOMERS, connected_services, environment, table
from emulator.server import EmulatorServer, QuietRequestHandler

FIRST_NUMBER = 1001  # QuickBooks' own numbering, used while seeding (see ``seed_invoices``)
SEED_CHUNK = 25_000  # each seed copies the company first (all or nothing): few, large ones
AMOUNTS = (850.0, 127.5)
TOTAL = sum(AMOUNTS)
UNLIMITED = 1_000_000  # requests a minute, in the emulator and in qbsync's limiter
VERIFIER = "benchmark-verifier-token"
KINDS = ("delete", "edit", "void", "payment")  # in turn; the first three are problems, a payment is not


class Company:
    """A person working in QuickBooks: plain HTTP with a grant of their own, not qbsync's client."""

    def __init__(self, emu: EmulatorServer) -> None:
        grant = emu.issue_tokens()
        self.base = f"{emu.api_base}/company/{grant['realm_id']}"
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"}
        )

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = self.http.request(method, f"{self.base}/{path}", json=body, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def change(self, kind: str, invoice_id: str, n: int = 0) -> None:
        inv = self.call("GET", f"invoice/{invoice_id}")["Invoice"]
        ref = {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}
        if kind in ("delete", "void"):
            self.call("POST", f"invoice?operation={kind}", ref)
        elif kind == "edit":  # the fuel surcharge line taken off: another total
            lines = [line for line in inv["Line"] if line.get("DetailType") == "SalesItemLineDetail"][:1]
            self.call("POST", "invoice", {**ref, "sparse": True, "Line": lines})
        else:  # paid in full or in part: the invoice's total is unchanged
            amount = f"{TOTAL:.2f}" if n % 2 else "100.00"
            line = {"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}
            self.call(
                "POST", "payment", {"CustomerRef": inv["CustomerRef"], "TotalAmt": amount, "Line": [line]}
            )


def seed(emu: EmulatorServer, data: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/seed`` as ``EmulatorServer.seed`` does, with time for large seeds."""
    answer = requests.post(f"{emu.url}/_emulator/seed", json=data, timeout=900)
    if answer.status_code != 200:
        raise RuntimeError(f"seed: {answer.status_code} {answer.text[:500]}")
    return answer.json()


def seed_invoices(emu: EmulatorServer, count: int) -> tuple[dict, dict, list[tuple[str, str, str]]]:
    """Customers, items and ``count`` invoices shaped as qbsync sends them, through the admin seed
    (validated as the API validates). Custom transaction numbers are off while seeding, so QuickBooks
    numbers them (1001, 1002, …; no duplicate-number scan of every invoice at each create), and on
    again after; the loads carry those numbers. Returns TMS customer → QB id, code → item id, and
    (load number, invoice id, QB customer id) of each invoice."""
    from services.sync.invoices import marker

    made = seed(
        emu,
        {
            "preferences": {"SalesFormsPrefs": {"CustomTxnNumbers": False}},
            "customers": [
                {"DisplayName": c["name"], "PrimaryEmailAddr": {"Address": c["qb_email"]}} for c in CUSTOMERS
            ],
            "items": [{"Name": c["name"], "Type": "Service"} for c in CODES],
        },
    )
    customers = {c["id"]: made["customers"][i]["Id"] for i, c in enumerate(CUSTOMERS)}
    items = {c["code"]: made["items"][i]["Id"] for i, c in enumerate(CODES)}
    detail = [
        ("SalesItemLineDetail", c["name"], items[c["code"]], a) for c, a in zip(CODES, AMOUNTS, strict=True)
    ]
    lines = [
        {"LineNum": p, "DetailType": kind, "Amount": a, "Description": name}
        | {kind: {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": a}}
        for p, (kind, name, item, a) in enumerate(detail, start=1)
    ]
    seeded = []
    for start in range(0, count, SEED_CHUNK):
        batch = [
            {"DocNumber": str(FIRST_NUMBER + i), "TxnDate": "2026-11-20", "Line": lines}
            | {"CustomerRef": {"value": customers[CUSTOMERS[i % len(CUSTOMERS)]["id"]]}}
            | {"PrivateNote": marker(str(FIRST_NUMBER + i))}
            for i in range(start, min(count, start + SEED_CHUNK))
        ]
        for body, inv in zip(batch, seed(emu, {"invoices": batch})["invoices"], strict=True):
            assert inv["DocNumber"] == body["DocNumber"], (inv["DocNumber"], body["DocNumber"])
            seeded.append((inv["DocNumber"], inv["Id"], inv["CustomerRef"]["value"]))
    company = Company(emu)  # numbering on again as a person does it (a seed would copy the company)
    prefs = company.call("GET", "preferences")["Preferences"]
    on = {"SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": {"CustomTxnNumbers": True}}
    company.call("POST", "preferences", on)
    return customers, items, seeded


def store_synced(engine: sa.Engine, customers: dict, items: dict, seeded: list[tuple[str, str, str]]) -> None:
    """The TMS side through the importer, then the QuickBooks ids written as a sync writes them."""
    from services.store.models import ChargeCode, Customer, Load
    from services.tms.importer import import_data

    charges = [{"code": c["code"], "amount": f"{a:.2f}"} for c, a in zip(CODES, AMOUNTS, strict=True)]
    loads = [
        {"load_number": n, "customer_id": CUSTOMERS[i % len(CUSTOMERS)]["id"], "invoice_date": "2026-11-20"}
        | {"charges": charges}
        for i, (n, _, _) in enumerate(seeded)
    ]
    import_data(engine, {"customers": CUSTOMERS, "charge_codes": CODES, "loads": loads})
    load, customer, code = Load.__table__, Customer.__table__, ChargeCode.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for tms_id, qb_id in customers.items():
            conn.execute(sa.update(customer).where(customer.c.id == tms_id).values(qb_customer_id=qb_id))
        for name, qb_id in items.items():
            conn.execute(
                sa.update(code).where(code.c.code == name).values(qb_item_id=qb_id, sync_state="synced")
            )
        ids = {"qb_invoice_id": sa.bindparam("invoice"), "qb_customer_id": sa.bindparam("qb_customer")}
        values = {"state": "synced", "qb_sync_token": "0", "synced_customer_id": load.c.customer_id}
        values |= {"synced_total": TOTAL, "synced_at": dt.datetime.now(dt.UTC), **ids}
        each = [{"number": n, "invoice": i, "qb_customer": c} for n, i, c in seeded]
        conn.execute(sa.update(load).where(load.c.load_number == sa.bindparam("number")).values(values), each)


def measured(emu: EmulatorServer, work) -> tuple[Any, int, float, float]:
    """What ``work()`` returns, its QuickBooks requests, wall time, and CPU time of this thread (qbsync's
    own work: the emulator answers in its server threads)."""
    before, started, cpu = emu.stats()["total_requests"], time.perf_counter(), time.thread_time()
    result = work()
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
    return result, emu.stats()["total_requests"] - before, wall, cpu


def put_back(engine: sa.Engine, numbers: set[str]) -> None:
    """The loads the feed flagged, synced again as before (same ids, no reasons), for reconcile."""
    from services.store.models import Load

    load = Load.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.update(load)
            .where(load.c.load_number.in_(sorted(numbers)))
            .values(state="synced", reasons=[], problem_since=None)
        )


def database(base: str | None, folder: str, label: str) -> tuple[str, Any]:
    """A fresh database: a SQLite file, or one made on the PostgreSQL server ``base`` names; and a
    function that drops it."""
    if not base:
        return f"sqlite:///{Path(folder) / f'{label}.db'}", lambda: None
    admin, name = sa.create_engine(base, isolation_level="AUTOCOMMIT"), f"qbsync_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return sa.make_url(base).set(database=name).render_as_string(hide_password=False), drop


class Ticker(threading.Thread):
    """The scheduler's ``qbo_changes`` job on its interval trigger: ``changes_job`` every ``tick`` s (a
    run that overruns a tick skips it, as APScheduler's misfire does)."""

    def __init__(self, services: Any, every: int, tick: float) -> None:
        super().__init__(daemon=True)
        self.services, self.every, self.tick = services, every, tick
        self.runs: list[tuple[float, float, str]] = []  # (began, seconds, outcome)
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        from services.scheduler.changes import changes_job

        start = time.monotonic()
        while not self.done.is_set():
            began = time.monotonic()
            outcome = changes_job(self.services.changes, self.every, None, None)
            self.runs.append((began, time.monotonic() - began, outcome))
            ticks = (time.monotonic() - start) // self.tick + 1
            self.done.wait(start + ticks * self.tick - time.monotonic())

    def catch_ups(self) -> list[tuple[float, float, str]]:
        return [run for run in self.runs if run[2] != "nothing due"]

    def stop(self) -> None:
        self.done.set()
        self.join()


def delete_and_wait(company: Company, services: Any, load: tuple[str, str, str], timeout: float) -> dict:
    """Delete ``load``'s invoice in QuickBooks, wait until the load shows ``qb_invoice_deleted``: the
    delay from QuickBooks' answer, and when a webhook marked the company due (if one did)."""
    from services.store.models import Load

    loads = Load.__table__  # type: ignore[attr-defined]
    company.change("delete", load[1])
    deleted, wall, seen = time.monotonic(), dt.datetime.now(dt.UTC), None
    while seen is None and time.monotonic() - deleted < timeout:
        with services.engine.connect() as conn:
            reasons = conn.scalar(sa.select(loads.c.reasons).where(loads.c.load_number == load[0])) or []
        if any(r.get("code") == "qb_invoice_deleted" for r in reasons):
            seen = time.monotonic()
        time.sleep(0.05)
    if seen is None:
        raise SystemExit(f"load {load[0]}: its deletion was not seen within {timeout:.0f} s")
    due = services.changes.point(services.connection.status().realm_id).due_at
    due = due.replace(tzinfo=dt.UTC) if due is not None and due.tzinfo is None else due
    return {"delay": seen - deleted, "arrived": (due - wall).total_seconds() if due and due >= wall else None}


def serve_web(env: dict[str, str]) -> Any:
    """The real web app (``create_web_app``) on a werkzeug server, with Services of its own over the
    same database, as ``qbsync serve`` beside the scheduler."""
    from werkzeug.serving import make_server

    from services.settings import load_settings
    from web.app import create_web_app
    from wiring.services import bootstrap
    from wiring.slack import create_app

    settings = load_settings(**env)
    services = bootstrap(settings)
    app = create_web_app(create_app(settings, services), services)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def detection(args: Any, emu: EmulatorServer, env: dict[str, str], services: Any, spare: list) -> list[list]:
    """(a) webhooks after ``--webhook-delay-ms``, the job ticking every ``--tick`` s with its interval
    at 900 s (only a webhook makes it due); (b) webhooks off, the job's interval 60 s, tick 10 s."""
    from emulator.slack import SlackStandIn

    rng, company, every = random.Random(7), Company(emu), 60
    with SlackStandIn(port=0) as slack:
        slack_env = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": "s", "QBSYNC_FIXERS": "U0B1"}
        server = serve_web({**env, **slack_env, "SLACK_API_URL": slack.api_url})
        hooks = f"http://127.0.0.1:{server.server_port}/qbo/webhooks"
        emu.configure(webhook_url=hooks, webhook_verifier=VERIFIER, webhook_delay_ms=args.webhook_delay_ms)
        ticker, rounds = Ticker(services, 900, args.tick), []
        for _ in range(args.rounds):
            time.sleep(rng.uniform(0, args.tick))  # any moment of the tick
            rounds.append(delete_and_wait(company, services, spare.pop(), timeout=args.tick + 30))
        emu.flush_webhooks(timeout=30)
        ticker.stop()
        emu.configure(webhook_url=None)
        server.shutdown()
    catch_up = statistics.mean(seconds for _, seconds, _ in ticker.catch_ups())
    arrived = statistics.mean(r["arrived"] for r in rounds if r["arrived"] is not None)
    delays = [r["delay"] for r in rounds]
    label = f"deletion seen: webhook after {args.webhook_delay_ms} ms, tick {args.tick:g} s, x{len(delays)}"
    spread = f"median {statistics.median(delays):.1f} (min {min(delays):.1f}, max {max(delays):.1f})"
    rows = [[label, spread, f"webhook in {arrived:.2f} s, catch-up {catch_up:.2f} s"]]
    product = f"mean {arrived + 5 + catch_up:.1f}, worst {arrived + 10 + catch_up:.1f}"
    rows.append(["  at the product's 10 s tick", product, "webhook + tick (half on average) + catch-up"])
    computed = f"mean {(every + 10) / 2 + catch_up:.1f}, worst {every + 10 + catch_up:.1f}"
    if args.quick:
        return [*rows, [f"deletion seen: CDC alone (every {every} s, tick 10 s)", computed, "computed"]]
    ticker = Ticker(services, every, 10.0)  # its first tick catches up: the last was over a minute ago
    while not ticker.catch_ups():
        time.sleep(0.05)
    time.sleep(rng.uniform(0, every + 10))  # any moment between two catch-ups
    found = delete_and_wait(company, services, spare.pop(), timeout=every + 10 + 30)
    ticker.stop()
    starts = [began for began, _, _ in ticker.catch_ups()]
    apart = ", ".join(f"{b - a:.1f}" for a, b in zip(starts, starts[1:], strict=False))
    label = f"deletion seen: CDC alone (every {every} s, tick 10 s), measured x1"
    return [*rows, [label, f"{found['delay']:.1f} ({computed})", f"catch-ups {apart} s apart"]]


def run_size(args: Any, count: int, folder: str, *, detect: bool) -> dict[str, Any]:
    from services.changes.feed import OVERLAP

    url, drop = database(args.database_url, folder, f"changes-{count}")
    emu = EmulatorServer(port=0, rate_limit=UNLIMITED, concurrency_limit=100).start()
    try:
        began = time.perf_counter()
        customers, items, seeded = seed_invoices(emu, count)
        seeded_at, seed_s = time.monotonic(), time.perf_counter() - began
        limits = {"QBSYNC_QBO_REQUESTS_PER_MINUTE": str(UNLIMITED), "QBO_WEBHOOK_VERIFIER_TOKEN": VERIFIER}
        env = environment(url, emu, **limits)
        services = connected_services(env, emu)
        store_synced(services.engine, customers, items, seeded)
        wait = max(0.0, OVERLAP.total_seconds() + 2 - (time.monotonic() - seeded_at))
        print(
            f"[{count:,}] setup, not measured: emulator seed {seed_s:.0f} s, database "
            f"{time.perf_counter() - began - seed_s:.0f} s, then {wait:.0f} s so that the invoices are older "
            f"than the feed's {OVERLAP.seconds // 60}-minute overlap (synced invoices are, in production)",
            flush=True,
        )
        time.sleep(wait)
        prime = measured(emu, lambda: services.changes.catch_up("benchmark"))
        assert prime[0].mode == "full" and prime[0].full_problems == 0, prime[0].summary()
        picked = random.Random(count).sample(range(count), args.changed + args.rounds + 1)
        company, kinds = Company(emu), {}
        for n, i in enumerate(picked[: args.changed]):
            kinds[seeded[i][0]] = KINDS[n % len(KINDS)]
            company.change(KINDS[n % len(KINDS)], seeded[i][1], n)
        expected = {number for number, kind in kinds.items() if kind != "payment"}
        feed = measured(emu, lambda: services.changes.catch_up("benchmark"))
        assert feed[0].mode == "changes", feed[0].summary()
        by_feed = {result.load_number for result, _ in feed[0].found.problems}
        put_back(services.engine, by_feed)
        base = measured(emu, lambda: services.sync.reconcile(trigger="benchmark"))
        by_reconcile = {result.load_number for result in base[0]}
        if not by_feed == by_reconcile == expected:
            for name, found in (("change feed", by_feed), ("reconcile", by_reconcile)):
                print(f"{name}: missing {sorted(expected - found)}, unexpected {sorted(found - expected)}")
            raise SystemExit("the change feed and reconcile did not find the same problem loads")
        spare = [seeded[i] for i in picked[args.changed :]]
        delays = detection(args, emu, env, services, spare) if detect else []
        services.close()
        return dict(count=count, prime=prime, base=base, feed=feed, found=len(expected), delays=delays)
    finally:
        emu.stop()
        drop()


def main(argv: list[str] | None = None) -> tuple[list[list[Any]], list[list[Any]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=50)
    parser.add_argument("--scaling", action="store_true", help="first at a tenth of --invoices")
    parser.add_argument("--database-url", help="a PostgreSQL server: a database is made for each size")
    parser.add_argument("--webhook-delay-ms", type=int, default=1000)
    parser.add_argument("--tick", type=float, default=10.0, help="the job's tick on the webhook path")
    parser.add_argument("--rounds", type=int, default=3, help="deletions timed on the webhook path")
    parser.add_argument("--quick", action="store_true", help="compute the CDC-alone delay, not wait")
    args = parser.parse_args(argv)
    sizes = [args.invoices // 10, args.invoices] if args.scaling else [args.invoices]
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_size(args, count, folder, detect=count == sizes[-1]) for count in sizes]
    rows = []
    for run in runs:
        n, (_, base_req, base_s, _), (_, feed_req, feed_s, _) = f"{run['count']:,}", run["base"], run["feed"]
        ratio = f"{base_req / max(feed_req, 1):,.0f}x fewer requests, {base_s / feed_s:,.0f}x less time"
        for label, (_, req, wall, cpu), found, vs in (
            ("first catch-up (no point yet: full reconcile)", run["prime"], 0, ""),
            ("reconcile (baseline)", run["base"], run["found"], ""),
            ("change feed catch-up", run["feed"], run["found"], ratio),
        ):
            rows.append([f"{n}: {label}", req, f"{wall:.2f}", f"{cpu:.2f}", found, vs])
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n{args.changed} invoices changed in QuickBooks ({', '.join(KINDS)} in turn; a payment is no "
        f"problem); {db}; limits raised to {UNLIMITED:,} requests a minute in the emulator and in qbsync's "
        "limiter (throttling is not measured). The change feed ran first; the loads it flagged were then put "
        "back to synced, so reconcile saw the same loads and the same QuickBooks. Both found the same "
        "problem loads. CPU s: qbsync's own thread (the emulator answers in its threads)."
    )
    print(table(["measure", "QB requests", "wall s", "CPU s", "problems", "vs baseline"], rows))
    print("\n" + table(["detection delay of a deletion", "s", "how"], runs[-1]["delays"]))
    return rows, runs[-1]["delays"]


if __name__ == "__main__":
    main()
    sys.exit(0)
