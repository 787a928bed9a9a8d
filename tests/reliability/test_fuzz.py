"""Fuzzing with hypothesis: slash-command texts, button payloads (missing fields, wrong types, unknown
action ids, loads that do not exist), modal submissions, import files and TMS webhook bodies. Slack
requests go, signed, through the real Bolt app (``app.dispatch``); a few over HTTP. Never a 500, never a
traceback or an error id shown to a person, nothing half-written."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from slack_bolt.request import BoltRequest

from emulator.slack import post_to_app, signed_headers, slash_command_body, view_submission_body
from services.catalogue import FIX_CODES
from services.errors import QbsyncError
from services.store.models import ChargeCode, ChargeLine, Customer, FixAudit, Load
from services.tms import events as tms_events
from services.tms.importer import import_data
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CHANNEL, CLERK, SECRET, TEAM

pytestmark = pytest.mark.reliability

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LOADS = ["Z-1", "Z-2"]
SEEN: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield
    print(
        f"FIGURE fuzz: {SEEN.get('slack', 0)} Slack requests, {SEEN.get('import', 0)} import files, "
        f"{SEEN.get('webhook', 0)} webhook bodies, {SEEN.get('qbo webhook', 0)} QuickBooks webhook bodies: "
        "0 HTTP 500, 0 tracebacks or error ids shown, 0 half-written"
    )
    print(
        f"FIGURE fuzz, signed Slack payloads: {SEEN.get('status 200', 0)} answered 200, "
        f"{SEEN.get('status 400', 0)} refused 400, {SEEN.get('mutated tracebacks', 0)} tracebacks logged"
    )


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
load_like = st.one_of(st.sampled_from([*LOADS, "NOPE-1", "", " ", "Z-1 ", "z-1"]), texts)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(), texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def fuzzed(bot, engine, caplog):
    """The bot, a small company with two loads, and a check run after the examples: nothing shown to
    a person carries a traceback or an error id, and nothing unexpected was logged."""
    qb_company(bot.services.api)
    tms(engine, [a_load(n) for n in LOADS])
    bot.services.sync.sync_many(["Z-1"], trigger="test")
    caplog.set_level(logging.ERROR)
    yield bot
    settle(bot)
    shown = "\n".join(json.dumps([c.method, c.args], default=str) for c in bot.slack.calls())
    assert "Traceback" not in shown and 'File \\"' not in shown
    assert "error id" not in shown, "an unexpected error reached a person"
    unexpected = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert unexpected == [], unexpected[:3]


def settle(bot, quiet: float = 0.6, timeout: float = 20.0) -> None:
    """Wait until the lazy listeners have finished: no new call to Slack for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(bot.slack.calls())
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)


def dispatch(bot, body: str) -> int:
    SEEN["slack"] = SEEN.get("slack", 0) + 1
    headers = {k: [v] for k, v in signed_headers(SECRET, body).items()}
    response = bot.app.dispatch(BoltRequest(body=body, headers=headers))
    assert response.status in (200, 400), (body[:300], response.status, response.body[:300])
    SEEN[f"status {response.status}"] = SEEN.get(f"status {response.status}", 0) + 1
    assert "Traceback" not in (response.body or "")
    return response.status


def counts(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(m.__table__)).scalar()
            for m in (Customer, ChargeCode, Load, ChargeLine)
        )


@FUZZ
@given(
    text=st.one_of(texts, st.builds(lambda v, t: f"{v} {t}", st.sampled_from(["retry", "diagnose"]), texts))
)
def test_slash_command_texts(fuzzed, text):
    body = slash_command_body(
        "/qbsync",
        text,
        user_id=CLERK,
        channel_id=CHANNEL,
        team_id=TEAM,
        response_url=fuzzed.slack.new_response_url(CHANNEL, CLERK),
        trigger_id=fuzzed.slack.new_trigger_id(CLERK),
    )
    assert dispatch(fuzzed, body) == 200


