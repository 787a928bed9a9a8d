"""Many workspaces from one deployment, synced by qbsync clock processes, against one workspace alone.

N workspaces (distribution mode), each connected to a QuickBooks company of its own and each with the
same backlog of new loads, synced by ``--clocks`` real ``qbsync clock`` processes, against a baseline
measured in the same run: ONE workspace's backlog alone, synced by one real ``qbsync sync --all
--workspace T…`` process. Each company has its own limits (500 requests a
minute, 10 in flight, 40 batches a minute: the emulator's defaults, QuickBooks' own), so in theory N
companies take as long as one: the baseline's wall time is the ceiling.

Measured: the time until every load of every workspace is synced (each workspace's last
``sync_attempt.finished_at``, from the moment the clocks were started), against the baseline; each
workspace's completion time (median, p90, slowest; slowest / median is the fairness); each invoice in
QuickBooks exactly once (read back through the emulator's query API, per company); the throttled answers
and requests per company (the emulator's ``stats``); and how the work was shared between the clock
processes (from their logs' ``workspace T…: sync: …`` lines: ``sync_attempt.trigger`` is ``scheduler``
in every process).

Setup, not measured: a fresh database (PostgreSQL: a database ``qbsync_bench_<hex>`` made on the server
and dropped at the end; SQLite: a temporary folder), ``upgrade(url)`` as ``qbsync db upgrade`` does, one
emulator in this process, the workspaces registered through ``WorkspaceRegistry.installed`` (storage
made and migrated), each company seeded with its customers and items through the emulator's admin seed,
the tokens stored as Connect stores them and the company bound to the workspace (``claim_realm``), and
the loads imported into each workspace's storage (the same load numbers everywhere: separate companies).
The baseline's workspace is marked uninstalled once it is synced, so the clocks serve exactly N.

With ``--backlog B`` the first workspace has B new loads instead: one company's month-end beside the
others' few loads. Then the others' completion is reported beside the backlog's (they must not wait
behind it: the rounds take turns and push at most 300 loads each), and the fairness is theirs.

Run: ``.venv/bin/python -m benchmarks.workspaces [--workspaces 50] [--invoices 200] [--clocks 2]
[--backlog B] [--database postgresql|sqlite] [--quick]`` (``--quick``: 10 workspaces x 50 invoices;
without ``--database``, PostgreSQL when its server answers, else SQLite).
Target: all workspaces within about the baseline's time (each company has its own limits), fairness
(slowest / median) near 1, every invoice exactly once, no throttled answer.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from benchmarks.changes_feed import database
from benchmarks.common import CODES, CUSTOMERS, environment, loads, table
from emulator.server import EmulatorServer

POSTGRES = os.environ.get(
    "QBSYNC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
)
ROOT = Path(__file__).resolve().parents[1]  # the checkout whose code the processes run
FIRST_REALM = 9_341_000_000_000
BASELINE_TEAM = "T0BENCHBASE"
INSTALLER = "U0BENCHADM"
SLACK_APP = {"SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "benchmark-client-secret"}
SYNC_EVERY = 30  # QBSYNC_SYNC_EVERY's minimum
SYNC_LINE = re.compile(r"^(\S+ \S+) INFO qbsync\.clock: workspace (T\w+): sync: (.*)$")
FAILED_LINE = re.compile(r"workspace (T\w+): (\w+) failed")


def team(n: int) -> str:
    return f"T0BENCH{n:03d}"


def aware(when: dt.datetime | None) -> dt.datetime | None:
    return when.replace(tzinfo=dt.UTC) if when is not None and when.tzinfo is None else when


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def postgres_answers(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def process_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment a user sets for ``qbsync``, over this process's (without its qbsync settings),
    with this checkout first on the path."""
    ours = ("DATABASE_URL", "QBO_", "SLACK_", "QBSYNC_", "INTUIT_")
    base = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**base, **env, **extra, "PYTHONPATH": path}


def qbsync_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli import main; main()", *args]


# -- setup ------------------------------------------------------------------------------------------------


