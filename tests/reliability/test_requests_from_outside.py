"""Requests that do not come from Slack or the TMS, over real HTTP: forged, stale, replayed with a new
timestamp but the old signature, signed for another body, unsigned; oversized bodies with and without
a Content-Length. Each is refused (401, 413) and nothing runs: no QuickBooks call, no Slack answer,
no row written."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr

from emulator.slack import (
    block_actions_body,
    event_callback_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from services.store.models import FixAudit, Load
from services.tms import events as tms_events
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.slack.conftest import CHANNEL, CLERK, SECRET, TEAM

pytestmark = pytest.mark.reliability

TMS_SECRET = "tms-webhook-secret-outside"


def slack_bodies(bot) -> dict[str, str]:
    """One of each kind Slack sends, each of which would do something if it were accepted."""
    url = bot.slack.new_response_url(CHANNEL, CLERK)
    return {
        "command": slash_command_body(
            "/qbsync", "retry X-1", user_id=CLERK, channel_id=CHANNEL, team_id=TEAM, response_url=url
        ),
        "click": block_actions_body(
            "fix.retry", "X-1", user_id=CLERK, team_id=TEAM, channel_id=CHANNEL, response_url=url
        ),
        "submission": view_submission_body(
            {
                "type": "modal",
                "callback_id": "qbsync.choice",
                "private_metadata": json.dumps({"load": "X-1", "fix": "dismiss", "url": url}),
            },
            {"dismiss": {"reason": {"type": "plain_text_input", "value": "forged"}}},
            user_id=CLERK,
            team_id=TEAM,
        ),
        "event": event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}),
    }


def forgeries(body: str) -> dict[str, dict[str, str]]:
    now = int(time.time())
    good = signed_headers(SECRET, body)
    replayed = {**good, "X-Slack-Request-Timestamp": str(now + 2)}  # the old signature, a new time
    other = signed_headers(SECRET, body + "&x=1")  # a real signature, of another body
    return {
        "unsigned": {"Content-Type": good["Content-Type"]},
        "no timestamp": {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
        "wrong secret": signed_headers("not-the-signing-secret", body),
        "stale 301 s": signed_headers(SECRET, body, timestamp=now - 301),
        "stale 1 h": signed_headers(SECRET, body, timestamp=now - 3600),
        "from the future": signed_headers(SECRET, body, timestamp=now + 600),
        "replayed": replayed,
        "another body": {**good, "X-Slack-Signature": other["X-Slack-Signature"]},
        "v1 scheme": {**good, "X-Slack-Signature": good["X-Slack-Signature"].replace("v0=", "v1=")},
        "garbage": {**good, "X-Slack-Signature": "v0=" + "0" * 64},
    }


def nothing_ran(bot, engine) -> None:
    time.sleep(0.3)  # anything accepted would have started by now
    assert bot.slack.calls() == [], [c.method for c in bot.slack.calls()]
    assert qb_invoices(bot.services.api) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(FixAudit.__table__)).scalar() == 0
        dismissed = conn.execute(sa.select(Load.dismissed_at).where(Load.load_number == "X-1")).scalar()
    assert dismissed is None


def test_forged_stale_replayed_and_unsigned_slack_requests_run_nothing(bot, engine):
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    bot.slack.clear()
    refused = total = 0
    for kind, body in slack_bodies(bot).items():
        for what, headers in forgeries(body).items():
            answer = requests.post(f"{bot.url}/slack/events", data=body.encode(), headers=headers, timeout=5)
            total += 1
            assert answer.status_code == 401, (kind, what, answer.status_code)
            assert "Traceback" not in answer.text
            refused += 1
    nothing_ran(bot, engine)
    print(f"FIGURE forged-requests: {total - refused} of {total} forged Slack requests ran (401 for all)")


def test_bad_tms_signatures_and_oversized_bodies_write_nothing(make_web, connected, engine):
    web = make_web(tms_webhook_secret=SecretStr(TMS_SECRET))
    raw = json.dumps({"loads": [a_load("X-1")], "customers": [], "charge_codes": []}).encode()
    now = int(time.time())
    good = tms_events.signature(TMS_SECRET, now, raw)
    bad = {
        "missing": None,
        "empty": "",
        "wrong secret": tms_events.signature("another-secret", now, raw),
        "another body": tms_events.signature(TMS_SECRET, now, raw + b" "),
        "another time": tms_events.signature(TMS_SECRET, now - 1, raw),
        "no scheme": good.split("=", 1)[1],
        "sha1 scheme": good.replace("v1=", "sha1="),
        "v0 scheme": good.replace("v1=", "v0="),
        "body-only sha256": "sha256=" + hmac.new(TMS_SECRET.encode(), raw, hashlib.sha256).hexdigest(),
        "truncated": good[:-2],
        "upper case scheme": good.replace("v1=", "V1=") + "0",
    }
    for what, sig in bad.items():
        headers = {"Content-Type": "application/json", "X-Qbsync-Timestamp": str(now)}
        if sig is not None:
            headers["X-Qbsync-Signature"] = sig
        answer = requests.post(f"{web.url}/tms/events", data=raw, headers=headers, timeout=5)
        assert answer.status_code == 401, (what, answer.status_code, answer.text)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Load.__table__)).scalar() == 0
    print(f"FIGURE tms-signatures: 0 of {len(bad)} badly signed TMS events written (401 for all)")


def test_oversized_bodies_are_refused_with_413_with_or_without_a_length(make_web, connected, engine, slack):
    web = make_web(tms_webhook_secret=SecretStr(TMS_SECRET))
    slack.clear()  # the app's auth.test at start
    big_slack = b"payload=" + b"x" * (2 * 1024 * 1024)
    big_tms = json.dumps({"loads": [a_load(f"B-{i}") for i in range(30000)]}).encode()
    assert len(big_tms) > 5 * 1024 * 1024

    def chunks(data: bytes):
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    tms_headers = tms_events.signed_headers(TMS_SECRET, big_tms)
    slack_headers = signed_headers(SECRET, big_slack.decode())
    cases = {
        "slack, with length": (f"{web.url}/slack/events", big_slack, slack_headers),
        "slack, chunked": (f"{web.url}/slack/events", chunks(big_slack), slack_headers),
        "tms, with length": (f"{web.url}/tms/events", big_tms, tms_headers),
        "tms, chunked": (f"{web.url}/tms/events", chunks(big_tms), tms_headers),
    }
    for what, (url, data, headers) in cases.items():
        try:
            answer = requests.post(url, data=data, headers=headers, timeout=20)
        except requests.ConnectionError:  # the server may close before reading it all: refused too
            continue
        assert answer.status_code == 413, (what, answer.status_code, answer.text[:200])
    time.sleep(0.3)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Load.__table__)).scalar() == 0
    assert slack.calls() == []
    print(f"FIGURE oversized-bodies: 0 of {len(cases)} oversized bodies (Slack > 1 MB, TMS > 5 MB) accepted")


GARBLED = [
    ("payload=x", "form"),
    ("payload=", "form"),
    ("payload=%5B1%5D", "form"),
    ("payload=null", "form"),
    ("payload=%22text%22", "form"),
    ('{"type":', "json"),
    ("[1, 2]", "json"),
    ("null", "json"),
    ("\xff\xfe", "json"),
]


def test_garbled_bodies_are_refused_plainly_never_a_500(bot, engine):
    """Bolt parses a body before it checks its signature; a body it cannot parse was a 500."""
    tms(engine, [a_load("X-1")])
    bot.slack.clear()
    statuses = []
    for body, kind in GARBLED:
        content_type = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
        for headers in ({"Content-Type": content_type}, signed_headers(SECRET, body)):
            headers = {**headers, "Content-Type": content_type}
            answer = requests.post(f"{bot.url}/slack/events", data=body.encode(), headers=headers, timeout=5)
            statuses.append(answer.status_code)
            assert answer.status_code in (400, 401), (body, answer.status_code, answer.text)
            assert "Traceback" not in answer.text
    nothing_ran(bot, engine)
    print(
        f"FIGURE garbled-requests: {statuses.count(500)} of {len(statuses)} garbled Slack bodies made a 500"
    )
