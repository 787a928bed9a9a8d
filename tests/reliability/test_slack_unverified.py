"""Slack requests an attacker can send to ``/slack/events`` of the served app, over real HTTP, with a
local listener standing for the attacker's own server (``response_url`` pointing at it):

- unverifiable requests (timestamps that are not an integer, empty, a float, negative, far off or huge;
  signatures missing, of another version, not hex, duplicated; bodies of no format; a large body)
  are answered 401 before anything runs: no call to the listener, none to the Slack stand-in;
- signed requests whose ``response_url`` is not Slack's are refused, and nothing is sent there;
- the actor is the verified ``user.id`` of a click, whatever else the payload says;
- signed payloads of the wrong shape are answered 400 with one warning line, never a 500 or a traceback.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from emulator.slack import (
    block_actions_body,
    event_callback_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from services.store.models import ConnectionState, FixAudit
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import ADMIN, CHANNEL, CLERK, OUTSIDER, SECRET, TEAM, wait_for

pytestmark = pytest.mark.reliability


class Listener:
    """The attacker's server: counts every request that reaches it, whatever its method or path."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/admin"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    with Listener() as running:
        yield running


def post(url: str, body: bytes, headers: list[tuple[str, str | bytes]]) -> tuple[int, str]:
    """POST with exactly these header lines (a header may repeat; a value may be raw bytes)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", parts.path)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body)
        answer = conn.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


def content_type(body: str) -> str:
    return "application/json" if body.lstrip().startswith("{") else "application/x-www-form-urlencoded"


def kinds(bot, target: str) -> dict[str, str]:
    """One body of each kind, every response URL in it pointing at ``target``."""
    return {
        "slash command": slash_command_body(
            "/qbsync", "status", user_id=CLERK, channel_id=CHANNEL, team_id=TEAM, response_url=target
        ),
        "button": block_actions_body(
            "fix.retry", "X-1", user_id=CLERK, team_id=TEAM, channel_id=CHANNEL, response_url=target
        ),
        "view submission": view_submission_body(
            {
                "type": "modal",
                "callback_id": "qbsync.choice",
                "private_metadata": json.dumps({"load": "X-1", "fix": "dismiss", "url": target}),
            },
            {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": "forged"}}},
            user_id=CLERK,
            team_id=TEAM,
            response_urls=[
                {"block_id": "b", "action_id": "a", "channel_id": CHANNEL, "response_url": target}
            ],
        ),
        "event": event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}),
    }


def unverifiable(body: str) -> dict[str, tuple[bytes, list[tuple[str, str | bytes]]]]:
    """(raw body, header lines) of requests whose signature or timestamp cannot be verified."""
    now = int(time.time())
    raw = body.encode()
    kind = ("Content-Type", content_type(body))

    def signed(ts: str, data: bytes = raw, secret: str = SECRET) -> list[tuple[str, str | bytes]]:
        sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=data) or ""
        return [kind, ("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", sig)]

    forged = ("X-Slack-Signature", "v0=forged")
    good = signed(str(now))
    huge = raw + b"&pad=" + b"x" * (1024 * 1024 - len(raw) - 200)  # just under the 1 MB limit
    return {
        "timestamp 'now'": (raw, [kind, ("X-Slack-Request-Timestamp", "now"), forged]),
        "timestamp empty": (raw, [kind, ("X-Slack-Request-Timestamp", ""), forged]),
        "timestamp a float": (raw, [kind, ("X-Slack-Request-Timestamp", f"{now}.5"), forged]),
        "timestamp negative": (raw, [kind, ("X-Slack-Request-Timestamp", "-5"), forged]),
        "timestamp far future": (raw, signed(str(now + 10**9))),
        "timestamp 5000 digits": (raw, [kind, ("X-Slack-Request-Timestamp", "9" * 5000), forged]),
        "timestamp with underscores": (raw, [kind, ("X-Slack-Request-Timestamp", f"{now:_}"), forged]),
        "timestamp non-ASCII digits": (raw, [kind, ("X-Slack-Request-Timestamp", "١٧".encode()), forged]),
        "stale by 301 s": (raw, signed(str(now - 301))),
        "no timestamp": (raw, [h for h in good if h[0] != "X-Slack-Request-Timestamp"]),
        "no signature": (raw, [h for h in good if h[0] != "X-Slack-Signature"]),
        "no headers at all": (raw, [kind]),
        "wrong version prefix": (
            raw,
            [(k, v.replace("v0=", "v1=") if k == "X-Slack-Signature" else v) for k, v in good],
        ),
        "signature not hex": (raw, [kind, good[1], ("X-Slack-Signature", "v0=" + "zz" * 32)]),
        "signature non-ASCII": (raw, [kind, good[1], ("X-Slack-Signature", ("v0=" + "é" * 32).encode())]),
        "wrong secret": (raw, signed(str(now), secret="not-the-signing-secret")),
        "signature of another body": (raw, [kind, good[1], signed(str(now), raw + b"&x=1")[2]]),
        "timestamp duplicated": (raw, [*good, good[1]]),
        "signature duplicated": (raw, [*good, good[2]]),
        "timestamp 'now', duplicated": (
            raw,
            [kind, ("X-Slack-Request-Timestamp", "now"), ("X-Slack-Request-Timestamp", "now"), forged],
        ),
        "body neither form nor JSON": (
            b"\x00\xff\xfe<xml/>",
            [kind, ("X-Slack-Request-Timestamp", "now"), forged],
        ),
        "body of another format, signed by no one": (b"\x00\xff\xfe<xml/>", [kind, good[1], forged]),
        "large body": (huge, [kind, ("X-Slack-Request-Timestamp", "now"), forged]),
    }


def audit_rows(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(FixAudit.actor, FixAudit.outcome))]


def test_unverifiable_requests_are_401_and_send_nothing_anywhere(bot, engine, listener):
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    bot.slack.clear()
    answered = total = 0
    for kind, body in kinds(bot, listener.url).items():
        for what, (raw, headers) in unverifiable(body).items():
            status, text = post(f"{bot.url}/slack/events", raw, headers)
            total += 1
            assert status == 401, (kind, what, status, text[:200])
            assert "Traceback" not in text
            answered += 1
    time.sleep(0.5)  # anything accepted would have called out by now
    assert listener.hits == [], listener.hits[:5]
    assert bot.slack.calls() == [], [c.method for c in bot.slack.calls()][:5]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(FixAudit.__table__)).scalar() == 0
    print(
        f"FIGURE unverified requests: {answered} of {total} answered 401, {len(listener.hits)} outbound calls"
    )


def test_signed_requests_with_a_response_url_that_is_not_slacks_send_nothing_there(bot, engine, listener):
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    bot.slack.clear()
    port = urlsplit(listener.url).port
    foreign = [
        listener.url,
        f"http://hooks.slack.com@127.0.0.1:{port}/commands/T0001/1/x",
        f"http://127.0.0.1:{port}/response/x",
        "https://hooks.slack.com.attacker.example/commands/x",
        "ftp://hooks.slack.com/commands/x",
    ]
    statuses = []
    for url in foreign:
        for kind, body in kinds(bot, url).items():
            if kind == "event":
                continue
            status, text = post(
                f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items())
            )
            statuses.append(status)
            assert status == 400, (kind, url, status, text[:200])
    time.sleep(0.5)
    assert listener.hits == [], listener.hits[:5]
    assert bot.slack.calls("response_url") == []
    print(
        f"FIGURE foreign response URLs: {statuses.count(400)} of {len(statuses)} signed bodies refused, "
        f"{len(listener.hits)} calls to them"
    )


def test_an_answer_kept_in_a_modal_goes_nowhere_but_slack(bot, engine, listener):
    """A modal carries the response URL of the message it came from (``private_metadata``): only a
    Slack URL is ever used, even when the submission is signed."""
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    view = {
        "type": "modal",
        "callback_id": "qbsync.choice",
        "private_metadata": json.dumps({"load": "X-1", "fix": "dismiss", "url": listener.url}),
    }
    body = view_submission_body(
        view,
        {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": "duplicate"}}},
        user_id=CLERK,
        team_id=TEAM,
    )
    status, _ = post(f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items()))
    assert status == 200
    wait_for(lambda: audit_rows(engine))
    time.sleep(0.5)
    assert listener.hits == []


def test_the_actor_of_a_click_is_its_verified_user_not_a_top_level_user_id(make_bot, connected, engine):
    bot = make_bot(connected, admins=(ADMIN,))
    click = block_actions_body(
        "qbsync.disconnect",
        "disconnect",
        user_id=OUTSIDER,
        team_id=TEAM,
        channel_id=CHANNEL,
        response_url=bot.slack.new_response_url(CHANNEL, OUTSIDER),
        trigger_id=bot.slack.new_trigger_id(OUTSIDER),
    )
    payload = json.loads(dict(parse_qsl(click))["payload"])
    payload["user_id"] = ADMIN  # not where Slack puts the clicking person
    payload["team_id"] = "T0OTHER01"
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = post(f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items()))
    assert status == 200
    rows = wait_for(lambda: audit_rows(engine))
    assert rows == [(f"slack:{TEAM}:{OUTSIDER}", "refused")]
    assert connected.connection.status().state is not ConnectionState.DISCONNECTED
    refusal = wait_for(lambda: bot.slack.calls("response_url"))
    assert "administrators" in json.dumps(refusal[-1].args)


def test_an_app_home_event_whose_user_is_an_object_is_400_and_publishes_nothing(bot, qbsync_logs):
    bot.slack.clear()
    qbsync_logs.clear()
    body = event_callback_body({"type": "app_home_opened", "user": {"id": CLERK}, "tab": "home"})
    status, _ = post(f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items()))
    assert status == 400
    time.sleep(0.5)
    assert bot.slack.calls("views.publish") == []
    lines = [r for r in qbsync_logs.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]


def test_which_response_urls_are_slacks():
    from bot.response_urls import response_url_allowed, slack_response_url

    stand_in = "http://127.0.0.1:5111/api/"
    assert slack_response_url("https://hooks.slack.com/commands/T1/2/x", "https://slack.com/api/")
    assert slack_response_url("https://hooks.slack.com/actions/T1/2/x", stand_in)
    assert slack_response_url("http://127.0.0.1:5111/response/abc", stand_in)
    for url in [
        "http://hooks.slack.com/commands/T1/2/x",
        "https://hooks.slack.com:8443/commands/x",
        "https://hooks.slack.com.attacker.example/x",
        "https://attacker.example/hooks.slack.com/x",
        "https://hooks.slack.com@attacker.example/x",
        "https://user@hooks.slack.com/x",
        "http://127.0.0.1:5112/response/abc",
        "https://127.0.0.1:5111/response/abc",
        "http://127.0.0.1:5111/response/abc",  # the stand-in's origin counts only while it is the API
        "javascript:alert(1)",
        "",
    ]:
        api = stand_in if "5111" not in url else "https://slack.com/api/"
        assert not slack_response_url(url, api), url
    assert not response_url_allowed("http://127.0.0.1:1/internal/admin")


# -- a corpus of signed payloads of the wrong shape ------------------------------------------------------

WRONG = [None, 5, 1.5, True, "x", [], ["U0CLERK01"], {}, {"id": 5}]
BAD_IDS = ["", "u0clerk01", "U0CLERK01; DROP", "<@U0CLERK01>", "U" * 40, "Ü0CLERK01", "U0 CLERK"]


def base_click() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": CLERK, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "t"},
        "api_app_id": "A0APP0001",
        "trigger_id": "12.34.abcdef",
        "actions": [{"type": "button", "action_id": "fix.retry", "block_id": "more", "value": "X-1"}],
        "container": {"type": "message", "message_ts": "1.0", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "c"},
        "message": {"type": "message", "ts": "1.0", "blocks": []},
        "state": {"values": {}},
        "response_url": "",
    }


def base_submission() -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": CLERK, "team_id": TEAM},
        "team": {"id": TEAM},
        "api_app_id": "A0APP0001",
        "trigger_id": "12.34.abcdef",
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": "qbsync.choice",
            "private_metadata": json.dumps({"load": "X-1", "fix": "dismiss"}),
            "state": {"values": {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": "dup"}}}},
        },
        "response_urls": [],
    }


def base_event(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(event_callback_body(event))


def mutated(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` set to ``value`` (removed when value is ``...``)."""
    copy = json.loads(json.dumps(base))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return copy