def install(root: Any, emu: EmulatorServer, team_id: str, realm: str, invoices: int) -> Any:
    """Register ``team_id``, connect it to company ``realm`` (seeded with its customers and items) and
    import ``invoices`` new loads into its storage; its services."""
    from services.quickbooks import TokenSet
    from services.tms.importer import import_data

    root.registry.installed(team_id, name=f"Bench {team_id[-4:]}", installer=INSTALLER)
    grant = emu.issue_tokens(realm_id=realm)
    emu.seed(
        {
            "realm_id": realm,
            "customers": [
                {"DisplayName": c["name"], "PrimaryEmailAddr": {"Address": c["qb_email"]}} for c in CUSTOMERS
            ],
            "items": [{"Name": c["name"], "Type": "Service"} for c in CODES],
        }
    )
    services = root.for_workspace(root.registry.get(team_id))
    tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, realm)
    services.connection.store(tokens, realm, "benchmark")
    root.registry.claim_realm(team_id, realm)
    import_data(
        services.engine, {"customers": CUSTOMERS, "charge_codes": CODES, "loads": loads("L", invoices)}
    )
    return root.for_workspace(root.registry.get(team_id))


def unsynced(engine: sa.Engine) -> int:
    from services.store.models import Load

    load = Load.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(load).where(load.c.state != "synced")
        ).scalar_one()


def attempts(engine: sa.Engine) -> dict[str, Any]:
    """The workspace's sync attempts (each recorded when QuickBooks has answered: ``started_at`` and
    ``finished_at`` are both that moment): the first, the last synced, counts by outcome, loads pushed
    more than once, the reasons of those not synced."""
    from services.store.models import SyncAttempt

    attempt = SyncAttempt.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(attempt.c.started_at))).scalar()
        last = conn.execute(
            sa.select(sa.func.max(attempt.c.finished_at)).where(attempt.c.outcome == "synced")
        ).scalar()
        outcomes = dict(
            conn.execute(sa.select(attempt.c.outcome, sa.func.count()).group_by(attempt.c.outcome)).all()
        )
        per_load = sa.select(attempt.c.load_id).group_by(attempt.c.load_id).having(sa.func.count() > 1)
        again = conn.execute(sa.select(sa.func.count()).select_from(per_load.subquery())).scalar_one()
        reasons = collections.Counter()
        for (found,) in conn.execute(sa.select(attempt.c.reasons).where(attempt.c.outcome != "synced")):
            reasons.update(found or [])
    return {
        "first": aware(first),
        "last": aware(last),
        "outcomes": outcomes,
        "again": again,
        "reasons": reasons,
    }


# -- the baseline -----------------------------------------------------------------------------------------


def run_baseline(root: Any, env: dict[str, str], services: Any, folder: Path) -> dict[str, Any]:
    """One workspace's backlog alone: one ``qbsync sync --all --workspace`` process, its wall time."""
    team_id = services.workspace.team_id
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        qbsync_command("sync", "--all", "--json", "--workspace", team_id),
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    (folder / "baseline.out").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(
            f"baseline: qbsync sync --all exited {done.returncode}: {done.stderr.strip()[-800:]}"
        )
    left = unsynced(services.engine)
    if left:
        raise SystemExit(f"baseline: {left} loads not synced after qbsync sync --all (see {folder})")
    spent = attempts(services.engine)
    root.registry.uninstalled(team_id, "benchmark: baseline done")  # the clocks serve the N only
    return {"wall": wall, "cpu": cpu_s, "span": (spent["last"] - spent["first"]).total_seconds(), **spent}


# -- the measured run -------------------------------------------------------------------------------------


