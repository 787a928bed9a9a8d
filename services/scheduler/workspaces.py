"""The scheduler of a deployment for many workspaces: one job, ``workspaces``, every 10 s, that gives each
installed workspace its round — its digest at its own time and zone, its automatic sync and retry every
``QBSYNC_SYNC_EVERY``, its QuickBooks changes and notices — each workspace on its own services (its own
storage, settings and QuickBooks limits).

Fairness: a workspace's round runs in a pool of threads, at most one round per workspace at a time; each
tick starts as many rounds as there are free threads, for the workspaces next in turn (each process starts
its turn elsewhere). A round pushes at most ``ROUND_LOADS`` loads, in QuickBooks batches: a company with
10,000 loads waiting takes its turn like the others, and the companies with 10 are served between. A
round whose sync left loads due pushes the next ``ROUND_LOADS`` at once while a thread is free (no
workspace is waiting for one), instead of waiting for its turn to come round again. A
round that fails is logged with its workspace and holds back no other. Across processes (several
``clock`` processes, on several hosts) the database decides, per workspace, as it does for one: the
sync's lock, the digest's claim per channel and day, the change feed's lock are rows of that workspace's
own storage.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from services.store.workers import worker_id

log = logging.getLogger("qbsync.clock")

ROUND_LOADS = 300  # a workspace's loads pushed in one round (ten QuickBooks batches)
QUIET = ("not yet", "already posted", "stopped today", "no QBSYNC_DIGEST_CHANNEL")  # said every tick


class WorkspaceRounds:
    """Each tick: a round for every installed workspace whose last round has ended."""

    def __init__(
        self,
        root: Any,
        chat_for: Callable[[Any], Any],
        *,
        threads: int = 8,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.chat_for = chat_for  # a workspace's services -> its chat port (DigestChannel), or None
        self.stop = stop or threading.Event()
        self.clock = clock
        self.threads = threads
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="qbsync-workspace")
        # Each process starts its turn elsewhere: two clocks do not queue the same workspaces first.
        self.offset = zlib.crc32(worker_id().encode()) % 1000
        self.running: set[str] = set()
        self._more: dict[str, bool] = {}  # a workspace's last sync left loads due
        self.last_sync: dict[str, float] = {}
        self.turn = 0
        self.lock = threading.Lock()

    def tick(self) -> str:
        """Start rounds for the workspaces next in turn, as many as there are free threads: a workspace
        not started now is first in line at the next tick."""
        installed = [w for w in self.root.registry.all() if w.installed]
        if not installed:
            return "no workspace installed"
        start = (self.turn + self.offset) % len(installed)
        order = installed[start:] + installed[:start]
        started, after = 0, 0
        for position, workspace in enumerate(order):
            with self.lock:
                if len(self.running) >= self.threads:
                    break
                if workspace.team_id in self.running:
                    continue
                self.running.add(workspace.team_id)
            self.pool.submit(self._round, workspace)
            started, after = started + 1, position + 1
        self.turn = (self.turn + after) % len(installed)  # next time, from the one after the last started
        return f"{started} of {len(installed)} workspaces started a round"

    def _round(self, workspace: Any) -> None:
        team = workspace.team_id
        try:
            services = self.root.for_workspace(workspace)
            chat = self.chat_for(services)
            steps = [("digest", self._digest), ("sync", self._sync), ("changes", self._changes)]
            while steps:
                name, step = steps.pop(0)
                if self.stop.is_set():
                    return
                try:
                    outcome = step(services, chat)
                    if outcome:
                        log.info("workspace %s: %s: %s", team, name, outcome)
                    if name == "sync" and self._more.pop(team, False) and self._free():
                        steps.insert(0, (name, step))  # work left and nobody waiting for a thread: go on
                except Exception as exc:  # this workspace's QuickBooks or Slack is broken: only its round
                    error_id = uuid.uuid4().hex[:8]
                    log.error(
                        "workspace %s: %s failed (%s: %s); error id %s",
                        team,
                        name,
                        type(exc).__name__,
                        exc,
                        error_id,
                        exc_info=exc,
                    )
        finally:
            with self.lock:
                self.running.discard(team)

    def _free(self) -> bool:
        """Whether a thread is free, which a tick would give to a workspace waiting its turn."""
        with self.lock:
            return len(self.running) < self.threads

    def _digest(self, services: Any, chat: Any) -> str | None:
        if chat is None or not services.settings.digest_channel:
            return None
        from services.digest.posting import poster_for
        from services.scheduler.jobs import digest_job

        outcome = str(digest_job(poster_for(services, chat)) or "")
        return None if any(quiet in outcome for quiet in QUIET) else outcome

    def _sync(self, services: Any, _chat: Any) -> str | None:
        """Every ``QBSYNC_SYNC_EVERY``, at most ``ROUND_LOADS`` loads a round: a workspace with more due
        is due again at its next round, after the others have had theirs. A run skipped because another
        process holds the workspace's lock is tried again at the next tick."""
        team = services.workspace.team_id
        now = self.clock()
        if now - self.last_sync.get(team, -1e18) < services.settings.sync_every:
            return None
        from services.scheduler.autosync import sync_and_retry

        report = sync_and_retry(services, stop=self.stop, limit=ROUND_LOADS)
        if report.ran and not report.more:
            self.last_sync[team] = now
        self._more[team] = report.ran and report.more and not report.stopped_early
        return report.summary() if report.ran else None

    def _changes(self, services: Any, chat: Any) -> str | None:
        from services.scheduler.changes import changes_job

        channel = services.settings.digest_channel
        outcome = changes_job(
            services.changes, services.settings.changes_interval, chat if channel else None, channel
        )
        return None if outcome == "nothing due" else outcome

    def close(self) -> None:
        self.stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


def tick(rounds: WorkspaceRounds) -> str:
    """The ``workspaces`` job."""
    return rounds.tick()
