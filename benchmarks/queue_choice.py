"""Per-workspace rounds shared by two worker processes on PostgreSQL: qbsync's way (each process ticks and
the database's per-workspace lock decides) against procrastinate (a PostgreSQL job queue, one job per
workspace round), both against a baseline with no coordination at all, measured in the same run.

Each system runs as two worker processes (as two hosts would), 8 threads each, over the same registry of
workspaces (``WorkspaceRegistry.installed``: each its own PostgreSQL schema, migrated):

* ``baseline``: no coordination. Each process is handed half of the workspaces up front and runs their
  rounds on its threads, first in, first out (a workspace with rounds left queued again behind the
  others). Nothing is shared: the ideal parallel time.
* ``qbsync``: ``services.scheduler.workspaces.WorkspaceRounds`` as ``qbsync clock`` runs it (its tick, its
  free threads, its turn with a per-process offset), a round gated by ``QBSYNC_SYNC_EVERY`` as the real
  ``_sync`` is (again at the next turn while work is left or while the other process held the lock), the
  round inside the real sync lock (``JobLockHeld(engine, "sync", lease)`` of ``services.store.locks``, a
  row of ``job_lock`` in the workspace's schema). Only the QuickBooks work is replaced.
* ``procrastinate``: one job per workspace round with ``lock`` and ``queueing_lock`` = the workspace (at
  most one queued and one running per workspace); a periodic task defers a round of every installed
  workspace every ``QBSYNC_SYNC_EVERY``, a round that leaves work defers the next at once; a periodic task
  every second retries stalled jobs (procrastinate 3's heartbeats: ``get_stalled_jobs``, ``retry_job``;
  a stalled round whose workspace has another queued cannot be requeued, the queueing lock's unique index
  refuses it, so it is marked failed and the queued one runs); ``delete_jobs="successful"``; the event
  loop's thread pool sized to the concurrency (sync tasks run there).

A synthetic round: the workspace's next undone round read, a sleep (I/O: a QuickBooks round waits on HTTP),
a small CPU part, the round marked done. The bookkeeping is unlocked on purpose: a round run twice, or two
rounds of one workspace at once, show in the numbers if the coordination lets them through. In both
designs TMS events are synced by ``serve`` as they arrive; the rounds here are the periodic work (file
imports, retries), so the backlog is found by each system's own periodic pass.

Time runs 20 times faster than in production (each option's help gives its production value): a tick of
0.5 s (10 s), ``QBSYNC_SYNC_EVERY`` 2 s (40 s; the setting's minimum is 30 s, its default 300 s), a round
of 125 ms of I/O (2.5 s) + 5 ms CPU; qbsync's lease and procrastinate's stalled timeout 1.5 s (30 s,
procrastinate's default; qbsync's sync lock has a 120 s lease, renewed while it works), procrastinate's
polling 0.25 s (5 s), its heartbeat 0.5 s (10 s) and the stalled-job retry every second (20 s).

Cases: ``even`` (every workspace ``--rounds`` rounds); ``skew`` (one workspace ``--big`` rounds, the others
one each: the small ones must not wait behind the big one); ``kill`` (``--kill-workspaces`` workspaces
with one long round; worker 1 SIGKILLed mid-round: how long until the rounds it held run again: lease
expiry for qbsync, or at once when the holder's process is seen gone on the same host; heartbeats and the
stalled-job retry for procrastinate); ``idle`` (nothing due: the database's transactions a second).

Measured, from the backlog's arrival: the time until every round is done, against the baseline; each
round's start delay (due: the arrival for a workspace's first round, the end of its previous round for the
next); each workspace's completion (fairness: the slowest small workspace against the median); rounds run
twice and rounds of one workspace at once (both must be 0); the database's transactions (commits and
rollbacks of the benchmark's database in ``pg_stat_database``, from before the workers start to after they
exit, the benchmark's own statements taken off) per round done; the most connections open; and what each
design adds to the deployment (schema objects, processes, LISTEN/NOTIFY).

Setup, not measured: a database ``qbsync_bench_<hex>`` made on the server (dropped at the end, also on
Ctrl-C), ``upgrade`` as ``qbsync db upgrade`` does, the workspaces registered, procrastinate's schema
applied.

Run: ``.venv/bin/python -m benchmarks.queue_choice [--workspaces 50] [--rounds 2] [--big 100]
[--systems baseline,qbsync,procrastinate] [--cases even,skew,kill,idle] [--keep DIR]``:
5 to 6 minutes on 2 CPUs, half of them qbsync's clock on the skewed case.
procrastinate is an optional extra, ``pip install -e '.[queue-bench]'``; without it the benchmark says so
and exits 2, unless ``--systems`` leaves it out.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import logging
import math
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.common import table

POSTGRES = os.environ.get(
    "QBSYNC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
)
ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("baseline", "qbsync", "procrastinate")
CASES = ("even", "skew", "kill", "idle")
WORKERS = 2
SCALE = 20  # the defaults' time runs this many times faster than production's
INSTALL_HINT = (
    "procrastinate is not installed: pip install -e '.[queue-bench]' (or --systems baseline,qbsync)"
)

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS qbench_round (
    team_id text NOT NULL, n integer NOT NULL, done_at double precision, PRIMARY KEY (team_id, n));
CREATE TABLE IF NOT EXISTS qbench_run (
    id bigserial PRIMARY KEY, team_id text NOT NULL, n integer NOT NULL, worker integer NOT NULL,
    pid integer NOT NULL, started double precision NOT NULL, finished double precision);
CREATE INDEX IF NOT EXISTS qbench_run_round ON qbench_run (team_id, n);
"""


