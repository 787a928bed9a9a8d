"""The clock's rounds over many workspaces: each tick starts as many rounds as there are free threads,
for the workspaces next in turn, never two rounds of one workspace at once; a backlog is pushed a round
at a time, so other workspaces are served between."""

from __future__ import annotations

import threading

from pydantic import SecretStr

from services.scheduler.autosync import sync_and_retry
from services.scheduler.workspaces import ROUND_LOADS, WorkspaceRounds
from services.tms.importer import import_data
from tests.builders import CHARGE_CODES, CUSTOMERS
from tests.builders import load as a_load
from tests.waiting import wait_for

TEAMS = ["T0RND0001", "T0RND0002", "T0RND0003", "T0RND0004"]


class Recorded(WorkspaceRounds):
    """Rounds that only record which workspace went, and end when told."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.went: list[str] = []
        self.release = threading.Event()

    def _round(self, workspace) -> None:
        self.went.append(workspace.team_id)
        self.release.wait(5)
        with self.lock:
            self.running.discard(workspace.team_id)


def test_each_tick_starts_the_next_workspaces_in_turn(svc):
    for team in TEAMS:
        svc.registry.installed(team)
    rounds = Recorded(svc, lambda _services: None, threads=2)
    rounds.offset = 0
    try:
        assert rounds.tick() == "2 of 4 workspaces started a round"
        assert rounds.tick() == "0 of 4 workspaces started a round", "no thread free: nobody queued"
        rounds.release.set()
        wait_for(lambda: not rounds.running, 5, "the first rounds to end")
        rounds.release.clear()
        assert rounds.tick() == "2 of 4 workspaces started a round"
        wait_for(lambda: len(rounds.went) == 4, 5, "the next two rounds")
        assert rounds.went[:2] == TEAMS[:2] and set(rounds.went[2:4]) == set(TEAMS[2:]), rounds.went
    finally:
        rounds.release.set()
        rounds.close()


def test_a_backlog_goes_a_round_at_a_time(svc):
    svc.settings = svc.settings.model_copy(
        update={"slack_client_id": "1111.2222", "slack_client_secret": SecretStr("secret")}
    )
    workspace = svc.registry.installed(TEAMS[0])
    scoped = svc.for_workspace(workspace)
    loads = [a_load(f"B-{i:04d}") for i in range(ROUND_LOADS + 5)]
    import_data(scoped.engine, {"customers": CUSTOMERS, "charge_codes": CHARGE_CODES, "loads": loads})
    report = sync_and_retry(scoped, limit=ROUND_LOADS)  # not connected: each load says so, fast
    assert len(report.waiting) + len(report.need_person) + len(report.synced) == ROUND_LOADS
    assert report.more


def test_a_broken_workspace_holds_back_no_other(svc, caplog):
    import logging

    import sqlalchemy as sa

    from services.store.models import JobLock

    for team in TEAMS[:3]:
        svc.registry.installed(team)
    broken = svc.registry.get(TEAMS[1])
    svc.tenancy.drop(broken.storage)  # its tables are gone: every step of its round fails
    rounds = WorkspaceRounds(svc, lambda _services: None, threads=3)
    try:
        with caplog.at_level(logging.ERROR, logger="qbsync.clock"):
            rounds.tick()
            wait_for(lambda: not rounds.running, 30, "the rounds to end")
    finally:
        rounds.close()
    for team in (TEAMS[0], TEAMS[2]):
        engine = svc.for_workspace(svc.registry.get(team)).engine
        with engine.connect() as conn:
            done = conn.execute(sa.select(JobLock.__table__.c.last_finished_at)).scalars().all()
        assert done and all(done), f"{team}'s sync ran"
    assert any(TEAMS[1] in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)


class Backlogged(WorkspaceRounds):
    """Rounds whose sync leaves loads due its first ``due`` times (nothing else runs)."""

    def __init__(self, *args, due: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.due, self.syncs = due, 0

    def _digest(self, services, chat):
        return None

    def _changes(self, services, chat):
        return None

    def _sync(self, services, chat):
        self.syncs += 1
        self._more[services.workspace.team_id] = self.syncs <= self.due
        return None


def test_a_backlog_goes_on_at_once_while_a_thread_is_free(svc):
    svc.registry.installed(TEAMS[0])
    rounds = Backlogged(svc, lambda _services: None, threads=2, due=3)
    try:
        rounds.tick()
        wait_for(lambda: not rounds.running, 10, "the round to end")
    finally:
        rounds.close()
    assert rounds.syncs == 4, "three more batches of loads in the same round, then nothing left"


def test_a_backlog_waits_its_turn_when_no_thread_is_free(svc):
    svc.registry.installed(TEAMS[0])
    rounds = Backlogged(svc, lambda _services: None, threads=1, due=3)
    try:
        rounds.tick()
        wait_for(lambda: not rounds.running, 10, "the round to end")
    finally:
        rounds.close()
    assert rounds.syncs == 1, "the next loads at its next turn"
