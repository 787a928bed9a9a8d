"""Replaying TMS events, over real HTTP: a signed event sent again (as captured, later, or with another
timestamp) must not undo a newer one. The signature covers a timestamp (±5 minutes), an ``event_id``
is accepted once, and a record keeps the newest TMS event applied to it. Every refused replay writes
nothing.

The requests are signed here the way the HTTP contract describes it (not with qbsync's own helper):
``X-Qbsync-Timestamp: <unix seconds>`` and ``X-Qbsync-Signature: v1=<hex HMAC-SHA256 of
"v1:{timestamp}:{raw body}">``."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa
import time_machine
from pydantic import SecretStr

from services.store.models import ChargeLine, Load
from tests.builders import load as a_load
from tests.builders import tms

pytestmark = pytest.mark.reliability

SECRET = "tms-webhook-secret-replay"
ROUTE_LOGGER = "web.tms"
CUSTOMERS = [{"id": "C-R1", "name": "Replay One"}, {"id": "C-R2", "name": "Replay Two"}]


def v1_headers(raw: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v1:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Qbsync-Timestamp": str(ts),
        "X-Qbsync-Signature": f"v1={digest}",
    }


def send(web, raw: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{web.url}/tms/events", data=raw, headers=headers, timeout=15)


def body(number: str, customer: str, amount: str, event_id: object = None, **extra: object) -> bytes:
    document: dict[str, object] = {"loads": [a_load(number, customer=customer, charges=[("BASE", amount)])]}
    if event_id is not None:
        document["event_id"] = event_id
    document.update(extra)
    return json.dumps(document).encode()


def stored(engine, number: str) -> tuple[str, list[Decimal], list[int]] | None:
    """The load's customer, its charge amounts and the ids of its charge lines (new ids whenever the
    TMS side is written again); ``None`` when there is no such load."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(Load.id, Load.customer_id).where(Load.load_number == number)).first()
        if row is None:
            return None
        lines = conn.execute(
            sa.select(ChargeLine.id, ChargeLine.amount)
            .where(ChargeLine.load_id == row.id)
            .order_by(ChargeLine.position)
        ).all()
    return row.customer_id, [line.amount for line in lines], [line.id for line in lines]


def loads_in(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Load.__table__)).scalar()


@pytest.fixture
def web(make_web, engine):
    tms(engine, customers=CUSTOMERS)  # customers and charge codes from a file import, not an event
    return make_web(tms_webhook_secret=SecretStr(SECRET))


@pytest.fixture
def route_log(caplog):
    caplog.set_level(logging.INFO, logger=ROUTE_LOGGER)
    return caplog


def route_lines(caplog, since: int) -> list[str]:
    return [r.getMessage() for r in caplog.records[since:] if r.name == ROUTE_LOGGER]


def test_a_then_b_then_a_again_never_reverts_the_load(web, engine):
    now = int(time.time())
    raw_a = body("RP-1", "C-R1", "10.00", event_id="evt-A")
    headers_a = v1_headers(raw_a, now - 60)
    first = send(web, raw_a, headers_a)
    assert first.status_code == 202, first.text
    assert stored(engine, "RP-1")[:2] == ("C-R1", [Decimal("10.00")])

    raw_b = body("RP-1", "C-R2", "99.00", event_id="evt-B")
    second = send(web, raw_b, v1_headers(raw_b, now - 30))
    assert second.status_code == 202, second.text
    after_b = stored(engine, "RP-1")
    assert after_b[:2] == ("C-R2", [Decimal("99.00")])

    # A again, byte for byte: the same event_id → 409
    again = send(web, raw_a, headers_a)
    assert again.status_code == 409, again.text
    assert "evt-A" in again.json()["error"]
    assert stored(engine, "RP-1") == after_b, "the replay wrote nothing"

    # A's content under a fresh event_id but A's (older) timestamp: the load keeps B
    fresh = body("RP-1", "C-R1", "10.00", event_id="evt-A-2")
    late = send(web, fresh, v1_headers(fresh, now - 60))
    assert late.status_code == 202, late.text
    assert late.json()["skipped_older"] == {"loads": ["RP-1"]}
    assert late.json()["syncing"] == []
    assert stored(engine, "RP-1") == after_b, "an older event does not overwrite a newer one"

    # …and without any event_id at all
    bare = body("RP-1", "C-R1", "10.00")
    unnamed = send(web, bare, v1_headers(bare, now - 45))
    assert unnamed.status_code == 202, unnamed.text
    assert unnamed.json()["skipped_older"] == {"loads": ["RP-1"]}
    assert stored(engine, "RP-1") == after_b

    # a newer event still applies, and an event naming several records skips only the older ones
    raw_c = json.dumps(
        {
            "event_id": "evt-C",
            "loads": [
                a_load("RP-1", customer="C-R1", charges=[("BASE", "55.00")]),
                a_load("RP-2", customer="C-R1", charges=[("BASE", "20.00")]),
            ],
        }
    ).encode()
    newer = send(web, raw_c, v1_headers(raw_c, now - 10))
    assert newer.status_code == 202 and "skipped_older" not in newer.json(), newer.text
    mixed_raw = json.dumps(
        {
            "event_id": "evt-D",
            "loads": [
                a_load("RP-1", customer="C-R2", charges=[("BASE", "1.00")]),
                a_load("RP-3", customer="C-R2", charges=[("BASE", "30.00")]),
            ],
        }
    ).encode()
    mixed = send(web, mixed_raw, v1_headers(mixed_raw, now - 20))
    assert mixed.status_code == 202, mixed.text
    assert mixed.json()["skipped_older"] == {"loads": ["RP-1"]}
    assert mixed.json()["loads"]["created"] == 1 and mixed.json()["syncing"] == ["RP-3"]
    assert stored(engine, "RP-1")[:2] == ("C-R1", [Decimal("55.00")])
    assert stored(engine, "RP-3")[:2] == ("C-R2", [Decimal("30.00")])