def team(n: int) -> str:
    return f"T0QUEUE{n:03d}"


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- the round every system runs ---------------------------------------------------------------------------


def spin(seconds: float) -> None:
    """``seconds`` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        sum(range(200))


def synthetic_round(engine: sa.Engine, team_id: str, worker: int, io: float, cpu: float) -> tuple[bool, bool]:
    """The workspace's next undone round: (a round was run, rounds are left). Unlocked on purpose."""
    with engine.begin() as conn:
        n = conn.execute(
            sa.text("SELECT min(n) FROM qbench_round WHERE team_id = :t AND done_at IS NULL"), {"t": team_id}
        ).scalar()
        if n is None:
            return False, False
        run = conn.execute(
            sa.text(
                "INSERT INTO qbench_run (team_id, n, worker, pid, started) VALUES (:t, :n, :w, :p, :s) "
                "RETURNING id"
            ),
            {"t": team_id, "n": n, "w": worker, "p": os.getpid(), "s": time.time()},
        ).scalar_one()
    time.sleep(io)
    spin(cpu)
    with engine.begin() as conn:
        now = time.time()
        conn.execute(
            sa.text("UPDATE qbench_round SET done_at = :now WHERE team_id = :t AND n = :n"),
            {"now": now, "t": team_id, "n": n},
        )
        conn.execute(sa.text("UPDATE qbench_run SET finished = :now WHERE id = :id"), {"now": now, "id": run})
        more = conn.execute(
            sa.text("SELECT EXISTS (SELECT 1 FROM qbench_round WHERE team_id = :t AND done_at IS NULL)"),
            {"t": team_id},
        ).scalar_one()
    return True, bool(more)


# -- the worker processes ----------------------------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    """A worker whose benchmark is gone (killed, Ctrl-C) ends too."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _stop_on_term() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def _ready(**extra: Any) -> None:
    print(json.dumps({"ready": time.time(), **extra}), flush=True)


def baseline_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """Its share of the workspaces, fixed up front, once told to go (a line on standard input): a round
    of each on a pool of ``threads`` threads, a workspace with rounds left queued again behind the others
    (first in, first out); then it exits."""
    from concurrent.futures import ThreadPoolExecutor

    from services.store.storage import make_engine

    engine = make_engine(cfg["url"])
    pool = ThreadPoolExecutor(cfg["threads"])
    lock = threading.Lock()
    counts = {"rounds": 0, "pending": 0}
    finished = threading.Event()

    def one(team_id: str) -> None:
        ran, more = synthetic_round(engine, team_id, cfg["index"], cfg["io"], cfg["cpu"])
        with lock:
            counts["rounds"] += ran
            if more:
                pool.submit(one, team_id)
                return
            counts["pending"] -= 1
            if not counts["pending"]:
                finished.set()

    mine = cfg["teams"][cfg["index"] :: cfg["workers"]]
    counts["pending"] = len(mine)
    _ready()
    sys.stdin.readline()
    for team_id in mine:
        pool.submit(one, team_id)
    finished.wait()
    pool.shutdown()
    engine.dispose()
    return {"rounds": counts["rounds"]}


