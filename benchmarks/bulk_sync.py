"""2,000 new invoices against QuickBooks' limits, time-scaled: qbsync's bulk sync (batches of 30 behind
the adaptive limiter) against a baseline measured in the same run — the naive python-quickbooks
sequence, one load at a time: query the customer, query each item, query the DocNumber, create
(waiting Intuit's suggested minute when throttled). And QuickBooks round trips per diagnosis.

Run: ``.venv/bin/python -m benchmarks.bulk_sync [--invoices 2000] [--baseline 300] [--time-scale 10]``.
Targets: ≥ 90 % of the ceiling the limits allow, 0 failed, 0 duplicates, ≥ 10x the naive loop.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import CODES, CUSTOMERS, connected_services, environment, loads, seed_company, table
from emulator.server import EmulatorServer

CEILING_PER_MINUTE = 40 * 30  # batch requests a minute x operations a batch


def ceiling_seconds(invoices: int, minute: float) -> float:
    """The fastest the limits allow ``invoices`` creates: 30 to a batch, 40 batches in any sliding
    minute (the first 40 at once), so whole minutes after the first burst."""
    batches = -(-invoices // 30)
    return ((batches - 1) // 40) * minute


def run_qbsync(folder: str, count: int, scale: float) -> dict:
    from services.tms.importer import import_data

    with EmulatorServer(port=0, time_scale=scale) as emu:
        seed_company(emu)
        env = environment(f"sqlite:///{Path(folder) / 'bulk.db'}", emu, QBSYNC_QBO_TIME_SCALE=str(scale))
        services = connected_services(env, emu)
        import_data(
            services.engine, {"customers": CUSTOMERS, "charge_codes": CODES, "loads": loads("Q", count)}
        )
        before = emu.stats()
        started = time.perf_counter()
        results = services.sync.sync_many(None, trigger="benchmark")
        elapsed = time.perf_counter() - started
        stats = emu.stats()
        docs = collections.Counter(
            inv["DocNumber"] for inv in services.api.query_all("Invoice") if inv.get("DocNumber")
        )
        # round trips of one diagnosis
        number = results[0].load_number
        ask = emu.stats()["total_requests"]
        services.diagnoser.diagnose(number)
        diagnosis = emu.stats()["total_requests"] - ask
        services.close()
    return {
        "count": count,
        "seconds": elapsed,
        "requests": stats["total_requests"] - before["total_requests"],
        "throttled": stats["throttled"] - before["throttled"],
        "failed": sum(r.state != "synced" for r in results),
        "duplicates": sum(n - 1 for n in docs.values() if n > 1),
        "diagnosis": diagnosis,
    }


def run_baseline(count: int, scale: float) -> dict:
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.item import Item

    from emulator.clients import quickbooks_client

    with EmulatorServer(port=0, time_scale=scale) as emu:
        seed_company(emu)
        qb = quickbooks_client(emu)
        names = {c["id"]: c["name"] for c in CUSTOMERS}
        throttled = failed = 0

        def patiently(call):
            nonlocal throttled
            while True:
                try:
                    return call()
                except QuickbooksException as exc:
                    if getattr(exc, "error_code", None) != 3001:
                        raise
                    throttled += 1
                    time.sleep(60 / scale)  # Intuit: wait a minute

        started = time.perf_counter()
        for load in loads("N", count):
            try:
                who = names[load["customer_id"]]
                [customer] = patiently(lambda w=who: Customer.filter(DisplayName=w, qb=qb))
                items = {}
                for charge in load["charges"]:
                    name = next(c["name"] for c in CODES if c["code"] == charge["code"])
                    items[charge["code"]] = patiently(lambda n=name: Item.filter(Name=n, qb=qb))[0]
                number = load["load_number"]
                if patiently(lambda n=number: Invoice.filter(DocNumber=n, qb=qb)):
                    continue
                invoice = Invoice()
                invoice.DocNumber = load["load_number"]
                invoice.CustomerRef = customer.to_ref()
                for charge in load["charges"]:
                    line = SalesItemLine()
                    line.Amount = charge["amount"]
                    line.SalesItemLineDetail = SalesItemLineDetail()
                    line.SalesItemLineDetail.ItemRef = items[charge["code"]].to_ref()
                    invoice.Line.append(line)
                patiently(lambda inv=invoice: inv.save(qb=qb))
            except QuickbooksException:
                failed += 1
        elapsed = time.perf_counter() - started
        stats = emu.stats()
        diagnosis = 4 + 1  # customer, two items, DocNumber, preferences: one query each
    return {
        "count": count,
        "seconds": elapsed,
        "requests": stats["total_requests"],
        "throttled": stats["throttled"],
        "failed": failed,
        "duplicates": 0,
        "diagnosis": diagnosis,
    }


def main(argv: list[str] | None = None) -> list[list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=300, help="loads pushed by the naive loop")
    parser.add_argument("--time-scale", type=float, default=5.0, help="the emulator's minute is 60/N s")
    args = parser.parse_args(argv)
    minute = 60 / args.time_scale
    with tempfile.TemporaryDirectory() as folder:
        ours = run_qbsync(folder, args.invoices, args.time_scale)
    base = run_baseline(args.baseline, args.time_scale)
    base_rate = base["count"] / base["seconds"]
    rows = []
    runs = (
        (f"naive python-quickbooks loop ({base['count']})", base),
        (f"qbsync sync --all ({ours['count']})", ours),
    )
    for name, run in runs:
        rate = run["count"] / run["seconds"]
        allowed = ceiling_seconds(run["count"], minute)
        rows.append(
            [
                name,
                f"{run['seconds']:.1f}",
                f"{allowed:.1f}",
                f"{allowed / run['seconds']:.0%}" if allowed else "—",
                f"{rate:.1f}",
                f"{run['requests'] / run['count']:.2f}",
                run["throttled"],
                run["failed"],
                run["duplicates"],
                run["diagnosis"],
                f"{rate / base_rate:.1f}x",
            ]
        )
    headers = [
        f"new invoices, limits x{args.time_scale:g}",
        "s",
        "limits allow s",
        "of ceiling",
        "inv/s",
        "req/inv",
        "throttled",
        "failed",
        "dupl.",
        "diag. trips",
        "vs baseline",
    ]
    print(
        f"ceiling: {CEILING_PER_MINUTE} invoices a minute (40 batch requests x 30); "
        f"time scale {args.time_scale:g} (a minute lasts {minute:g} s)"
    )
    print(table(headers, rows))
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