def test_a_captured_request_sent_again_after_six_minutes_is_refused(web, engine, route_log):
    raw = body("RP-4", "C-R1", "10.00")  # no event_id: only the timestamp protects it
    headers = v1_headers(raw)
    assert send(web, raw, headers).status_code == 202
    before = stored(engine, "RP-4")
    changed = body("RP-4", "C-R2", "99.00")
    newer = v1_headers(changed)
    with time_machine.travel(time.time() + 360, tick=True):
        mark = len(route_log.records)
        replayed = send(web, raw, headers)
        assert replayed.status_code == 401, replayed.text
        assert "X-Qbsync-Timestamp" in replayed.json()["error"]
        late = send(web, changed, newer)  # a real newer event, delivered 6 minutes late
        assert late.status_code == 401, late.text
        assert len(route_lines(route_log, mark)) == 2, "one log line per refusal"
    assert stored(engine, "RP-4") == before


def test_timestamps_out_of_the_window_or_not_integers_are_refused(web, engine, route_log):
    raw = body("RP-5", "C-R1", "10.00", event_id="evt-window")
    now = int(time.time())
    good = v1_headers(raw, now)
    cases = {
        "301 s old": v1_headers(raw, now - 301),
        "330 s ahead": v1_headers(raw, now + 330),  # far enough past 300 s that a slow request stays out
        "1 h old": v1_headers(raw, now - 3600),
        "tampered (+1)": {**good, "X-Qbsync-Timestamp": str(now + 1)},
        "tampered (-60)": {**good, "X-Qbsync-Timestamp": str(now - 60)},
        "missing": {k: v for k, v in good.items() if k != "X-Qbsync-Timestamp"},
        "empty": {**good, "X-Qbsync-Timestamp": ""},
        "not an integer": {**good, "X-Qbsync-Timestamp": f"{now}.5"},
        "words": {**good, "X-Qbsync-Timestamp": "yesterday"},
        "negative": v1_headers(raw, -5),
        "huge": {**good, "X-Qbsync-Timestamp": "9" * 40},
        "milliseconds": v1_headers(raw, now * 1000),
        "signature of another time": {**v1_headers(raw, now - 10), "X-Qbsync-Timestamp": str(now)},
    }
    for what, headers in cases.items():
        mark = len(route_log.records)
        answer = send(web, raw, headers)
        assert answer.status_code == 401, (what, answer.status_code, answer.text)
        assert "Traceback" not in answer.text
        lines = route_lines(route_log, mark)
        assert len(lines) == 1, (what, lines)
    assert loads_in(engine) == 0
    assert send(web, raw, good).status_code == 202, "the event itself, signed now, is accepted once"