def qbsync_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """``WorkspaceRounds`` ticking as the ``workspaces`` job does, the synthetic round in the real sync
    lock of each workspace's storage."""
    if cfg.get("host"):  # another host: its locks' holders are not processes of this one
        import services.store.workers as workers

        workers.this_host = lambda: cfg["host"]  # type: ignore[assignment]

    from services.scheduler.autosync import LOCK
    from services.scheduler.workspaces import WorkspaceRounds
    from services.store.locks import JobLockHeld
    from services.store.secrets import TokenCipher
    from services.store.storage import make_engine
    from services.store.tenancy import Tenancy
    from services.workspaces.registry import WorkspaceRegistry

    stop = _stop_on_term()
    home = make_engine(cfg["url"])
    tenancy = Tenancy(home, cfg["url"])
    lease = dt.timedelta(seconds=cfg["lease"])
    counts = {"rounds": 0, "idle": 0, "skipped": 0, "ticks": 0}

    class Root:
        registry = WorkspaceRegistry(tenancy, TokenCipher(None))

        @staticmethod
        def for_workspace(workspace: Any) -> Any:
            return type(
                "Services", (), {"engine": tenancy.engine_for(workspace.storage), "workspace": workspace}
            )

    class SyntheticRounds(WorkspaceRounds):
        def _digest(self, services: Any, chat: Any) -> None:
            return None

        def _changes(self, services: Any, chat: Any) -> None:
            return None

        def _sync(self, services: Any, _chat: Any) -> None:
            """As ``WorkspaceRounds._sync``: every ``sync_every``; a round that leaves work tells the
            round's loop (``_more``), which goes on at once while a thread is free; the QuickBooks round
            replaced by the synthetic one."""
            team_id = services.workspace.team_id
            now = self.clock()
            if now - self.last_sync.get(team_id, -1e18) < cfg["sync_every"]:
                return None
            with JobLockHeld(services.engine, LOCK, lease) as lock:
                if not lock.held:
                    counts["skipped"] += 1
                    return None
                ran, more = synthetic_round(home, team_id, cfg["index"], cfg["io"], cfg["cpu"])
                counts["rounds" if ran else "idle"] += 1
                lock.outcome = "ran" if ran else "idle"
            if not more:
                self.last_sync[team_id] = now
            self._more[team_id] = more
            return None

    rounds = SyntheticRounds(Root(), lambda _services: None, threads=cfg["threads"], stop=stop)
    _ready()
    began = time.monotonic()
    while not stop.is_set():  # APScheduler's interval trigger: a tick every ``tick`` s from the start
        rounds.tick()
        counts["ticks"] += 1
        ticks = (time.monotonic() - began) // cfg["tick"] + 1
        stop.wait(max(0.0, began + ticks * cfg["tick"] - time.monotonic()))
    rounds.close()
    home.dispose()
    return counts


def procrastinate_app(url: str, max_size: int) -> Any:
    import procrastinate

    # Its tasks are named explicitly, so the app being made in a ``__main__`` module changes nothing.
    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)

    return procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq(url), min_size=1, max_size=max_size)
    )


def procrastinate_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    """A procrastinate worker: a job per workspace round, two periodic tasks."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from procrastinate import exceptions
    from procrastinate.jobs import Status

    from services.store.secrets import TokenCipher
    from services.store.storage import make_engine
    from services.store.tenancy import Tenancy
    from services.workspaces.registry import WorkspaceRegistry

    home = make_engine(cfg["url"])
    registry = WorkspaceRegistry(Tenancy(home, cfg["url"]), TokenCipher(None))
    app = procrastinate_app(cfg["url"], cfg["threads"] + 4)
    counts = {"rounds": 0, "idle": 0, "already_queued": 0, "stalled_retried": 0, "stalled_failed": 0}

    def defer_round(team_id: str) -> None:
        try:
            workspace_round.configure(lock=team_id, queueing_lock=team_id).defer(team_id=team_id)
        except exceptions.AlreadyEnqueued:
            counts["already_queued"] += 1

    @app.task(name="workspace_round")
    def workspace_round(team_id: str) -> None:
        ran, more = synthetic_round(home, team_id, cfg["index"], cfg["io"], cfg["cpu"])
        counts["rounds" if ran else "idle"] += 1
        if more:
            defer_round(team_id)

    @app.periodic(cron=f"* * * * * */{cfg['sync_every']}", periodic_id="sweep")
    @app.task(name="sweep", queueing_lock="sweep")
    def sweep(timestamp: int) -> None:
        for workspace in registry.all():
            if workspace.installed:
                defer_round(workspace.team_id)

    @app.periodic(cron="* * * * * *", periodic_id="stalled")
    @app.task(name="retry_stalled", queueing_lock="retry_stalled")
    async def retry_stalled(timestamp: int) -> None:
        """procrastinate's recipe, and what ``queueing_lock`` adds to it: a stalled round whose workspace
        has another round queued cannot go back to the queue (the queueing lock's unique index); it is
        marked failed, which lets the queued one run (the stalled one held the workspace's lock)."""
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=cfg["lease"]):
            try:
                await app.job_manager.retry_job(job)
                counts["stalled_retried"] += 1
            except exceptions.UniqueViolation:
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
                counts["stalled_failed"] += 1

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(cfg["threads"] + 2))
        async with app.open_async():
            _ready()
            await app.run_worker_async(
                concurrency=cfg["threads"],
                name=f"bench-{cfg['index']}",
                delete_jobs="successful",
                fetch_job_polling_interval=cfg["poll"],
                update_heartbeat_interval=cfg["lease"] / 3,
                stalled_worker_timeout=cfg["lease"],
            )

    asyncio.run(main())
    home.dispose()
    return counts


