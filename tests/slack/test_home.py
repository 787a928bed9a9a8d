"""The App Home published through the Slack stand-in, and the digest and Home views as pure functions
accepted by the stand-in's Block Kit checks however many problems there are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.views.digest import digest_message
from bot.views.home import home_view
from emulator.slack import (
    block_actions_body,
    event_callback_body,
    post_to_app,
    validate_blocks,
    validate_view,
)
from services.connect.connection import ConnectionStatus
from services.diagnosis.dashboard import Dashboard
from services.diagnosis.problems import Problem
from services.diagnosis.reasons import Reason
from services.diagnosis.status import Status
from services.digest.build import Digest
from services.scheduler.autosync import sync_and_retry
from services.store.models import ConnectionState
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CLERK, SECRET, action_ids, text_of, wait_for

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


def test_the_app_home_shows_problems_dollars_oldest_and_the_schedule(make_bot, connected, engine):
    qb_company(connected.api)
    tms(
        engine,
        [a_load(f"H-{i}", customer="C-300") for i in range(8)] + [a_load("H-OK")],
        customers=[
            {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
            {"id": "C-300", "name": "Coastal Grain", "qb_email": "ap@coastal.example"},
        ],
    )
    sync_and_retry(connected)
    connected.settings = connected.settings.model_copy(update={"digest_channel": "C0DIGEST01"})
    bot = make_bot(connected)
    body = event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}, event_id="EvH1")
    assert post_to_app(f"{bot.url}/slack/events", body, SECRET)[0] == 200
    home = wait_for(lambda: bot.slack.home(CLERK))
    assert validate_view(home) == []
    assert len(home["blocks"]) <= 100
    text = str(home["blocks"])
    assert "Connected" in text and "8 loads, $7,820.00" in text and "Link customer" in text
    assert action_ids(home["blocks"]).count("qbsync.diagnose.0") == 1
    assert len([a for a in action_ids(home["blocks"]) if a.startswith("qbsync.diagnose")]) == 5
    assert "1 synced, 0 to retry later, 8 need a person" in text
    assert "Next digest" in text and "<#C0DIGEST01>" in text

    click = block_actions_body(  # Diagnose on the Home: no channel to answer in, a modal
        "qbsync.diagnose.0",
        "H-0",
        "oldest_actions",
        user_id=CLERK,
        view=home,
        trigger_id=bot.slack.new_trigger_id(CLERK),
        team_id="T0001",
    )
    assert post_to_app(f"{bot.url}/slack/events", click, SECRET)[0] == 200
    modal = wait_for(lambda: (v := bot.open_view()) and "Coastal Grain" in str(v["blocks"]) and v)
    assert validate_view(modal) == [] and action_ids(modal["blocks"]) == []
    assert "/qbsync H-0" in str(modal["blocks"])


def test_home_and_digest_views_are_valid_for_many_problems_and_none():
    connection = ConnectionStatus(
        ConnectionState.BROKEN, "123", None, None, "refresh token revoked", None, None
    )
    problems = [
        Problem(f"LOAD-{i:05d}" + "X" * 40, [Reason("customer_not_synced", "s", {})], Decimal("99.50"), NOW)
        for i in range(500)
    ]
    status = Status(connection, NOW, NOW, 600, 100, 500, Decimal("49750.00"), {"customer_not_synced": 500})
    dashboard = Dashboard(status, {"customer_not_synced": Decimal("49750.00")}, problems[:5], NOW, "done", 3)
    home = home_view(status, dashboard=dashboard, next_digest=NOW, digest_channel="C1")
    assert validate_view(home) == []
    assert "fix.connect" in action_ids(home["blocks"])
    for open_count, oldest in ((500, problems[:5]), (0, [])):
        digest = Digest(
            dt.date(2026, 11, 26),
            open_count,
            3,
            2,
            Decimal("49750.00") if open_count else Decimal("0.00"),
            {"customer_not_synced": open_count} if open_count else {},
            oldest,
            amount_by_reason={"customer_not_synced": Decimal("49750.00")} if open_count else {},
            since=NOW - dt.timedelta(days=1),
        )
        message = digest_message(digest, connection, tz="America/Chicago")
        assert validate_blocks(message["blocks"], "message") == []
        words = text_of(type("M", (), {"text": message["text"], "blocks": message["blocks"]})())
        assert "Connect QuickBooks" in words
        if open_count:
            assert "500 problem invoices" in words and "$49,750.00" in words and "Link customer" in words
            assert len([a for a in action_ids(message["blocks"]) if a.startswith("qbsync.diagnose")]) == 5
        else:
            assert "All clear" in words