action_ids = st.one_of(
    st.sampled_from([f"fix.{code}" for code in FIX_CODES]),
    st.sampled_from(["fix.nope", "fix.", "qbsync.diagnose", "qbsync.diagnose.3", "qbsync.retry_all"]),
    st.sampled_from(["qbsync.problems_page.next", "qbsync.problems_page.prev", "qbsync.disconnect"]),
    texts,
)
wrong = st.one_of(
    st.none(), st.integers(), st.lists(st.integers(), max_size=2), st.dictionaries(texts, texts)
)


@st.composite
def click_payloads(draw) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "button",
        "action_id": draw(action_ids),
        "block_id": draw(st.sampled_from(["actions", "near_matches", "x"])),
        "action_ts": "1.0",
        "value": draw(st.one_of(load_like, wrong)),
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": CLERK, "team_id": TEAM},
        "team": {"id": TEAM},
        "api_app_id": "A0APP0001",
        "trigger_id": draw(st.one_of(st.just("1.2.3"), wrong)),
        "actions": [action],
        "container": {"type": "message", "message_ts": "1.0", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "message": {"ts": "1.0", "blocks": []},
        "response_url": None,
    }
    for key in draw(
        st.lists(st.sampled_from(["user", "team", "channel", "container", "message"]), max_size=2)
    ):
        payload.pop(key, None)
    if draw(st.booleans()):  # a wrong type somewhere
        target = draw(st.sampled_from(["user", "channel", "action_id", "value", "actions"]))
        if target in ("action_id", "value"):
            action[target] = draw(wrong)
        else:
            payload[target] = draw(wrong)
    return payload


@FUZZ
@given(payload=click_payloads())
def test_button_payloads(fuzzed, payload):
    if payload.get("response_url", 0) is None:
        payload["response_url"] = fuzzed.slack.new_response_url(CHANNEL, CLERK, message_ts="1.0")
    dispatch(fuzzed, urlencode({"payload": json.dumps(payload)}))


@st.composite
def submissions(draw) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = draw(
        st.one_of(
            st.builds(
                lambda fix, load: json.dumps({"fix": fix, "load": load}),
                st.one_of(st.sampled_from(FIX_CODES), texts, wrong),
                st.one_of(load_like, wrong),
            ),
            texts,
        )
    )
    value = draw(st.one_of(texts, wrong))
    block = draw(st.sampled_from(["customer", "email", "doc_number", "dismiss", "item:BASE", "x"]))
    action = draw(st.sampled_from(["customer_id", "email", "doc_number", "reason", "item_id", "x"]))
    element = draw(
        st.sampled_from(
            [
                {"type": "plain_text_input", "value": value},
                {"type": "static_select", "selected_option": {"value": value}},
                {"type": "static_select", "selected_option": value},
                value,
            ]
        )
    )
    view = {"type": draw(st.sampled_from(["modal", "modal", 3])), "callback_id": "qbsync.choice"}
    view["private_metadata"] = meta
    return view, {block: {action: element}}


@FUZZ
@given(submission=submissions())
def test_modal_submissions(fuzzed, submission):
    view, values = submission
    dispatch(fuzzed, view_submission_body(view, values, user_id=CLERK, team_id=TEAM))


def test_a_few_fuzzed_requests_over_http(fuzzed):
    """The same kinds of bodies through the web server, as Slack sends them."""
    for text in ["retry ' OR 1=1", "diagnose \\", "Z-1\u2019", "x" * 2000, "🚚"]:
        body = slash_command_body(
            "/qbsync",
            text,
            user_id=CLERK,
            channel_id=CHANNEL,
            team_id=TEAM,
            response_url=fuzzed.slack.new_response_url(CHANNEL, CLERK),
        )
        assert post_to_app(f"{fuzzed.url}/slack/events", body, SECRET)[0] == 200
    for value in [None, "", "NOPE-1", "Z-1\\'", "z" * 100]:
        payload = {
            "type": "block_actions",
            "user": {"id": CLERK},
            "team": {"id": TEAM},
            "actions": [{"action_id": "fix.retry", "value": value, "block_id": "b", "type": "button"}],
            "trigger_id": fuzzed.slack.new_trigger_id(CLERK),
            "response_url": fuzzed.slack.new_response_url(CHANNEL, CLERK),
        }
        body = urlencode({"payload": json.dumps(payload)})
        assert post_to_app(f"{fuzzed.url}/slack/events", body, SECRET)[0] == 200


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``value``'s objects and lists."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