def malformed_corpus(listener_url: str) -> list[tuple[str, str]]:
    """(what, body) of signed payloads that no listener can read as Slack sends them."""
    out: list[tuple[str, str]] = []

    def payload(what: str, data: dict[str, Any]) -> None:
        out.append((what, urlencode({"payload": json.dumps(data)})))

    def event(what: str, data: dict[str, Any]) -> None:
        out.append((what, json.dumps(data)))

    slash = dict(
        parse_qsl(slash_command_body("/qbsync", "status", user_id=CLERK, channel_id=CHANNEL, team_id=TEAM))
    )
    for field in ("user_id", "team_id", "channel_id"):
        for bad in BAD_IDS:
            out.append((f"slash {field}={bad!r}", urlencode({**slash, field: bad})))
        out.append((f"slash without {field}", urlencode({k: v for k, v in slash.items() if k != field})))
    for field in ("command", "trigger_id"):
        out.append((f"slash without {field}", urlencode({k: v for k, v in slash.items() if k != field})))
    for url in ("ftp://hooks.slack.com/x", "not a url", listener_url):
        out.append((f"slash response_url={url!r}", urlencode({**slash, "response_url": url})))

    click = base_click()
    for path in [("user",), ("team",), ("channel",), ("container",), ("message",), ("view",), ("state",)]:
        for bad in WRONG:
            if path == ("team",) and bad is None:
                continue  # an org-wide install sends no team
            if path in [("channel",), ("container",), ("message",), ("view",), ("state",)] and bad in (
                None,
                {},
            ):
                continue  # absent (the App Home) or empty is how Slack may send them
            if path in [("container",), ("message",), ("state",)] and bad == {"id": 5}:
                continue  # a key nothing reads
            payload(f"click {path}={bad!r}", mutated(click, path, bad))
    for bad in BAD_IDS:
        payload(f"click user.id={bad!r}", mutated(click, ("user", "id"), bad))
        payload(f"click channel.id={bad!r}", mutated(click, ("channel", "id"), bad))
    for bad in [..., None, 5, "", [], {}]:
        payload(f"click trigger_id={bad!r}", mutated(click, ("trigger_id",), bad))
    for bad in [..., None, "x", {}, [], [1], [None], [{}], [{"action_id": 5}], [{"action_id": "fix.nope!"}]]:
        payload(f"click actions={bad!r}", mutated(click, ("actions",), bad))
    for field, bad in [
        ("value", 5),
        ("value", ["X-1"]),
        ("value", {"v": 1}),
        ("block_id", 5),
        ("action_id", None),
    ]:
        payload(f"click action {field}={bad!r}", mutated(click, ("actions", 0, field), bad))
    for bad in [5, [], {}, "ftp://x", listener_url]:
        payload(f"click response_url={bad!r}", mutated(click, ("response_url",), bad))
    for bad in [5, "x", [5], [None]]:
        payload(f"click authorizations={bad!r}", mutated(click, ("authorizations",), bad))
    payload("click container.channel_id=5", mutated(click, ("container", "channel_id"), 5))
    payload("click enterprise=5", mutated(click, ("enterprise",), 5))

    sub = base_submission()
    for bad in [..., None, 5, "x", [], {}, {"type": 5}, {"type": "modal"}]:
        payload(f"submission view={bad!r}", mutated(sub, ("view",), bad))
    for bad in [
        5,
        "x",
        [],
        {"values": "x"},
        {"values": []},
        {"values": {"b": "x"}},
        {"values": {"b": {"a": "x"}}},
        {"values": {"b": {"a": {"value": 5}}}},
        {"values": {"b": {"a": {"selected_option": "x"}}}},
        {"values": {"b": {"a": {"selected_option": {"value": 5}}}}},
    ]:
        payload(f"submission view.state={bad!r}", mutated(sub, ("view", "state"), bad))
    for field, bad in [
        ("private_metadata", 5),
        ("private_metadata", {}),
        ("callback_id", 5),
        ("callback_id", None),
        ("callback_id", "other.view"),
        ("id", 5),
        ("app_installed_team_id", 5),
        ("team_id", []),
    ]:
        payload(f"submission view.{field}={bad!r}", mutated(sub, ("view", field), bad))
    for path in [("user",), ("team",)]:
        for bad in WRONG:
            if path == ("team",) and bad is None:
                continue
            payload(f"submission {path}={bad!r}", mutated(sub, path, bad))
    for bad in [..., None, 5, ""]:
        payload(f"submission trigger_id={bad!r}", mutated(sub, ("trigger_id",), bad))
    for bad in ["x", 5, [5], [{"response_url": 5}], [{"response_url": listener_url}]]:
        payload(f"submission response_urls={bad!r}", mutated(sub, ("response_urls",), bad))

    home = base_event({"type": "app_home_opened", "user": CLERK, "tab": "home"})
    for bad in [*WRONG, *BAD_IDS, ...]:
        event(f"home event.user={bad!r}", mutated(home, ("event", "user"), bad))
    for bad in [5, [], {}]:
        event(f"home event.tab={bad!r}", mutated(home, ("event", "tab"), bad))
    for bad in [..., None, 5, "x", []]:
        event(f"home event={bad!r}", mutated(home, ("event",), bad))
    for bad in [..., None, 5, [], "app_home_closed_for_good"]:
        event(f"home event.type={bad!r}", mutated(home, ("event", "type"), bad))
    for bad in [5, [], "bad team", ""]:
        event(f"home team_id={bad!r}", mutated(home, ("team_id",), bad))
    for bad in [5, [], {}]:
        event(f"home event_id={bad!r}", mutated(home, ("event_id",), bad))
    for bad in [5, "x", {}, [5], [None]]:
        event(f"home authorizations={bad!r}", mutated(home, ("authorizations",), bad))
    revoked = base_event({"type": "tokens_revoked", "tokens": {"oauth": [CLERK], "bot": ["U0BOT0001"]}})
    for bad in ["x", [], {"oauth": "x"}, {"bot": [5]}]:
        event(f"tokens_revoked tokens={bad!r}", mutated(revoked, ("event", "tokens"), bad))
    uninstalled = base_event({"type": "app_uninstalled"})
    for bad in [5, None, "bad team"]:
        event(f"app_uninstalled team_id={bad!r}", mutated(uninstalled, ("team_id",), bad))
    verification = {"token": "t", "challenge": "abc", "type": "url_verification"}
    for bad in [..., None, 5, [], {}]:
        event(f"url_verification challenge={bad!r}", mutated(verification, ("challenge",), bad))
    for bad in [5, None, [], "shortcut_of_some_kind"]:
        payload(f"click type={bad!r}", mutated(click, ("type",), bad))
    return out


