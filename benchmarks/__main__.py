"""Every benchmark, one after the other, then one summary table (each figure beside its baseline,
measured in the same run). Run: ``.venv/bin/python -m benchmarks [--quick]``."""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys

from benchmarks import bulk_sync, changes_feed, import_memory, reports, retry_all_progress, workspaces
from benchmarks.common import table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller runs (500 invoices, 20,000 loads, imports of 20,000 and 40,000, "
        "one Retry all round of 200 loads, QuickBooks' changes among 5,000 invoices, "
        "10 workspaces of 50 loads)",
    )
    args = parser.parse_args()
    quick = ["--invoices", "500", "--baseline", "100"] if args.quick else []
    print("== bulk sync ==")
    base, ours = bulk_sync.main(quick)
    print("\n== reports ==")
    report_rows = reports.main(["--loads", "20000", "--problems", "2000"] if args.quick else [])
    print("\n== import memory ==")
    import_rows = import_memory.main(["--loads", "20000", "40000"] if args.quick else [])
    print("\n== Slack acknowledgements ==")
    ack = subprocess.run(
        [sys.executable, "-m", "benchmarks.ack_latency", "--rounds", "3" if args.quick else "10"]
    )
    print("\n== Retry all progress under Slack rate limits ==")
    retry_loads = 200 if args.quick else 500
    retry_rows = retry_all_progress.main(
        ["--loads", str(retry_loads), "--rounds", "1" if args.quick else "3"]
    )
    retry, rounds = retry_rows[-1], retry_rows[:-1]
    print("\n== QuickBooks' own changes: the change feed against reconcile ==")
    change_rows, delays = changes_feed.main(["--invoices", "5000", "--quick"] if args.quick else [])
    base_changes, feed_changes = change_rows[-2], change_rows[-1]
    print("\n== Many workspaces: qbsync clock processes against one workspace alone ==")
    many = workspaces.main(["--quick"] if args.quick else [])
    summary = [
        ["invoices/s (2,000 new)", ours[4], base[4], ours[10], "≥ 10x"],
        ["share of the ceiling", ours[3], base[3], "", "≥ 90 %"],
        ["requests per invoice", ours[5], base[5], "", ""],
        ["failed / duplicated invoices", f"{ours[7]} / {ours[8]}", f"{base[7]} / {base[8]}", "", "0 / 0"],
        ["QuickBooks round trips per diagnosis", ours[9], base[9], "", ""],
    ]
    baseline_ms = report_rows[0][1]
    for row in report_rows:
        if "baseline" not in row[0]:
            summary.append(
                [f"{row[0]} ms (peak MB)", f"{row[1]} ({row[2]})", f"{baseline_ms}", "", "< 1000 ms"]
            )
    for row in import_rows:
        summary.append(
            [f"import {row[0]}: peak RSS, time", f"{row[1]}, {row[3]}", f"{row[4]}, {row[5]}", "", "flat"]
        )
    summary += [
        [f"2 x Retry all of {retry_loads}, Slack progress: sync s (median)", *retry[1:5]],
        [
            "chat.update answered 429 (qbsync / busy user)",
            f"{sum(r[6] for r in rounds)} / {sum(r[7] for r in rounds)}",
            "",
            "",
            "",
        ],
        [
            f"QuickBooks requests to find changes among {feed_changes[0].split(':')[0]} synced invoices",
            feed_changes[1],
            base_changes[1],
            feed_changes[5].split(",")[0],
            "∝ changes",
        ],
        ["deletion seen on its load: webhook + 10 s tick (s)", delays[1][1], "", "", ""],
        ["deletion seen on its load: change data capture alone (s)", delays[2][1], "", "", ""],
        [many[0][0], many[0][1], many[0][2], many[0][3], "≈ 1x"],
        ["  workspaces: fairness (slowest / median done)", many[3][1], "", "", "≈ 1"],
    ]
    print(
        f"\n== summary ({platform.processor() or platform.machine()}, Python {platform.python_version()}) =="
    )
    print(table(["measure", "qbsync", "baseline", "ratio", "target"], summary))
    return ack.returncode


if __name__ == "__main__":
    sys.exit(main())
