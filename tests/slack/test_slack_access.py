"""Uninstall and revoked tokens: the app records why and when (from Slack's events or from a Web API
call's error), the scheduler's digest jobs then make no Slack call and log once, QuickBooks syncs go on,
and a real ``qbsync clock`` restarted with a new token clears the record and posts again."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError

from bot.app import web_client
from bot.shape import problem
from emulator.slack.app_requests import app_uninstalled_body, tokens_revoked_body
from services.access.workspace import SlackAccessStore
from services.scheduler.jobs import CATCHUP_JOB, DIGEST_JOB, build_scheduler
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.slack.conftest import SECRET, wait_for
from wiring.slack import digest_channel

QBSYNC = str(Path(sys.executable).with_name("qbsync"))
DIGEST_CHANNEL = "C0DIGEST07"

# Slack's documented payloads, as on https://api.slack.com/events/app_uninstalled and
# https://api.slack.com/events/tokens_revoked (ids made well-formed)
SLACK_APP_UNINSTALLED = {
    "token": "XXYYZZ",
    "team_id": "T0001",
    "api_app_id": "A0APP0001",
    "event": {"type": "app_uninstalled"},
    "type": "event_callback",
    "event_id": "Ev0UNINST01",
    "event_time": 1234567890,
}
SLACK_TOKENS_REVOKED = {
    "token": "XXYYZZ",
    "team_id": "T0001",
    "api_app_id": "A0APP0001",
    "event": {"type": "tokens_revoked", "tokens": {"oauth": ["U0USER001"], "bot": ["U0BOT0001"]}},
    "type": "event_callback",
    "event_id": "Ev0REVOKE01",
    "event_time": 1234567890,
}


def digest_services(services):
    """The services with a digest channel, as ``qbsync clock`` would have them."""
    services.settings = services.settings.model_copy(
        update={"digest_channel": DIGEST_CHANNEL, "digest_time": "00:00", "timezone": "UTC"}
    )
    return services


def run_job(scheduler, job_id: str):
    job = scheduler.get_job(job_id)
    return job.func(*job.args, **job.kwargs)


def test_slacks_own_payloads_pass_the_shape_check():
    assert problem(SLACK_APP_UNINSTALLED) is None
    assert problem(SLACK_TOKENS_REVOKED) is None
    assert problem(json.loads(app_uninstalled_body())) is None
    assert problem(json.loads(tokens_revoked_body(["U0BOT0001"], ["U0USER001"]))) is None


def test_uninstall_stops_the_digest_jobs_and_quickbooks_goes_on(make_bot, connected, engine, slack, caplog):
    bot = make_bot(connected)
    qb_company(connected.api)
    tms(engine, [a_load("U-1")])
    access = SlackAccessStore(engine)
    assert access.state() is None

    assert slack.uninstall(f"{bot.url}/slack/events", SECRET) == [200, 200]
    lost = wait_for(access.state, what="the uninstall recorded")
    assert lost.reason in ("tokens_revoked", "app_uninstalled")

    services = digest_services(connected)
    client = web_client(services.settings.model_copy(update={"slack_bot_token": SecretStr(slack.bot_token)}))
    scheduler = build_scheduler(
        services, digest_channel=digest_channel(services, client), stop=threading.Event()
    )
    slack.clear()
    caplog.set_level(logging.INFO, logger="services.access.workspace")
    outcomes = [
        run_job(scheduler, CATCHUP_JOB),
        run_job(scheduler, DIGEST_JOB),
        run_job(scheduler, CATCHUP_JOB),
    ]
    assert all(outcome.startswith("skipped") for outcome in outcomes), outcomes
    assert slack.calls() == [], "no call to Slack with a dead token"
    skips = [r for r in caplog.records if "skipped, Slack no longer accepts the app" in r.getMessage()]
    assert len(skips) == 1, "one line a day"

    results = run_job(scheduler, "sync")
    assert qb_invoices(connected.api, "U-1"), f"QuickBooks syncs go on ({results})"
    assert slack.calls() == []


def test_a_refused_token_on_any_call_is_recorded(connected, engine, slack):
    access = SlackAccessStore(engine)
    settings = connected.settings.model_copy(
        update={"slack_bot_token": SecretStr(slack.bot_token), "slack_api_url": slack.api_url}
    )
    client = web_client(settings, access=access)
    client.auth_test()
    assert access.state() is None, "an accepted token records nothing"
    slack.uninstall()  # no event reaches the app: only the Web API says so
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=DIGEST_CHANNEL, text="hello")
    assert refused.value.response["error"] == "account_inactive"
    assert access.state().reason == "account_inactive"
    services = digest_services(connected)
    scheduler = build_scheduler(
        services, digest_channel=digest_channel(services, client), stop=threading.Event()
    )
    slack.clear()
    assert run_job(scheduler, CATCHUP_JOB).startswith("skipped")
    assert slack.calls() == []


def test_many_losses_at_once_record_one(engine):
    """Slack sends ``tokens_revoked`` and ``app_uninstalled`` together, and retries both: with no row yet,
    every writer finds none. One loss is recorded, each other writer is told it is not news, none fails
    (PostgreSQL refused all but the first insert of the row when each writer inserted it)."""
    access = SlackAccessStore(engine)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def lose(reason: str) -> None:
        barrier.wait()
        try:
            results.append(access.lost(reason, "xoxb-old"))
        except Exception as exc:  # noqa: BLE001 - the test reports every failure
            results.append(exc)

    threads = [
        threading.Thread(target=lose, args=(("tokens_revoked", "app_uninstalled")[i % 2],)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(repr, results)) == sorted(["True"] + ["False"] * 7)
    assert access.state().reason in {"tokens_revoked", "app_uninstalled"}

    skips: list[object] = []
    barrier = threading.Barrier(4)

    def skip() -> None:
        barrier.wait()
        skips.append(access.skip("digest", "xoxb-old"))

    threads = [threading.Thread(target=skip) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert skips == [True] * 4


def test_a_clock_restarted_with_a_new_token_resumes(env, slack, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("W-1")])
    access = SlackAccessStore(engine)
    old = slack.bot_token
    slack.uninstall()
    access.lost("app_uninstalled", old)
    clock_env = {
        **os.environ,
        **env,
        "SLACK_API_URL": slack.api_url,
        "QBSYNC_DIGEST_CHANNEL": DIGEST_CHANNEL,
        "QBSYNC_DIGEST_TIME": "00:00",
        "QBSYNC_TIMEZONE": "UTC",
        "QBSYNC_SYNC_EVERY": "30",
    }
    refused = subprocess.run(
        [QBSYNC, "clock"],
        env={**clock_env, "SLACK_BOT_TOKEN": old},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "account_inactive" in refused.stderr, refused.stderr
    assert access.state() is not None, "a refused token clears nothing"

    slack.reinstall("xoxb-reinstalled")
    clock = subprocess.Popen(
        [QBSYNC, "clock"],
        env={**clock_env, "SLACK_BOT_TOKEN": "xoxb-reinstalled", "QBSYNC_LOG_LEVEL": "INFO"},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(clock.stderr))
    reader.start()
    try:
        wait_for(
            lambda: [m for m in slack.messages(DIGEST_CHANNEL) if "Invoice sync digest" in m.text],
            timeout=60,
            what="the digest posted after the restart",
        )
        assert access.state() is None
    finally:
        clock.send_signal(signal.SIGTERM)
        clock.wait(timeout=60)
        reader.join(10)
    out = "".join(lines)
    assert clock.returncode == 0, out
    assert "Slack accepts the app's token again" in out and "Traceback" not in out, out
