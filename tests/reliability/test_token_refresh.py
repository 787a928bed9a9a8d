"""Rotating refresh tokens: a process whose refresh token was rotated by another keeps the company
connected, and a rotated token is stored before anything else is done with it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from services.quickbooks import IntuitAuth, RetryPolicy
from services.store.models import ConnectionState, QboConnection
from wiring.services import bootstrap

pytestmark = pytest.mark.reliability


class RotatedJustBefore(IntuitAuth):
    """Intuit's OAuth server (the emulator, over HTTP) as a process sees it when another process rotates
    its refresh token and stores the new one just before this process presents the old one."""

    def __init__(self, settings, rotate_elsewhere) -> None:
        super().__init__(settings)
        self.rotate_elsewhere = rotate_elsewhere
        self.presented: list[str] = []

    def refresh(self, refresh_token: str):
        self.presented.append(refresh_token)
        if len(self.presented) == 1:
            self.rotate_elsewhere(refresh_token)
        return super().refresh(refresh_token)


def services_for(settings, engine, auth=None):
    svc = bootstrap(settings, engine=engine, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05))
    if auth is not None:
        svc.auth = auth  # before the connection and the API are built from it
    return svc


def test_a_refresh_token_rotated_by_another_process_is_read_again_not_declared_broken(
    connected, settings, engine, emu
):
    """The other process stores its tokens while this one waits for Intuit: no database lock is held
    across the HTTP call, and this one's ``invalid_grant`` leads to the stored, newer token."""
    other = services_for(settings, engine)  # the other process: its own services, the same database

    def rotate_elsewhere(refresh_token: str) -> None:
        realm_id = other.connection.status().realm_id
        other.connection.store(other.auth.refresh(refresh_token), realm_id, "other process")

    auth = RotatedJustBefore(settings, rotate_elsewhere)
    stale = services_for(settings, engine, auth)
    emu.expire_tokens()
    assert "totalCount" in stale.api.query("SELECT count(*) FROM Item")
    assert stale.connection.status().state is ConnectionState.CONNECTED
    assert len(auth.presented) == 1  # the other process's fresh access token was used, no second refresh
    emu.expire_tokens()  # and the stored refresh token is the live one
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")
    assert connected.connection.status().connected


def refreshes(emu) -> int:
    """How many refreshes Intuit (the emulator) has answered: each retired a refresh token."""
    return sum(1 for issued in emu.emulator.tokens.refresh_tokens.values() if issued.retired)


def live_refresh_tokens(emu) -> set[str]:
    return {token for token, issued in emu.emulator.tokens.refresh_tokens.items() if not issued.retired}


def assert_newest_stored_and_connected(connected, emu) -> None:
    realm_id, _ = connected.connection.current()
    with connected.engine.connect() as conn:
        stored = conn.execute(sa.select(QboConnection.refresh_token)).scalar()
    assert connected.cipher.decrypt(stored) in live_refresh_tokens(emu), "the newest refresh token is stored"
    assert connected.connection.status().state is ConnectionState.CONNECTED
    emu.expire_tokens()  # and it works: the next refresh succeeds
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")


@pytest.mark.parametrize("expired", ["at Intuit", "in the database"])
def test_twenty_threads_with_an_expired_access_token_refresh_once(connected, settings, engine, emu, expired):
    callers = [services_for(settings, engine) for _ in range(4)]  # several services, as in serve's threads
    if expired == "at Intuit":  # each call meets a 401 first
        emu.expire_tokens()
    else:  # each call sees the stored expiry has passed
        with engine.begin() as conn:
            past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            conn.execute(sa.update(QboConnection).values(access_expires_at=past))
    before = refreshes(emu)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def call(n: int) -> None:
        barrier.wait()
        try:
            callers[n % len(callers)].api.query("SELECT count(*) FROM Item")
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    done = refreshes(emu) - before
    assert done == 1, f"{done} refreshes"
    print(f"FIGURE refresh-threads: 20 concurrent calls, token expired {expired}, {done} refresh, 0 failed")
    assert_newest_stored_and_connected(connected, emu)


CALLS_IN_A_PROCESS = """
import sys, threading, time
from wiring.services import bootstrap
from services.quickbooks import RetryPolicy
from services.settings import load_settings
svc = bootstrap(load_settings(), retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
deadline, count = float(sys.argv[1]), int(sys.argv[2])
failed = []
def call():
    while time.time() < deadline:
        time.sleep(0.001)
    try:
        svc.api.query("SELECT count(*) FROM Item")  # 401: the access token was expired at Intuit
    except Exception as exc:
        failed.append(repr(exc))
threads = [threading.Thread(target=call) for _ in range(count)]
for t in threads: t.start()
for t in threads: t.join()
print(len(failed), failed[:1])
"""


def test_twenty_calls_in_three_processes_with_an_expired_access_token_refresh_once(connected, env, emu):
    emu.expire_tokens()
    before = refreshes(emu)
    start_at = str(time.time() + 3)  # every call at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CALLS_IN_A_PROCESS, start_at, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for count in (7, 7, 6)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    assert [out.split()[0] for out, _ in outputs] == ["0", "0", "0"], outputs
    done = refreshes(emu) - before
    assert done == 1, f"{done} refreshes"
    print(f"FIGURE refresh-processes: 20 calls in 3 processes, token expired, {done} refresh, 0 failed")
    assert_newest_stored_and_connected(connected, emu)
