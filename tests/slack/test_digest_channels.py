"""The daily digest against channels as a real workspace has them (the Slack stand-in's membership and
scope rules): a public channel the app is not in is joined; a private one it was not invited to, an
archived one or a refused token stop the day's digest once — one log line saying what to do, no further
reconcile against QuickBooks that day — and /qbsync status and the App Home say what to do; a chart Slack
refuses leaves a posted digest."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apscheduler.util import ref_to_obj
from slack_sdk import WebClient

from bot.views.home import home_view
from bot.views.status import status_message
from emulator.slack import event_callback_body, post_to_app
from services.diagnosis.dashboard import build_dashboard
from services.digest import posts as digest_posts
from services.scheduler.jobs import DIGEST_FUNC
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CLERK, SECRET, text_of, wait_for, words_in
from wiring.slack import digest_poster

PUBLIC = "C0PUBDIG01"
PRIVATE = "G0PRIVDIG1"
ARCHIVED = "C0ARCDIG01"
QBSYNC = str(Path(sys.executable).with_name("qbsync"))
digest_job = ref_to_obj(DIGEST_FUNC)  # what the scheduler's daily and catch-up jobs run


@pytest.fixture
def workspace(slack):
    slack.set_scopes(None)
    slack.add_channel(PUBLIC, name="billing", members=["U0CLERK01"])
    slack.add_channel(PRIVATE, name="finance", private=True, members=["U0CLERK01"])
    slack.add_channel(ARCHIVED, name="old-billing", archived=True)
    yield slack
    slack.set_scopes(None)
    for channel in (PUBLIC, PRIVATE, ARCHIVED):
        slack.remove_channel(channel)


def poster_for(services, slack, channel: str, *, token: str | None = None):
    client = WebClient(token=token or slack.bot_token, base_url=slack.api_url)
    return digest_poster(services, client, channel=channel, tz="UTC", at=dt.time(0, 0))


def digests(slack, channel: str) -> list:
    return [m for m in slack.messages(channel) if "Invoice sync digest" in m.text]


def charts(slack, channel: str) -> list:
    return [m for m in slack.messages(channel) if m.files]


def with_problems(connected, engine) -> None:
    qb_company(connected.api)
    codes = [
        {"code": c, "name": n}
        for c, n in (("BASE", "Base Price"), ("FSC", "Fuel Surcharge"), ("DET", "Detention"))
    ]
    tms(engine, [a_load("P-1"), a_load("P-2", charges=[("DET", "75.00")])], charge_codes=codes)
    connected.sync.sync_many(None, trigger="test")  # P-1 synced (a reconcile reads it back), P-2 not


def invite_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "invite @qbsync" in r.getMessage()]


def test_a_public_channel_the_app_is_not_in_is_joined_and_gets_the_digest_with_its_chart(
    connected, workspace, engine
):
    outcome = digest_job(poster_for(connected, workspace, PUBLIC))
    assert "joined #billing" in outcome and "posted" in outcome and "chart uploaded" in outcome
    assert [c.args["channel"] for c in workspace.calls("conversations.join")] == [PUBLIC]
    assert len(digests(workspace, PUBLIC)) == 1 and len(charts(workspace, PUBLIC)) == 1
    state = digest_posts.channel_state(engine, PUBLIC)
    assert (state.name, state.problem) == ("billing", None)
    [row] = digest_posts.posted(engine, PUBLIC)
    assert row["chart_file_id"] and row["chart_error"] is None and row["stopped"] is None


def test_a_private_channel_not_invited_stops_the_day_once_without_reconciling_again(
    connected, workspace, engine, emu, caplog
):
    with_problems(connected, engine)
    poster = poster_for(connected, workspace, PRIVATE)
    before = emu.stats()["total_requests"]
    with caplog.at_level(logging.INFO):
        outcomes = [digest_job(poster) for _ in range(4)]  # the daily run, then three catch-ups
    assert "stopped (channel_not_found)" in outcomes[0]
    assert all("stopped today (channel_not_found)" in o for o in outcomes[1:]), outcomes
    assert emu.stats()["total_requests"] == before  # no reconcile against QuickBooks at all
    assert workspace.messages(PRIVATE) == [] and not workspace.calls("chat.postMessage")
    assert len(workspace.calls("conversations.info")) == 1  # the catch-ups do not even ask Slack
    [line] = invite_lines(caplog)
    assert f"invite @qbsync to channel {PRIVATE}" in line
    [row] = digest_posts.posted(engine, PRIVATE)
    assert row["stopped"] == "channel_not_found" and row["ts"] is None

    dashboard = build_dashboard(engine, connected.connection.status())
    assert f"invite @qbsync to <#{PRIVATE}>" in words_in(status_message(dashboard.status)["blocks"])
    assert f"invite @qbsync to <#{PRIVATE}>" in words_in(
        home_view(dashboard.status, dashboard=dashboard)["blocks"]
    )

    # someone invites the app: the next day's digest goes out, and the notice is gone
    workspace.invite(PRIVATE)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    poster.now = lambda: tomorrow
    assert "posted" in digest_job(poster)
    assert len(digests(workspace, PRIVATE)) == 1 and len(charts(workspace, PRIVATE)) == 1
    state = digest_posts.channel_state(engine, PRIVATE)
    assert (state.name, state.problem) == ("finance", None)
    assert build_dashboard(engine, connected.connection.status()).status.digest_channel.problem is None


def test_status_and_the_app_home_say_to_invite_the_app(make_bot, connected, workspace, engine):
    digest_job(poster_for(connected, workspace, PRIVATE))
    bot = make_bot(connected)
    status, _ = bot.command("status")
    assert status == 200
    answer = wait_for(lambda: bot.last_message(lambda m: "qbsync status" in text_of(m)))
    assert f"invite @qbsync to <#{PRIVATE}>" in text_of(answer)
    body = event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}, event_id="EvDC1")
    assert post_to_app(f"{bot.url}/slack/events", body, SECRET)[0] == 200
    home = wait_for(lambda: workspace.home(CLERK))
    assert f"invite @qbsync to <#{PRIVATE}>" in words_in(home["blocks"])


def test_an_archived_channel_stops_the_day_and_says_so(connected, workspace, engine, caplog):
    with caplog.at_level(logging.WARNING):
        outcomes = [digest_job(poster_for(connected, workspace, ARCHIVED)) for _ in range(3)]
    assert "stopped (is_archived)" in outcomes[0] and "stopped today" in outcomes[2]
    lines = [r.getMessage() for r in caplog.records if "archived" in r.getMessage()]
    assert len(lines) == 1 and "#old-billing is archived: unarchive it" in lines[0]
    assert workspace.messages(ARCHIVED) == []


def test_a_refused_chart_leaves_a_posted_digest_and_a_note(connected, workspace, engine, caplog):
    workspace.set_scopes(workspace.scopes - {"channels:join"})  # the message goes by chat:write.public
    with caplog.at_level(logging.WARNING):
        outcome = digest_job(poster_for(connected, workspace, PUBLIC))
    assert "posted" in outcome and "the chart was not attached (Slack answered not_in_channel)" in outcome
    assert len(digests(workspace, PUBLIC)) == 1 and charts(workspace, PUBLIC) == []
    [row] = digest_posts.posted(engine, PUBLIC)
    assert row["finished_at"] is not None and row["chart_error"] == "not_in_channel" and row["ts"]
    assert "already posted" in digest_job(poster_for(connected, workspace, PUBLIC))
    assert len(digests(workspace, PUBLIC)) == 1
    state = digest_posts.channel_state(engine, PUBLIC)
    assert (state.problem, state.needed) == ("missing_scope", "channels:join")
    notice = " ".join(r.getMessage() for r in caplog.records)
    assert "add the channels:join scope" in notice and "or invite @qbsync to #billing" in notice


def test_a_refused_post_reconciles_once_however_many_catch_ups_follow(connected, workspace, engine, emu):
    with_problems(connected, engine)
    workspace.set_scopes(workspace.scopes - {"channels:join", "chat:write.public"})
    poster = poster_for(connected, workspace, PUBLIC)
    assert "stopped (not_in_channel)" in digest_job(poster)  # composed (one reconcile), then refused
    after_first = emu.stats()["total_requests"]
    for _ in range(3):
        assert "stopped today" in digest_job(poster)
    assert emu.stats()["total_requests"] == after_first
    assert len(workspace.calls("chat.postMessage")) == 1


def test_a_revoked_token_stops_the_day_once(connected, workspace, engine, caplog):
    poster = poster_for(connected, workspace, PUBLIC, token="xoxb-revoked")
    with caplog.at_level(logging.WARNING):
        outcomes = [digest_job(poster) for _ in range(3)]
    assert "stopped (invalid_auth)" in outcomes[0] and "stopped today (invalid_auth)" in outcomes[2]
    lines = [r.getMessage() for r in caplog.records if "reinstall the app" in r.getMessage()]
    assert len(lines) == 1


def digest_post(env, slack, channel: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "QBSYNC_DIGEST_CHANNEL": channel,
    }
    return subprocess.run(
        [QBSYNC, "digest", "--post"], env=environment, capture_output=True, text=True, timeout=60
    )


def test_digest_post_exits_0_when_only_the_chart_was_refused(env, connected, workspace):
    workspace.set_scopes(workspace.scopes - {"channels:join"})
    answer = digest_post(env, workspace, PUBLIC)
    assert answer.returncode == 0, answer.stderr
    assert "Posted the digest" in answer.stdout and "ts " not in answer.stdout
    assert "the chart was not attached (Slack answered not_in_channel)" in answer.stdout
    assert len(digests(workspace, PUBLIC)) == 1 and "Traceback" not in answer.stderr


def test_digest_post_to_a_private_channel_not_invited_says_to_invite_the_app(env, connected, workspace):
    answer = digest_post(env, workspace, PRIVATE)
    assert answer.returncode == 1
    assert f"invite @qbsync to channel {PRIVATE}" in answer.stderr and "Traceback" not in answer.stderr
    assert workspace.messages(PRIVATE) == []