def test_a_body_only_signature_is_refused_naming_the_new_form(web, engine, route_log):
    raw = body("RP-6", "C-R1", "10.00")
    old_form = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    for headers in (
        {"Content-Type": "application/json", "X-Qbsync-Signature": old_form},
        {**v1_headers(raw), "X-Qbsync-Signature": old_form},
    ):
        mark = len(route_log.records)
        answer = send(web, raw, headers)
        assert answer.status_code == 401, answer.text
        error = answer.json()["error"]
        assert "v1=" in error and "X-Qbsync-Timestamp" in error, error
        assert len(route_lines(route_log, mark)) == 1
    assert loads_in(engine) == 0


def test_two_deliveries_of_one_event_racing_write_once(web, engine):
    tms(engine, [a_load(f"RP-R{i}", customer="C-R1", charges=[("BASE", "10.00")]) for i in range(5)])
    for round_ in range(5):
        number = f"RP-R{round_}"
        raw = body(number, "C-R2", "77.00", event_id=f"evt-race-{round_}")
        headers = v1_headers(raw)
        barrier = threading.Barrier(2)
        answers: list[requests.Response] = []

        def deliver(raw=raw, headers=headers, barrier=barrier, answers=answers):
            barrier.wait()
            answers.append(send(web, raw, headers))

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [202, 409], [(a.status_code, a.text) for a in answers]
        accepted = next(a for a in answers if a.status_code == 202).json()
        assert accepted["loads"] == {"created": 0, "updated": 1, "unchanged": 0}
        assert stored(engine, number)[:2] == ("C-R2", [Decimal("77.00")])


@pytest.mark.parametrize(
    "event_id",
    [123, "", "x" * 201, None, ["evt"], {"id": "evt"}, True, 1.5],
    ids=["number", "empty", "too long", "null", "list", "object", "boolean", "decimal"],
)
def test_a_bad_event_id_is_refused_naming_the_field(web, engine, event_id):
    raw = json.dumps({"event_id": event_id, "loads": [a_load("RP-7", customer="C-R1")]}).encode()
    answer = send(web, raw, v1_headers(raw))
    assert answer.status_code == 400, answer.text
    problems = answer.json()["problems"]
    assert [p["field"] for p in problems] == ["event_id"], problems
    assert "event_id" in answer.json()["error"]
    assert loads_in(engine) == 0


def test_every_kind_of_replay_is_refused_and_writes_nothing(web, engine):
    """A, then B, then A sent again in every way an attacker holding A's request could: each refused
    (401/409) or skipped as older, and the load keeps B."""
    now = int(time.time())
    raw_a = body("RP-F", "C-R1", "10.00", event_id="evt-fig-A")
    headers_a = v1_headers(raw_a, now - 90)
    assert send(web, raw_a, headers_a).status_code == 202
    raw_b = body("RP-F", "C-R2", "99.00", event_id="evt-fig-B")
    assert send(web, raw_b, v1_headers(raw_b, now - 60)).status_code == 202
    kept = stored(engine, "RP-F")
    bare_a = body("RP-F", "C-R1", "10.00")
    old_form = "sha256=" + hmac.new(SECRET.encode(), raw_a, hashlib.sha256).hexdigest()
    replays = {
        "as captured": (raw_a, headers_a, 409),
        "as captured, twice more": (raw_a, headers_a, 409),
        "a new timestamp on the old signature": (raw_a, {**headers_a, "X-Qbsync-Timestamp": str(now)}, 401),
        "body-only signature": (raw_a, {**headers_a, "X-Qbsync-Signature": old_form}, 401),
        "a fresh event_id, A's timestamp": (
            body("RP-F", "C-R1", "10.00", event_id="evt-fig-A2"),
            v1_headers(body("RP-F", "C-R1", "10.00", event_id="evt-fig-A2"), now - 90),
            202,
        ),
        "no event_id, A's timestamp": (bare_a, v1_headers(bare_a, now - 90), 202),
    }
    refused = writes = 0
    for what, (raw, headers, expected) in replays.items():
        answer = send(web, raw, headers)
        assert answer.status_code == expected, (what, answer.status_code, answer.text)
        if expected == 202:
            assert answer.json()["skipped_older"] == {"loads": ["RP-F"]}, (what, answer.text)
            writes += answer.json()["loads"]["updated"] + answer.json()["loads"]["created"]
        refused += 1
        writes += stored(engine, "RP-F") != kept
    with time_machine.travel(time.time() + 360, tick=True):
        answer = send(web, bare_a, v1_headers(bare_a, now - 90))
        assert answer.status_code == 401, answer.text
        refused += 1
    writes += stored(engine, "RP-F") != kept
    assert (refused, writes) == (len(replays) + 1, 0)
    print(f"FIGURE tms-replays: {refused} replays refused, {writes} writes")
