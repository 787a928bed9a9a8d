"""Two real ``qbsync clock`` processes on one database and one Slack stand-in: one digest with its chart,
each ready load pushed once, and both stop cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from services.store.models import SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import wait_for

QBSYNC = str(Path(sys.executable).with_name("qbsync"))
CHANNEL = "C0DIGEST02"


def test_two_clocks_post_one_digest_and_push_each_load_once(env, slack, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("K-1"), a_load("K-2"), a_load("K-3", customer="C-200")])
    clock_env = {
        **os.environ,
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "QBSYNC_DIGEST_CHANNEL": CHANNEL,
        "QBSYNC_DIGEST_TIME": "00:00",  # due since midnight: posted at start (the catch-up run)
        "QBSYNC_TIMEZONE": "UTC",
        "QBSYNC_SYNC_EVERY": "30",
    }
    clocks = [
        subprocess.Popen([QBSYNC, "clock"], env=clock_env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    logs: list[list[str]] = [[], []]
    readers = [
        threading.Thread(target=lambda c=c, out=out: out.extend(c.stderr))
        for c, out in zip(clocks, logs, strict=True)
    ]
    for reader in readers:
        reader.start()
    try:
        wait_for(lambda: all(any("clock running" in line for line in out) for out in logs), 30, "both clocks")
        wait_for(
            lambda: [m for m in slack.messages(CHANNEL) if m.files], timeout=30, what="the digest's chart"
        )

        def attempts() -> int:
            with engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(SyncAttempt.__table__)).scalar()

        wait_for(lambda: attempts() >= 3, timeout=20, what="the automatic sync")
        time.sleep(1.0)  # room for a second post or a second push, were there one
    finally:
        for clock in clocks:
            clock.send_signal(signal.SIGTERM)
        for clock, reader in zip(clocks, readers, strict=True):
            clock.wait(timeout=30)
            reader.join(5)
    outputs = ["".join(out) for out in logs]
    assert [clock.returncode for clock in clocks] == [0, 0], outputs
    assert all("clock stopped" in out and "Traceback" not in out for out in outputs), outputs
    messages = [m for m in slack.messages(CHANNEL) if not m.deleted]
    assert len([m for m in messages if "Invoice sync digest" in m.text]) == 1
    assert len([m for m in messages if m.files]) == 1
    assert len(slack.calls("files.completeUploadExternal")) == 1
    assert attempts() == 3  # K-1, K-2, K-3 pushed once each, by one of the two clocks
    assert [r.state for r in connected.sync.sync_many(["K-1", "K-2", "K-3"], trigger="check")] == [
        "synced"
    ] * 3