def worker_main(cfg: dict[str, Any]) -> None:
    _watch_parent(cfg["parent"])
    run = {
        "baseline": baseline_worker,
        "qbsync": qbsync_worker,
        "procrastinate": procrastinate_worker,
    }
    counts = run[cfg["system"]](cfg)
    print(json.dumps({"done": counts}), flush=True)


# -- the benchmark's side ----------------------------------------------------------------------------------


class Worker:
    """One worker process: its JSON lines read by a thread, its standard error in a file."""

    def __init__(self, cfg: dict[str, Any], log: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        }
        self.err = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.queue_choice", "--as-worker", json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.ready: float | None = None
        self.summary: dict[str, Any] | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            with contextlib.suppress(ValueError):
                self.lines.put(json.loads(line))

    def wait_ready(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while self.ready is None:
            try:
                found = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit(f"a worker did not start in {timeout:.0f} s (see {self.err.name})") from None
            self.ready = found.get("ready", self.ready)
            if time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start in {timeout:.0f} s (see {self.err.name})")
        return self.ready

    def go(self) -> None:
        self.process.stdin.write("go\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]

    def stop(self, timeout: float = 30) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        deadline = time.monotonic() + 2
        while self.summary is None and time.monotonic() < deadline:
            try:
                self.summary = self.lines.get(timeout=0.1).get("done", self.summary)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
        self.err.close()
        return code

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()  # reaped: a zombie would still look alive to ``holder_is_dead``


class Bench:
    """The database of the run and what the benchmark does to it between and around the workers."""

    def __init__(self, args: Any, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        self.name = f"qbsync_bench_{os.urandom(4).hex()}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        self.url = (
            sa.make_url(args.postgres_url).set(database=self.name).render_as_string(hide_password=False)
        )
        self.poll = None
        self.polls = 0
        self.workers: list[Worker] = []
        self.teams = [team(n) for n in range(args.workspaces)]
        self.objects: dict[str, int] = {}

    def setup(self) -> None:
        from services.store.secrets import TokenCipher
        from services.store.storage import make_engine, upgrade
        from services.store.tenancy import Tenancy
        from services.workspaces.registry import WorkspaceRegistry

        upgrade(self.url)
        home = make_engine(self.url)
        registry = WorkspaceRegistry(Tenancy(home, self.url), TokenCipher(None))
        for n, team_id in enumerate(self.teams, start=1):
            registry.installed(team_id, name=f"Queue {n}", installer="U0QUEUE")
            if n % 25 == 0 or n == len(self.teams):
                print(f"  setup: {n} of {len(self.teams)} workspaces installed", flush=True)
        self.storages = [w.storage for w in registry.all()]
        with home.begin() as conn:
            for statement in BOOKKEEPING.split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)
        home.dispose()
        if "procrastinate" in self.args.systems:
            before = self.schema_objects()
            app = procrastinate_app(self.url, 2)
            with app.open():
                app.schema_manager.apply_schema()
            app.close()
            after = self.schema_objects()
            self.objects = {kind: after[kind] - before.get(kind, 0) for kind in after}

    def schema_objects(self) -> dict[str, int]:
        """Objects of the home schema by kind (tables, indexes, sequences, functions, triggers, types)."""
        queries = {
            "tables": "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'",
            "indexes": "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'i'",
            "sequences": "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'S'",
            "functions": "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'",
            "triggers": "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal",
            "types": "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype = 'e'",
        }
        engine = sa.create_engine(self.url)
        with engine.connect() as conn:
            found = {kind: conn.exec_driver_sql(sql).scalar_one() for kind, sql in queries.items()}
        engine.dispose()
        return found

    def connect(self) -> None:
        """The benchmark's own connection to the database; its statements are counted, and taken off the
        transactions of a run. It is closed before the statistics are read (a backend's are sent when it
        ends)."""
        import psycopg

        self.poll = psycopg.connect(libpq(self.url), autocommit=True)
        self.polls = 0

    def disconnect(self) -> None:
        if self.poll is not None:
            self.poll.close()
            self.poll = None

    def execute(self, sql: str, params: Any = None) -> list[tuple]:
        self.polls += 1
        cursor = self.poll.execute(sql, params)  # type: ignore[union-attr]
        return cursor.fetchall() if cursor.description else []

    def transactions(self) -> int:
        with self.admin.connect() as conn:
            return conn.exec_driver_sql(
                f"SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{self.name}'"
            ).scalar_one()

    def connections(self) -> int:
        with self.admin.connect() as conn:
            return conn.exec_driver_sql(
                f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.name}'"
            ).scalar_one()

    def reset(self) -> None:
        self.execute("TRUNCATE qbench_round, qbench_run")
        for storage in self.storages:
            self.execute(f'DELETE FROM "{storage}".job_lock')
        if "procrastinate" in self.args.systems:
            self.execute(
                "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
                "procrastinate_workers CASCADE"
            )

    def backlog(self, case: str) -> list[tuple[str, int]]:
        if case == "even":
            return [(t, n) for t in self.teams for n in range(1, self.args.rounds + 1)]
        if case == "skew":
            return [(self.teams[0], n) for n in range(1, self.args.big + 1)] + [
                (t, 1) for t in self.teams[1:]
            ]
        if case == "kill":  # spread over the registry's order, so both processes' turns reach some
            every = max(1, len(self.teams) // self.args.kill_workspaces)
            return [(t, 1) for t in self.teams[::every][: self.args.kill_workspaces]]
        return []

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        self.disconnect()
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()

    # -- one run: a system on a case ---------------------------------------------------------------------

    def run(self, system: str, case: str, *, host: str | None = None) -> dict[str, Any]:
        args = self.args
        self.connect()
        self.reset()
        self.disconnect()
        time.sleep(0.5)  # the statistics of the connection just closed are in
        rounds = self.backlog(case)
        io = args.kill_round_ms / 1000 if case == "kill" else args.round_ms / 1000
        label = f"{system}-{case}" + ("-hosts" if host else "")
        before = self.transactions()
        self.connect()
        self.workers = []
        for k in range(WORKERS):
            cfg = {
                "system": system,
                "index": k,
                "workers": WORKERS,
                "parent": os.getpid(),
                "url": self.url,
                "teams": self.teams,
                "threads": args.threads,
                "io": io,
                "cpu": args.cpu_ms / 1000,
                "tick": args.tick,
                "sync_every": args.sync_every,
                "lease": args.lease,
                "poll": args.poll,
                "host": f"{host}-{k + 1}" if host else None,
            }
            self.workers.append(Worker(cfg, self.folder / f"{label}-{k + 1}.log"))
        spawned = time.time()
        for worker in self.workers:
            worker.wait_ready(60)
        time.sleep(args.warm)
        most_connections = self.connections()
        if rounds:
            self.execute(
                "INSERT INTO qbench_round (team_id, n) SELECT * FROM unnest(%s::text[], %s::int[])",
                ([t for t, _ in rounds], [n for _, n in rounds]),
            )
        arrived = time.time()
        if system == "baseline":
            for worker in self.workers:
                worker.go()
        killed: dict[str, Any] | None = None
        deadline = time.monotonic() + args.timeout
        if case == "idle":
            time.sleep(args.idle)
        left = len(rounds)
        last_sample = 0.0
        while rounds and time.monotonic() < deadline:
            if case == "kill" and killed is None:
                busy = self.execute(
                    "SELECT count(*), min(started) FROM qbench_run WHERE worker = 0 AND finished IS NULL"
                )[0]
                if busy[0] and time.time() - busy[1] >= args.kill_round_ms / 2000:
                    at = time.time()
                    self.workers[0].kill()
                    held = self.execute(
                        "SELECT team_id, n FROM qbench_run WHERE worker = 0 AND finished IS NULL"
                    )
                    killed = {"at": at, "rounds": [list(r) for r in held]}
            left = self.execute("SELECT count(*) FROM qbench_round WHERE done_at IS NULL")[0][0]
            if not left:
                break
            if time.monotonic() - last_sample > 0.25:
                most_connections = max(most_connections, self.connections())
                last_sample = time.monotonic()
            time.sleep(0.05)
        finished = time.time()
        rows = self.execute("SELECT team_id, n, done_at FROM qbench_round")
        runs = self.execute("SELECT team_id, n, worker, started, finished FROM qbench_run ORDER BY id")
        polls = self.polls
        self.disconnect()
        codes = [worker.stop() for worker in self.workers]
        stopped = time.time()
        time.sleep(0.5)  # the exiting backends' statistics reach pg_stat_database
        spent = self.transactions() - before - polls
        return {
            "system": system,
            "case": case,
            "host": host,
            "spawned": spawned,
            "ready": min(w.ready for w in self.workers),
            "arrived": arrived,
            "finished": finished,
            "timed_out": bool(left),
            "rounds": rows,
            "runs": runs,
            "killed": killed,
            "transactions": spent,
            "seconds": stopped - spawned,
            "connections": most_connections,
            "exit_codes": codes,
            "workers": [w.summary for w in self.workers],
        }


# -- what a run shows ---------------------------------------------------------------------------------------


def measures(found: dict[str, Any], big: str | None) -> dict[str, Any]:
    arrived = found["arrived"]
    done = {(t, n): d for t, n, d in found["rounds"]}
    runs = found["runs"]
    first_start: dict[tuple[str, int], float] = {}
    finished_runs: dict[tuple[str, int], int] = {}
    for t, n, _worker, started, fin in runs:
        key = (t, n)
        first_start[key] = min(first_start.get(key, started), started)
        if fin is not None:
            finished_runs[key] = finished_runs.get(key, 0) + 1
    delays = []
    for (t, n), started in first_start.items():
        due = arrived if n == 1 else done.get((t, n - 1))
        if due is not None:
            delays.append(max(0.0, started - due))
    completion: dict[str, float] = {}
    for (t, _n), d in done.items():
        if d is not None:
            completion[t] = max(completion.get(t, 0.0), d - arrived)
    small = [v for t, v in completion.items() if t != big]
    # rounds of one workspace at once: a run starting before another of the same workspace has ended
    end_of_killed = found["killed"]["at"] if found["killed"] else found["finished"]
    by_team: dict[str, list[tuple[float, float]]] = {}
    for t, _n, _worker, started, fin in runs:
        by_team.setdefault(t, []).append((started, fin if fin is not None else end_of_killed))
    overlapping = 0
    for spans in by_team.values():
        spans.sort()
        reach = -1.0
        for start, end in spans:
            overlapping += start < reach
            reach = max(reach, end)
    every = all(d is not None for d in done.values()) and not found["timed_out"]
    out = {
        "total": max(completion.values()) if every and completion else None,
        "delays": delays,
        "small_median": statistics.median(small) if small else None,
        "small_slowest": max(small) if small else None,
        "big": completion.get(big) if big else None,
        "twice": sum(1 for c in finished_runs.values() if c > 1),
        "overlapping": overlapping,
        "rounds_done": sum(1 for d in done.values() if d is not None),
        "rounds": len(done),
        "transactions": found["transactions"],
        "connections": found["connections"],
    }
    if found["killed"]:
        at = found["killed"]["at"]
        again = []
        for t, n in found["killed"]["rounds"]:
            later = [s for tt, nn, _w, s, _f in runs if (tt, nn) == (t, n) and s > at]
            again.append(min(later) - at if later else None)
        out["held"] = len(again)
        out["again"] = [a for a in again if a is not None]
        out["never"] = sum(1 for a in again if a is None)
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(value: float | None, base: float | None) -> str:
    return "—" if value is None or not base else f"{value / base:.1f}x"


def report(args: Any, results: dict[tuple[str, str], dict[str, Any]], bench: Bench) -> list[list[Any]]:
    systems = [s for s in SYSTEMS if s in args.systems]
    headers = ["measure", *systems, *[f"{s} / baseline" for s in systems if s != "baseline"]]
    rows: list[list[Any]] = []

    def row(label: str, values: dict[str, str], ratios: dict[str, str] | None = None) -> None:
        cells = [values.get(s, "") for s in systems]
        if "baseline" in systems:
            cells += [(ratios or {}).get(s, "") for s in systems if s != "baseline"]
        rows.append([label, *cells])

    for case in ("even", "skew"):
        found = {s: results[(s, case)] for s in systems if (s, case) in results}
        if not found:
            continue
        big = bench.teams[0] if case == "skew" else None
        m = {s: measures(f, big) for s, f in found.items()}
        base = m.get("baseline", {})
        n = args.workspaces
        title = (
            f"{n} workspaces x {args.rounds} rounds"
            if case == "even"
            else f"1 workspace x {args.big} rounds + {n - 1} x 1"
        )
        rows.append([f"[{case}] {title}", *[""] * (len(headers) - 1)])
        row(
            "  all rounds done (s, from the backlog's arrival)",
            {s: fmt(v["total"], 1) for s, v in m.items()},
            {s: ratio(v["total"], base.get("total")) for s, v in m.items()},
        )
        row(
            "  start delay, due -> started (s): p50 / p99",
            {
                s: f"{fmt(statistics.median(v['delays']))} / {fmt(nearest_rank(v['delays'], 0.99))}"
                if v["delays"]
                else "—"
                for s, v in m.items()
            },
            {
                s: ratio(nearest_rank(v["delays"], 0.99), nearest_rank(base["delays"], 0.99))
                for s, v in m.items()
                if v["delays"] and base.get("delays")
            },
        )
        label = "small workspaces" if case == "skew" else "workspaces"
        row(
            f"  {label} done (s): median / slowest",
            {s: f"{fmt(v['small_median'], 1)} / {fmt(v['small_slowest'], 1)}" for s, v in m.items()},
            {s: ratio(v["small_slowest"], base.get("small_slowest")) for s, v in m.items()},
        )
        row(
            "  fairness: slowest / median",
            {
                s: fmt(v["small_slowest"] / v["small_median"]) if v["small_median"] else "—"
                for s, v in m.items()
            },
        )
        if case == "skew":
            row(
                f"  the big workspace done (s; its {args.big} rounds back to back: "
                f"{args.big * args.round_ms / 1000:.0f} s)",
                {s: fmt(v["big"], 1) for s, v in m.items()},
                {s: ratio(v["big"], base.get("big")) for s, v in m.items()},
            )
        row(
            "  rounds run twice / rounds of one workspace at once",
            {s: f"{v['twice']} / {v['overlapping']}" for s, v in m.items()},
        )
        row(
            "  database transactions per round done (whole run, idle included)",
            {
                s: f"{v['transactions'] / max(1, v['rounds_done']):.1f} ({v['rounds_done']})"
                for s, v in m.items()
            },
            {
                s: ratio(
                    v["transactions"] / max(1, v["rounds_done"]),
                    base["transactions"] / max(1, base["rounds_done"]),
                )
                for s, v in m.items()
                if base
            },
        )
        row("  most connections open", {s: str(v["connections"]) for s, v in m.items()})
        if "qbsync" in found:
            skipped = sum((w or {}).get("skipped", 0) for w in found["qbsync"]["workers"])
            row("  qbsync: rounds skipped, the lock held by the other process", {"qbsync": str(skipped)})

    idle = {s: results[(s, "idle")] for s in systems if (s, "idle") in results}
    if idle:
        row(
            f"[idle] nothing due, {args.workspaces} workspaces: transactions a second",
            {s: f"{f['transactions'] / f['seconds']:.0f}" for s, f in idle.items()},
        )
        row(
            f"  the same in production's time (every period {SCALE} times longer)",
            {s: f"{f['transactions'] / f['seconds'] / SCALE:.1f}" for s, f in idle.items()},
        )
    return [headers, *rows]


def _interrupted(*_: Any) -> None:
    raise KeyboardInterrupt


KILLED = {
    ("qbsync", "kill"): "qbsync, same host (the holder's process seen gone)",
    ("qbsync", "kill-hosts"): "qbsync, other hosts (lease expiry)",
    ("procrastinate", "kill"): "procrastinate (heartbeats, retry_stalled)",
}


def kill_report(results: dict[tuple[str, str], dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for key, label in KILLED.items():
        if key not in results:
            continue
        v = measures(results[key], None)
        again = v["again"]
        rows.append(
            [
                label,
                v["held"],
                f"{fmt(statistics.median(again)) if again else '—'} / {fmt(max(again)) if again else '—'}"
                + (f" ({v['never']} never)" if v["never"] else ""),
                fmt(v["total"], 1),
                f"{v['twice']} / {v['overlapping']}",
            ]
        )
    return rows


def operations(args: Any, bench: Bench) -> list[str]:
    lines = [
        "qbsync: no new schema object (the sync lock is a row of job_lock in each workspace's schema), "
        "no new process (the clocks tick as today), no LISTEN/NOTIFY.",
    ]
    if "procrastinate" in args.systems:
        made = ", ".join(f"{v} {k}" for k, v in bench.objects.items() if v)
        lines.append(
            f"procrastinate: {made} in the home schema, with migrations of its own to apply at each upgrade; "
            "a worker per host (or run inside the clock), each holding a LISTEN connection; a NOTIFY per job "
            "deferred; two periodic tasks (the sweep, the stalled-job retry); finished jobs deleted."
        )
    return lines


def main(argv: list[str] | None = None) -> list[list[Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-worker", help=argparse.SUPPRESS)
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each workspace in the even case")
    parser.add_argument("--big", type=int, default=100, help="rounds of the big workspace in the skewed case")
    # Time runs 20 times faster than in production; each default's production value is in its help.
    parser.add_argument("--round-ms", type=int, default=125, help="a round's I/O, a sleep (2.5 s)")
    parser.add_argument("--cpu-ms", type=int, default=5, help="a round's CPU part")
    parser.add_argument(
        "--kill-round-ms", type=int, default=1000, help="a round's I/O in the kill case (20 s)"
    )
    parser.add_argument(
        "--kill-workspaces", type=int, default=8, help="workspaces with a round in the kill case"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads (concurrency) of each worker process")
    parser.add_argument("--tick", type=float, default=0.5, help="qbsync's tick (10 s)")
    parser.add_argument(
        "--sync-every",
        type=int,
        default=2,
        help="QBSYNC_SYNC_EVERY, and the period of procrastinate's sweep (40 s; whole seconds: cron's)",
    )
    parser.add_argument(
        "--lease",
        type=float,
        default=1.5,
        help="qbsync's sync lock lease and procrastinate's stalled timeout (30 s, procrastinate's default; "
        "qbsync's sync lock has 120 s, renewed)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=0.25,
        help="procrastinate's fetch_job_polling_interval (5 s, its default)",
    )
    parser.add_argument("--warm", type=float, default=1.0, help="seconds the workers run before the backlog")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of the idle case")
    parser.add_argument("--timeout", type=float, default=200, help="seconds a run may take")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
    )
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--postgres-url", default=POSTGRES, help="the server a database is made on")
    parser.add_argument("--keep", help="a folder to keep the workers' logs and raw numbers in")
    args = parser.parse_args(argv)
    if args.as_worker:
        worker_main(json.loads(args.as_worker))
        return []
    args.systems = [s for s in args.systems.split(",") if s]
    args.cases = [c for c in args.cases.split(",") if c]
    if unknown := set(args.systems) - set(SYSTEMS) | set(args.cases) - set(CASES):
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if "procrastinate" in args.systems:
        try:
            import procrastinate  # noqa: F401
        except ImportError:
            print(INSTALL_HINT, file=sys.stderr)
            sys.exit(2)
    load_before = os.getloadavg()
    signal.signal(signal.SIGTERM, _interrupted)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        bench = Bench(args, folder)
        results: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            bench.setup()
            print(f"setup, not measured: {time.perf_counter() - began:.0f} s", flush=True)
            plan = [
                (s, c)
                for c in args.cases
                for s in args.systems
                if (s, c) in (("baseline", "even"), ("baseline", "skew")) or s in ("qbsync", "procrastinate")
            ]
            for system, case in plan:
                hosts = [None, "bench-host"] if (system, case) == ("qbsync", "kill") else [None]
                for host in hosts:
                    found = bench.run(system, case, host=host)
                    key = (system, case + ("-hosts" if host else ""))
                    results[key] = found
                    print(
                        f"  {system} {key[1]}: {found['finished'] - found['arrived']:.1f} s"
                        + (" (timed out)" if found["timed_out"] else ""),
                        flush=True,
                    )
        finally:
            bench.close()
        load_after = os.getloadavg()
        (folder / "raw.json").write_text(
            json.dumps({f"{s}/{c}": v for (s, c), v in results.items()}, indent=1, default=str)
        )
        headers, *rows = report(args, results, bench)
        try:
            version = importlib.metadata.version("procrastinate")
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        print(
            f"\n{args.workspaces} workspaces, {WORKERS} worker processes x {args.threads} threads, "
            f"PostgreSQL, procrastinate {version}; time {SCALE}x production's: a round {args.round_ms} ms "
            f"of I/O + {args.cpu_ms} ms CPU, qbsync's tick {args.tick:g} s, sync every {args.sync_every} s; "
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} "
            f"CPUs; {time.perf_counter() - began:.0f} s in all"
        )
        print(table(headers, rows))
        if killed := kill_report(results):
            print(
                f"\nworker 1 SIGKILLed mid-round: {args.kill_workspaces} workspaces with 1 round of "
                f"{args.kill_round_ms / 1000:g} s; qbsync's lease and procrastinate's stalled timeout "
                f"{args.lease:g} s"
            )
            print(
                table(
                    [
                        "after the kill",
                        "rounds it held",
                        "run again after (s): median / max",
                        "all done (s)",
                        "run twice / at once",
                    ],
                    killed,
                )
            )
        print()
        for line in operations(args, bench):
            print(line)
        if args.keep:
            print(f"logs and raw numbers: {folder}")
    return rows


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: the workers are stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
    sys.exit(0)