class Clocks:
    """``count`` real ``qbsync clock`` processes, each logging at INFO to a file of its own."""

    def __init__(self, env: dict[str, str], count: int, folder: Path) -> None:
        self.logs = [folder / f"clock-{k + 1}.log" for k in range(count)]
        extra = {"QBSYNC_SYNC_EVERY": str(SYNC_EVERY), "QBSYNC_LOG_LEVEL": "INFO"}
        self.started_at = dt.datetime.now(dt.UTC)
        self.started = time.perf_counter()
        self.processes = []
        for log in self.logs:
            with log.open("w") as out:
                self.processes.append(
                    subprocess.Popen(
                        qbsync_command("clock"),
                        env=process_env(env, **extra),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        self.cpu: list[float | None] = [None] * count

    def dead(self) -> list[int]:
        return [k for k, p in enumerate(self.processes) if p.poll() is not None]

    def _cpu(self, pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> list[int | None]:
        """SIGTERM each (their CPU time read first); their exit codes."""
        for k, process in enumerate(self.processes):
            self.cpu[k] = self._cpu(process.pid)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=90))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        return codes


def wait_all_synced(
    workspaces: dict[str, Any], clocks: Clocks, timeout: float
) -> tuple[dict[str, float], dict[str, int]]:
    """Poll each workspace's storage until none has a load left to sync: when each was first seen done
    (seconds from the clocks' start), and what is left where it timed out."""
    seen: dict[str, float] = {}
    left: dict[str, int] = {}
    shown = time.perf_counter()
    while time.perf_counter() - clocks.started < timeout:
        if clocks.dead():
            tails = [log.read_text()[-1500:] for log in clocks.logs]
            raise SystemExit("a clock process ended early:\n" + "\n---\n".join(tails))
        left = {}
        for team_id, services in workspaces.items():
            if team_id in seen:
                continue
            count = unsynced(services.engine)
            if count:
                left[team_id] = count
            else:
                seen[team_id] = time.perf_counter() - clocks.started
        if not left:
            return seen, {}
        if time.perf_counter() - shown >= 30:
            shown = time.perf_counter()
            print(
                f"  {time.perf_counter() - clocks.started:.0f} s: {len(seen)} of {len(workspaces)} "
                f"workspaces synced, {sum(left.values())} loads left",
                flush=True,
            )
        time.sleep(1.0)
    return seen, left


def clock_shares(logs: list[Path]) -> list[dict[str, Any]]:
    """Per clock process, from its log: runs that synced loads, loads synced, runs skipped on the other
    process's lock, failed steps, and which workspaces it synced loads of."""
    shares = []
    for log in logs:
        share: dict[str, Any] = {"runs": 0, "synced": 0, "skipped": 0, "idle": 0, "failed": 0, "teams": {}}
        share["stopped_early"] = 0
        for line in log.read_text().splitlines():
            found = SYNC_LINE.match(line)
            if found:
                outcome = found.group(3)
                if outcome.startswith("skipped"):
                    share["skipped"] += 1
                    continue
                synced = int(re.match(r"(\d+) synced", outcome).group(1)) if outcome[0].isdigit() else 0
                if synced:
                    share["runs"] += 1
                    share["synced"] += synced
                    share["teams"][found.group(2)] = share["teams"].get(found.group(2), 0) + synced
                else:
                    share["idle"] += 1
                share["stopped_early"] += "stopped early" in outcome
            elif FAILED_LINE.search(line):
                share["failed"] += 1
        shares.append(share)
    return shares


def invoices_in(emu: EmulatorServer, realm: str) -> list[dict[str, Any]]:
    """Every invoice of company ``realm`` through QuickBooks' query API (a grant of its own)."""
    grant = emu.issue_tokens(realm_id=realm)
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"})
    rows: list[dict[str, Any]] = []
    start = 1
    while True:
        query = f"SELECT * FROM Invoice STARTPOSITION {start} MAXRESULTS 1000"
        answer = http.get(f"{emu.api_base}/company/{realm}/query", params={"query": query}, timeout=60)
        if answer.status_code == 429:  # the company's minute is still full of the clocks' requests
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        answer.raise_for_status()
        page = answer.json()["QueryResponse"].get("Invoice", [])
        rows += page
        if len(page) < 1000:
            return rows
        start += 1000


# -- the run ----------------------------------------------------------------------------------------------


def run(args: Any, folder: Path) -> dict[str, Any]:
    from services.settings import load_settings
    from services.store.storage import upgrade
    from wiring.services import bootstrap

    if args.database == "postgresql":
        url, drop = database(args.postgres_url, str(folder), "workspaces")
    else:
        url, drop = database(None, str(folder), "workspaces")
    emu = EmulatorServer(port=0, latency_ms=args.latency_ms).start()  # QuickBooks' limits: the defaults
    root = None
    try:
        env = environment(url, emu, **SLACK_APP)
        began = time.perf_counter()
        upgrade(url)
        root = bootstrap(load_settings(**env))
        teams = [team(n) for n in range(1, args.workspaces + 1)]
        realms = {t: str(FIRST_REALM + n) for n, t in enumerate([BASELINE_TEAM, *teams])}
        base = install(root, emu, BASELINE_TEAM, realms[BASELINE_TEAM], args.invoices)
        workspaces, sizes = {}, {}
        for n, team_id in enumerate(teams, start=1):
            sizes[team_id] = args.backlog if args.backlog and n == 1 else args.invoices
            workspaces[team_id] = install(root, emu, team_id, realms[team_id], sizes[team_id])
            if n % 10 == 0 or n == len(teams):
                print(f"  setup: {n} of {len(teams)} workspaces installed and loaded", flush=True)
        print(f"setup, not measured: {time.perf_counter() - began:.0f} s", flush=True)

        baseline = run_baseline(root, env, base, folder)
        print(
            f"baseline: one workspace's {args.invoices} loads by qbsync sync --all: {baseline['wall']:.1f} s "
            f"(process), {baseline['span']:.2f} s from the first load synced to the last",
            flush=True,
        )

        before = emu.stats()
        cpu_before = time.process_time()
        clocks = Clocks(env, args.clocks, folder)
        print(
            f"measured run: {args.clocks} qbsync clock processes, {args.workspaces} workspaces x "
            f"{args.invoices} loads (logs in {folder})",
            flush=True,
        )
        seen, left = wait_all_synced(workspaces, clocks, args.timeout)
        observed = time.perf_counter() - clocks.started
        emulator_cpu = time.process_time() - cpu_before
        load_average = os.getloadavg()
        stats = emu.stats()
        codes = clocks.stop()
        shares = clock_shares(clocks.logs)
        per_team = {}
        for team_id, services in workspaces.items():
            spent = attempts(services.engine)
            realm = stats["realms"].get(realms[team_id], {})
            earlier = before["realms"].get(realms[team_id], {})
            invoices = invoices_in(emu, realms[team_id])
            numbers = collections.Counter(inv.get("DocNumber") for inv in invoices)
            per_team[team_id] = {
                "realm": realms[team_id],
                "expected": sizes[team_id],
                "done": (spent["last"] - clocks.started_at).total_seconds() if spent["last"] else None,
                "start": (spent["first"] - clocks.started_at).total_seconds() if spent["first"] else None,
                "seen": seen.get(team_id),
                "left": left.get(team_id, 0),
                "outcomes": spent["outcomes"],
                "again": spent["again"],
                "reasons": dict(spent["reasons"]),
                "requests": realm.get("total_requests", 0) - earlier.get("total_requests", 0),
                "throttled": realm.get("throttled", 0) - earlier.get("throttled", 0),
                "max_in_flight": realm.get("max_in_flight", 0),
                "invoices": len(invoices),
                "twice": sum(n - 1 for n in numbers.values() if n > 1),
                "clocks": [share["teams"].get(team_id, 0) for share in shares],
            }
        base_realm = stats["realms"].get(realms[BASELINE_TEAM], {})
        base_invoices = invoices_in(emu, realms[BASELINE_TEAM])
        baseline |= {
            "requests": base_realm.get("total_requests", 0),
            "throttled": base_realm.get("throttled", 0),
            "invoices": len(base_invoices),
            "twice": sum(
                n - 1
                for n in collections.Counter(i.get("DocNumber") for i in base_invoices).values()
                if n > 1
            ),
        }
        return {
            "baseline": baseline,
            "teams": per_team,
            "shares": shares,
            "observed": observed,
            "timed_out": bool(left),
            "exit_codes": codes,
            "clock_cpu": clocks.cpu,
            "emulator_cpu": emulator_cpu,
            "load_average": load_average,
        }
    finally:
        if root is not None:
            root.close()
        emu.stop()
        drop()


def s_(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"


def report(args: Any, found: dict[str, Any]) -> list[list[Any]]:
    base, teams, shares = found["baseline"], found["teams"], found["shares"]
    expected = args.invoices
    done = [t["done"] for t in teams.values() if t["done"] is not None and not t["left"]]
    every = len(done) == len(teams)
    total = max(done) if every else None
    median = statistics.median(done) if done else None
    p90 = nearest_rank(done, 0.9) if done else None
    timed = [t for t in teams.values() if t["done"] is not None and t["start"] is not None]
    starts = [t["start"] for t in timed]
    spans = [t["done"] - t["start"] for t in timed]
    at_once = max(  # most workspaces between their first and last load synced at one moment
        (sum(1 for a, b in zip(starts, spans, strict=True) if a <= moment <= a + b) for moment in starts),
        default=0,
    )
    if args.backlog:  # fairness among the others: the backlog's workspace is meant to finish last
        big = teams[team(1)]
        small = [t["done"] for k, t in teams.items() if k != team(1) and t["done"] is not None]
        median, p90 = statistics.median(small), nearest_rank(small, 0.9)
        backlog_rows = [
            [
                f"the backlog's workspace ({args.backlog} loads) done (s)",
                s_(big["done"]),
                "",
                f"{args.backlog / big['done'] * 60:.0f} loads a minute" if big["done"] else "",
            ],
            [
                f"the other {len(small)} workspaces ({expected} loads each) done (s): median / slowest",
                f"{s_(median)} / {s_(max(small))}",
                s_(base["wall"]),
                f"slowest at {max(small) / big['done']:.0%} of the backlog's time" if big["done"] else "",
            ],
        ]
        done = small
    requests_ = [t["requests"] for t in teams.values()]
    throttled = [t["throttled"] for t in teams.values()]
    wrong = [k for k, t in teams.items() if t["invoices"] != t["expected"]]
    twice = sum(t["twice"] for t in teams.values())
    problems = sum(sum(n for o, n in t["outcomes"].items() if o != "synced") for t in teams.values())
    reasons = collections.Counter()
    for t in teams.values():
        reasons.update(t["reasons"])
    n = len(teams)
    total_loads = sum(t["expected"] for t in teams.values())
    s = s_

    rows = [
        [
            (
                f"all {n} workspaces ({args.backlog} + {n - 1} x {expected} loads) synced (s, from the start)"
                if args.backlog
                else f"all {n} workspaces x {expected} loads synced (s, from the clocks' start)"
            ),
            s(total) if every else f"timed out ({len(done)} of {n} done)",
            s(base["wall"]),
            f"{total / base['wall']:.1f}x" if every else "—",
        ],
        ["  seen done by the poll (s)", s(found["observed"]), "", ""],
        [
            ("the others: " if args.backlog else "") + "per workspace done (s): median / p90 / slowest",
            f"{s(median)} / {s(p90)} / {s(max(done) if done else None)}",
            s(base["wall"]),
            f"{median / base['wall']:.1f}x" if done else "—",
        ],
        ["fairness: slowest / median", f"{max(done) / median:.2f}" if done else "—", "", "≈ 1"],
        [
            "per workspace first load synced (s): median / slowest",
            f"{s(statistics.median(starts) if starts else None)} / {s(max(starts) if starts else None)}",
            "",
            "",
        ],
        [
            "per workspace first to last load synced (s): median / max",
            f"{s(statistics.median(spans) if spans else None)} / {s(max(spans) if spans else None)}",
            f"{base['span']:.2f}",
            "",  # the baseline's loads are recorded a batch of 30 at a time: no ratio
        ],
        [f"workspaces syncing at one moment (most; {len(shares)} clocks)", str(at_once), "1", ""],
        [
            "companies with other than their loads' invoices / DocNumbers twice",
            f"{len(wrong)} / {twice}",
            f"{int(base['invoices'] != expected)} / {base['twice']}",
            "",
        ],
        [
            "attempts not synced (reasons)",
            f"{problems} ({', '.join(f'{k} {v}' for k, v in reasons.most_common()) or 'none'})",
            str(sum(n for o, n in base["outcomes"].items() if o != "synced")),
            "",
        ],
        [
            "throttled answers: total / companies / max of one",
            f"{sum(throttled)} / {sum(1 for t in throttled if t)} / {max(throttled)}",
            str(base["throttled"]),
            "",
        ],
        [
            "QuickBooks requests per company: median / max",
            f"{statistics.median(requests_):.0f} / {max(requests_)}",
            str(base["requests"]),
            f"{statistics.median(requests_) / max(base['requests'], 1):.1f}x",
        ],
    ]
    if args.backlog:
        rows[2:2] = backlog_rows
    for k, share in enumerate(shares):
        cpu = found["clock_cpu"][k]
        rows.append(
            [
                f"clock {k + 1}: loads synced (workspaces) / idle runs / lock skips / failed / CPU s",
                f"{share['synced']} ({len(share['teams'])}) / {share['idle']} / {share['skipped']} / "
                f"{share['failed']} / {s(cpu)}",
                "",
                f"{share['synced'] / max(1, total_loads):.0%}",
            ]
        )
    clock_cpu = [c for c in found["clock_cpu"] if c is not None]
    if clock_cpu and every:
        rows.append(
            [
                "qbsync CPU ms per load (processes' start-up included)",
                f"{1000 * sum(clock_cpu) / total_loads:.0f}",
                f"{1000 * base['cpu'] / expected:.0f}",
                f"{sum(clock_cpu) / total_loads / (base['cpu'] / expected):.1f}x",
            ]
        )
    rows.append(
        [
            "emulator + poll CPU s (this process); load average 1 min",
            f"{found['emulator_cpu']:.1f}; {found['load_average'][0]:.1f} on {os.cpu_count()} CPUs",
            "",
            "",
        ]
    )
    return rows


def main(argv: list[str] | None = None) -> list[list[Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--invoices", type=int, default=200, help="new loads in each workspace")
    parser.add_argument("--clocks", type=int, default=2, help="qbsync clock processes")
    parser.add_argument(
        "--database",
        choices=("postgresql", "sqlite"),
        help="default: PostgreSQL when its server answers, else SQLite",
    )
    parser.add_argument("--postgres-url", default=POSTGRES, help="the server a database is made on")
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        help="the first workspace's new loads instead: one company's large backlog beside the others'",
    )
    parser.add_argument("--quick", action="store_true", help="10 workspaces x 50 invoices")
    parser.add_argument("--timeout", type=float, default=720, help="seconds the measured run may take")
    parser.add_argument("--latency-ms", type=int, default=0, help="the emulator's added latency per request")
    parser.add_argument("--keep", help="a folder to keep the logs and raw numbers in")
    args = parser.parse_args(argv)
    if args.quick:
        args.workspaces, args.invoices = 10, 50
    if args.database is None:
        args.database = "postgresql" if postgres_answers(args.postgres_url) else "sqlite"
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        found = run(args, folder)
        (folder / "raw.json").write_text(json.dumps(found, indent=1, default=str))
        rows = report(args, found)
        print(
            f"\n{args.workspaces} workspaces, each its own QuickBooks company (500 requests a minute, 10 in "
            f"flight, 40 batches a minute each; latency {args.latency_ms} ms), {args.invoices} new loads "
            f"each; {args.clocks} qbsync clock processes (QBSYNC_SYNC_EVERY={SYNC_EVERY}, tick 10 s); "
            f"{'PostgreSQL' if args.database == 'postgresql' else 'SQLite'}. Baseline: one workspace's "
            f"{args.invoices} loads alone, qbsync sync --all in one process (the ceiling: every company has "
            "its own limits)."
        )
        print(table(["measure", "clocks", "baseline", "ratio / share"], rows))
        print("\nper workspace (s from the clocks' start; loads synced by each clock from its log):")
        lines = []
        for team_id, t in sorted(found["teams"].items(), key=lambda item: item[1]["done"] or 1e9):
            lines.append(
                [
                    team_id,
                    f"{t['start']:.1f}" if t["start"] is not None else "—",
                    f"{t['done']:.1f}" if t["done"] is not None else "—",
                    t["left"],
                    t["requests"],
                    t["throttled"],
                    t["max_in_flight"],
                    t["invoices"],
                    t["again"],
                    " / ".join(str(c) for c in t["clocks"]),
                ]
            )
        headers = ["workspace", "first", "done", "left", "requests", "throttled", "in flight", "invoices"]
        print(table([*headers, "pushed twice", "by clock"], lines))
        print(f"\nexit codes of the clocks after SIGTERM: {found['exit_codes']}")
        if args.keep:
            print(f"logs and raw numbers: {folder}")
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