def test_signed_malformed_payloads_are_400_with_one_warning_line(bot, engine, listener, qbsync_logs):
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    corpus = malformed_corpus(listener.url)
    assert len(corpus) >= 150, len(corpus)
    bot.slack.clear()
    refused = 0
    for what, body in corpus:
        qbsync_logs.clear()
        status, text = post(
            f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items())
        )
        assert status in (200, 400), (what, status, text[:200])
        assert status == 400, (what, status)
        refused += 1
        lines = [r for r in qbsync_logs.records if r.levelno >= logging.WARNING]
        assert len(lines) == 1, (what, [r.getMessage() for r in lines])
        assert lines[0].exc_info is None and "Traceback" not in qbsync_logs.text, what
    time.sleep(0.5)
    tracebacks = [r for r in qbsync_logs.records if r.exc_info]
    assert tracebacks == []
    assert listener.hits == []
    assert [c for c in bot.slack.calls() if c.method != "auth.test"] == []
    print(f"FIGURE malformed signed payloads: {refused} → 400, {len(tracebacks)} tracebacks")


def test_a_well_formed_signed_payload_still_works(bot, engine):
    """The checks refuse shapes, not requests: the corpus's base payloads are answered 200."""
    qb_company(bot.services.api)
    tms(engine, [a_load("X-1")])
    for body in [
        urlencode({"payload": json.dumps(base_click())}),
        urlencode({"payload": json.dumps(base_submission())}),
        json.dumps(base_event({"type": "app_uninstalled"})),
        json.dumps({"token": "t", "challenge": "abc", "type": "url_verification"}),
    ]:
        status, text = post(
            f"{bot.url}/slack/events", body.encode(), list(signed_headers(SECRET, body).items())
        )
        assert status == 200, (body[:120], status, text[:200])