def _set(payload: Any, path: tuple[Any, ...], value: Any) -> None:
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is ... and isinstance(target, dict):
        target.pop(path[-1], None)
    elif value is not ...:
        target[path[-1]] = value


slack_ids = st.sampled_from([CLERK, TEAM, CHANNEL, "", "u1", "U1 ", "<@U1>", "U" * 40, "Ü1"])


@st.composite
def mutated_payloads(draw) -> tuple[str, Any]:
    """A body of each kind the app listens to with one to three fields replaced, removed or retyped."""
    from tests.reliability.test_slack_unverified import base_click, base_event, base_submission

    kind = draw(st.sampled_from(["click", "submission", "home", "revoked", "uninstalled", "slash"]))
    if kind == "slash":
        form = {
            "command": "/qbsync",
            "text": "Z-1",
            "user_id": CLERK,
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "trigger_id": "1.2.3",
            "response_url": None,
        }
        for key in draw(st.lists(st.sampled_from(sorted(form)), min_size=1, max_size=3)):
            form[key] = draw(st.one_of(st.just(...), texts, slack_ids))
        return kind, {k: v for k, v in form.items() if v is not ...}
    payload = {
        "click": base_click,
        "submission": base_submission,
        "home": lambda: base_event({"type": "app_home_opened", "user": CLERK, "tab": "home"}),
        "revoked": lambda: base_event({"type": "tokens_revoked", "tokens": {"oauth": [CLERK]}}),
        "uninstalled": lambda: base_event({"type": "app_uninstalled"}),
    }[kind]()
    if kind == "click":
        payload["actions"][0]["value"] = "Z-1"
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(payload)))
        _set(payload, path, draw(st.one_of(st.just(...), json_values, slack_ids)))
    return kind, payload


@settings(FUZZ, max_examples=150)
@given(case=mutated_payloads())
def test_mutated_payloads_are_answered_200_or_400_without_a_traceback(fuzzed, caplog, case):
    kind, payload = case
    caplog.set_level(logging.WARNING)
    before = len(caplog.records)
    if kind == "slash":
        if payload.get("response_url", 0) is None:
            payload["response_url"] = fuzzed.slack.new_response_url(CHANNEL, CLERK)
        body = urlencode(payload)
    elif kind in ("click", "submission"):
        if isinstance(payload, dict) and payload.get("response_url", 0) == "":
            payload["response_url"] = fuzzed.slack.new_response_url(CHANNEL, CLERK, message_ts="1.0")
        body = urlencode({"payload": json.dumps(payload)})
    else:
        body = json.dumps(payload)
    SEEN["slack"] = SEEN.get("slack", 0) + 1
    status, _headers, answer = post_to_app(f"{fuzzed.url}/slack/events", body, SECRET)  # as Slack sends it
    assert status in (200, 400), (body[:300], status, answer[:300])
    assert "Traceback" not in answer
    SEEN[f"status {status}"] = SEEN.get(f"status {status}", 0) + 1
    logged = caplog.records[before:]
    tracebacks = [r for r in logged if r.exc_info or "Traceback" in r.getMessage()]
    SEEN["mutated tracebacks"] = SEEN.get("mutated tracebacks", 0) + len(tracebacks)
    assert tracebacks == [], [r.getMessage() for r in tracebacks]
    if status == 400:  # refused before anything ran: one warning line from the request's thread
        refusals = [r for r in logged if "refused (400)" in r.getMessage()]
        assert refusals, [r.getMessage() for r in logged]
        thread = refusals[-1].thread
        here = [r for r in logged if r.thread == thread and r.levelno >= logging.WARNING]
        assert len(here) == 1, [r.getMessage() for r in here]


documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "customers": st.lists(
                st.dictionaries(st.sampled_from(["id", "name", "qb_email", "x"]), json_scalars)
            ),
            "charge_codes": st.lists(st.dictionaries(st.sampled_from(["code", "name"]), json_scalars)),
            "loads": st.lists(
                st.one_of(
                    st.builds(a_load, load_like),
                    st.dictionaries(
                        st.sampled_from(["load_number", "customer_id", "invoice_date", "charges"]),
                        json_values,
                    ),
                ),
                max_size=3,
            ),
        },
    ),
)


@settings(FUZZ, max_examples=80)
@given(document=documents)
def test_import_files(engine, document):
    SEEN["import"] = SEEN.get("import", 0) + 1
    before = counts(engine)
    try:
        import_data(engine, document)
    except QbsyncError as exc:  # refused, said plainly: nothing written
        assert str(exc) and "Traceback" not in str(exc)
        assert counts(engine) == before, "half-written"


@pytest.fixture
def tms_web(make_web, connected):
    from web.app import create_web_app

    web = make_web(tms_webhook_secret=SecretStr("fuzz-secret"))
    return create_web_app(web.app, web.services).test_client(), web


@settings(FUZZ, max_examples=60)
@given(raw=st.one_of(documents.map(lambda d: json.dumps(d).encode()), st.binary(max_size=200)))
def test_webhook_bodies(tms_web, engine, raw):
    client, _web = tms_web
    SEEN["webhook"] = SEEN.get("webhook", 0) + 1
    before = counts(engine)
    answer = client.post(
        "/tms/events",
        data=raw,
        headers=tms_events.signed_headers("fuzz-secret", raw),
    )
    assert answer.status_code in (202, 400, 409), (raw[:200], answer.status_code, answer.data[:300])
    assert b"Traceback" not in answer.data
    if answer.status_code != 202:
        assert counts(engine) == before, "half-written"


@pytest.fixture
def qbo_web(make_web, connected):
    from web.app import create_web_app

    web = make_web(qbo_webhook_verifier_token=SecretStr("fuzz-verifier"))
    return create_web_app(web.app, web.services).test_client(), web


def cloud_events(realm: str):
    event = st.fixed_dictionaries(
        {
            "specversion": st.one_of(st.just("1.0"), json_scalars),
            "id": st.one_of(st.uuids().map(str), json_scalars),
            "type": st.one_of(
                st.sampled_from(["qbo.invoice.deleted.v1", "qbo.item.updated.v1", "qbo.payment.created.v1"]),
                texts,
            ),
            "intuitentityid": st.one_of(st.sampled_from(["1", "2", "999"]), json_scalars),
            "intuitaccountid": st.one_of(st.just(realm), json_scalars),
            "time": st.one_of(st.just("2026-12-03T10:00:00.000Z"), json_scalars),
        }
    )
    return st.one_of(
        st.lists(event, max_size=4), json_values, st.builds(lambda e: {"eventNotifications": e}, json_values)
    )


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_quickbooks_webhook_bodies(qbo_web, engine, data):
    client, web = qbo_web
    realm = web.services.connection.status().realm_id
    raw = data.draw(
        st.one_of(cloud_events(realm).map(lambda b: json.dumps(b).encode()), st.binary(max_size=200))
    )
    SEEN["qbo webhook"] = SEEN.get("qbo webhook", 0) + 1
    signature = base64.b64encode(hmac.new(b"fuzz-verifier", raw, hashlib.sha256).digest()).decode()
    answer = client.post("/qbo/webhooks", data=raw, headers={"intuit-signature": signature})
    assert answer.status_code in (200, 400), (raw[:200], answer.status_code, answer.data[:300])
    assert b"Traceback" not in answer.data
    unsigned = client.post("/qbo/webhooks", data=raw, headers={"intuit-signature": "Zm9yZ2Vk"})
    assert unsigned.status_code == 401


def test_no_fix_audit_row_is_left_half_written(fuzzed, engine):
    with engine.connect() as conn:
        outcomes = set(conn.execute(sa.select(FixAudit.outcome)).scalars())
    assert outcomes <= {"applied", "unchanged", "refused", "failed", "choice", "action"}
