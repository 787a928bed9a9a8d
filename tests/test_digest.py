"""The daily digest, computed from the database: loads imported through the import service, their sync
state and attempts written as the sync engine writes them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from cli.main import qbsync
from services.digest.build import build_digest
from services.store.models import Load, LoadState, SyncAttempt
from tests.builders import load as a_load
from tests.builders import tms

TODAY = dt.date(2026, 11, 20)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


def problem(engine, number: str, since: dt.datetime, *codes: str) -> None:
    with Session(engine) as session:
        row = session.exec(select(Load).where(Load.load_number == number)).one()
        row.state = LoadState.PROBLEM
        row.reasons = [{"code": code, "summary": code, "evidence": {}} for code in codes]
        row.problem_since = since
        session.commit()


def attempts(engine, number: str, *history: tuple[dt.datetime, str]) -> None:
    with Session(engine) as session:
        load_id = session.exec(select(Load.id).where(Load.load_number == number)).one()
        for started, outcome in history:
            session.add(SyncAttempt(load_id=load_id, started_at=started, trigger="test", outcome=outcome))
        session.commit()


def test_an_empty_day(engine):
    assert build_digest(engine, today=TODAY).to_dict() == {
        "date": "2026-11-20",
        "open": 0,
        "new": 0,
        "resolved": 0,
        "total_amount": "0.00",
        "by_reason": {},
        "oldest": [],
    }


def test_open_new_amounts_reasons_and_oldest(engine):
    tms(
        engine,
        [
            a_load("L-1", charges=[("BASE", "850.00"), ("FSC", "127.50")]),
            a_load("L-2", charges=[("BASE", "400.00")]),
            a_load("L-3", charges=[("BASE", "100.25")]),
            a_load("L-4"),
        ],
    )
    problem(engine, "L-1", at(18, 9), "customer_not_synced", "charge_codes_not_synced")
    problem(engine, "L-2", at(20, 7, 30), "charge_codes_not_synced")
    problem(engine, "L-3", at(20, 0, 0), "qb_not_connected")
    digest = build_digest(engine, today=TODAY, oldest=2).to_dict()
    assert (digest["open"], digest["new"], digest["total_amount"]) == (3, 2, "1477.75")
    assert digest["by_reason"] == {
        "qb_not_connected": 1,
        "customer_not_synced": 1,
        "charge_codes_not_synced": 2,
    }
    assert list(digest["by_reason"]) == ["qb_not_connected", "customer_not_synced", "charge_codes_not_synced"]
    assert digest["oldest"] == [
        {
            "load_number": "L-1",
            "reasons": ["customer_not_synced", "charge_codes_not_synced"],
            "amount": "977.50",
            "since": "2026-11-18T09:00:00+00:00",
        },
        {
            "load_number": "L-3",
            "reasons": ["qb_not_connected"],
            "amount": "100.25",
            "since": "2026-11-20T00:00:00+00:00",
        },
    ]


def test_today_is_a_day_in_the_given_time_zone(engine):
    tms(engine, [a_load("L-1"), a_load("L-2")])
    problem(engine, "L-1", at(20, 3), "qb_throttled")  # 19:00 on the 19th in Los Angeles
    problem(engine, "L-2", at(21, 6), "qb_throttled")  # 22:00 on the 20th in Los Angeles
    assert build_digest(engine, today=TODAY).new == 1
    assert build_digest(engine, today=TODAY, tz="America/Los_Angeles").new == 1
    assert build_digest(engine, today=dt.date(2026, 11, 19), tz="America/Los_Angeles").new == 1
    assert build_digest(engine, today=dt.date(2026, 11, 21)).new == 1
    assert build_digest(engine, today=dt.date(2026, 11, 21), tz="America/Los_Angeles").new == 0


def test_resolved_means_synced_today_after_a_failure(engine):
    numbers = [f"L-{n}" for n in range(1, 9)]
    tms(engine, [a_load(n) for n in numbers])
    attempts(engine, "L-1", (at(19, 9), "problem"), (at(20, 9), "synced"))  # failed yesterday: resolved
    attempts(engine, "L-2", (at(20, 8), "problem"), (at(20, 9), "synced"))  # failed this morning: resolved
    attempts(engine, "L-3", (at(20, 8), "error"), (at(20, 9), "synced"))  # an error counts as a failure
    attempts(engine, "L-4", (at(19, 9), "synced"), (at(20, 9), "synced"))  # never failed
    attempts(engine, "L-5", (at(19, 9), "problem"), (at(20, 9), "synced"), (at(20, 10), "problem"))
    attempts(engine, "L-6", (at(12, 9), "problem"), (at(13, 9), "synced"), (at(20, 9), "synced"))
    attempts(engine, "L-7", (at(20, 9), "synced"))  # first push today
    attempts(engine, "L-8", (at(19, 9), "problem"), (at(21, 9), "synced"))  # resolved tomorrow
    assert build_digest(engine, today=TODAY).resolved == 3
    assert build_digest(engine, today=dt.date(2026, 11, 21)).resolved == 1


def test_resolved_follows_the_time_zone(engine):
    tms(engine, [a_load("L-1")])
    # 23:30 UTC on the 19th is already the 20th in Tokyo: failed and fixed on the same Tokyo day.
    attempts(engine, "L-1", (at(19, 23, 30), "problem"), (at(20, 1), "synced"))
    assert build_digest(engine, today=TODAY, tz="Asia/Tokyo").resolved == 1
    assert build_digest(engine, today=dt.date(2026, 11, 19), tz="Asia/Tokyo").resolved == 0
    assert build_digest(engine, today=TODAY).resolved == 1


# --------------------------------------------------------------------------- command line


def test_cli_digest_text_and_json(cli_env, engine):
    tms(engine, [a_load("L-1"), a_load("L-2")])
    problem(engine, "L-1", dt.datetime.now(dt.UTC), "customer_not_synced")
    runner = CliRunner()
    text = runner.invoke(qbsync, ["digest"])
    assert text.exit_code == 0, text.output
    assert "Open problem invoices: 1, $977.50 in all" in text.stdout
    assert "The customer is not synced to QuickBooks [customer_not_synced]" in text.stdout
    assert "L-1" in text.stdout
    data = json.loads(runner.invoke(qbsync, ["digest", "--json"]).stdout)
    assert set(data) == {"date", "open", "new", "resolved", "total_amount", "by_reason", "oldest"}
    assert (data["open"], data["new"], data["total_amount"]) == (1, 1, "977.50")
    assert data["by_reason"] == {"customer_not_synced": 1}


@pytest.mark.parametrize(
    ("env", "message", "code"),
    [
        ({}, "needs SLACK_BOT_TOKEN and QBSYNC_DIGEST_CHANNEL", 2),  # a missing setting: configuration
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "(not set: QBSYNC_DIGEST_CHANNEL)", 2),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-test",
                "QBSYNC_DIGEST_CHANNEL": "C123",
                "SLACK_API_URL": "http://127.0.0.1:9/",
            },
            "cannot reach Slack at http://127.0.0.1:9/",
            1,  # a dependency that fails
        ),
    ],
)
def test_cli_digest_post_says_why_it_cannot_post(cli_env, monkeypatch, env, message, code):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(qbsync, ["digest", "--post"])
    assert result.exit_code == code
    assert result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
