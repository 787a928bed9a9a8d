"""A dismissed load is not a dead end: its diagnosis says who, when and why and offers Restore only; a
button pressed on it from before the dismissal answers with that view; Restore says what is true after;
the problem list, status, the App Home and the digest count dismissed loads apart with their dollars.
And Slack shows words, not codes: what a fix created by name, when a throttled load failed and when
qbsync retries it, channels as mentions, and one way to show a time."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.views.blocks import channel_mention, slack_date
from bot.views.diagnosis import diagnosis_message
from bot.views.digest import digest_message
from bot.views.home import home_view
from bot.views.problems import problems_message
from bot.views.results import fix_result_message
from bot.views.status import status_message
from cli.render import shown_time
from services.diagnosis.dashboard import build_dashboard
from services.diagnosis.problems import list_dismissed, list_problems, summarize
from services.diagnosis.status import build_status
from services.digest.build import build_digest
from services.errors import UserInputError
from services.scheduler.autosync import sync_and_retry
from services.tms.records import clean_email
from tests.builders import CUSTOMERS, qb_company, qb_customer, qb_item, tms
from tests.builders import load as a_load
from tests.slack.conftest import action_ids, words_in

ACTOR = "slack:T0HARBOR1:U0ALEX001"
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|]*)\|[^>]*>")


def everything(message) -> str:
    return "\n".join([message.get("text") or "", words_in(message["blocks"])])


@pytest.fixture
def dismissed(connected, engine):
    """L-1 syncs; L-2 (a customer QuickBooks does not know, $977.50) is dismissed from Slack."""
    qb_company(connected.api)
    tms(
        engine,
        [a_load("L-1"), a_load("L-2", customer="C-300")],
        customers=[*CUSTOMERS, {"id": "C-300", "name": "Nobody Inc", "qb_email": None}],
    )
    connected.sync.sync_many(None, trigger="test")
    result = connected.fixer.apply("L-2", "dismiss", ACTOR, reason="invoiced by hand")
    assert result.outcome == "applied"
    return connected


def test_a_dismissed_load_offers_restore_only_and_names_the_person(dismissed):
    message = diagnosis_message(dismissed.diagnoser.diagnose("L-2"))
    text = everything(message)
    assert action_ids(message["blocks"]) == ["fix.undismiss"], "no fix button but Restore"
    assert "<@U0ALEX001>" in text and "invoiced by hand" in text and "<!date^" in text
    assert "slack:" not in text and "qbsync fix" not in text and "undismiss" not in text
    assert "dismissed" in message["text"] and "does not sync" not in message["text"]


def test_a_stale_fix_button_on_a_dismissed_load_answers_with_the_dismissed_view(dismissed):
    result = dismissed.fixer.apply("L-2", "link_customer", "slack:T0HARBOR1:U0BEA0002", customer_id="1")
    assert result.outcome == "refused" and result.diagnosis is not None and result.diagnosis.dismissed
    message = fix_result_message(result, "slack:T0HARBOR1:U0BEA0002")
    text = everything(message)
    assert action_ids(message["blocks"]) == ["fix.undismiss"]
    assert "Link customer was not run: this load is dismissed" in text
    assert "<@U0ALEX001>" in text and "slack:" not in text and "qbsync fix" not in text


def test_restore_says_what_is_true_afterwards(dismissed):
    result = dismissed.fixer.apply("L-2", "undismiss", ACTOR)
    text = everything(fix_result_message(result, ACTOR))
    assert "back in the problem list — The customer is not synced to QuickBooks" in text
    assert "synced again" not in text
    assert result.diagnosis.state == "problem"


def test_dismissed_loads_are_counted_apart_with_their_dollars(dismissed, engine):
    summary = summarize(engine)
    assert (summary.open, summary.dismissed, str(summary.dismissed_amount)) == (0, 1, "977.50")
    counted = "1 dismissed ($977.50)"
    listed = problems_message(
        list_problems(engine),
        dismissed=summary.dismissed,
        dismissed_amount=summary.dismissed_amount,
        dismissed_loads=list_dismissed(engine, limit=5),
    )
    status = build_status(engine, dismissed.connection.status())
    digest = build_digest(engine, today=dt.datetime.now(dt.UTC).date())
    shown = {
        "problems": everything(listed),
        "status": everything(status_message(status)),
        "home": words_in(home_view(status, dashboard=build_dashboard(engine, dismissed.connection.status()))),
        "digest": everything(digest_message(digest, dismissed.connection.status())),
    }
    for where, text in shown.items():
        assert counted in text, where
        assert "every load is in quickbooks" not in text.lower(), where
    assert "qbsync.diagnose.0" in action_ids(listed["blocks"]), "the dismissed load has its Diagnose button"


def test_a_throttled_load_says_when_it_failed_why_and_when_qbsync_retries_it(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("T-1")])
    emu.add_fault("429", count=20, method="POST", path_contains="/invoice")
    sync_and_retry(connected)  # the automatic sync: it fails, and schedules its own retry
    diagnosis = connected.diagnoser.diagnose("T-1")
    assert [r.code for r in diagnosis.reasons] == ["qb_throttled"]
    evidence = diagnosis.reasons[0].evidence
    assert evidence["failed_at"] and evidence["retry_at"] and evidence["retry_at"] > evidence["failed_at"]
    text = everything(diagnosis_message(diagnosis))
    assert "nothing blocks it" not in text
    assert "QuickBooks asked us to slow down" in text
    assert "Last attempt failed: <!date^" in text and "qbsync retries it by itself: <!date^" in text


def test_resync_names_what_it_created_and_linked(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    base = qb_item(connected.api, "Base Price")
    tms(engine, [a_load("R-1")])
    result = connected.fixer.apply("R-1", "resync_charge_codes", ACTOR)
    created = result.changes["FSC"]["created"]["id"]
    assert f"Created Fuel Surcharge (item {created}) in QuickBooks" in result.message
    assert f"linked Base Price to item {base['Id']}" in result.message
    assert "FSC" not in result.message


def test_resync_asks_for_a_choice_in_words_not_codes(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    qb_item(connected.api, "Fuel Surcharge")
    qb_item(connected.api, "Fuel Surcharge", parent=qb_item(connected.api, "Accessorials"))
    tms(engine, [a_load("R-2")])
    result = connected.fixer.apply("R-2", "resync_charge_codes", ACTOR)
    assert result.outcome == "choice"
    assert "choose one with Map charge code" in result.message and "map_charge_code" not in result.message


def test_a_bad_email_is_refused_in_words():
    with pytest.raises(UserInputError) as refused:
        clean_email("ap at blueharbor")
    assert "qb_email" not in str(refused.value)
    assert str(refused.value).startswith("The QuickBooks email 'ap at blueharbor' is not")


def test_one_way_to_show_a_time_in_slack_and_in_the_cli(dismissed, engine):
    when = dt.datetime(2026, 11, 27, 14, 3, tzinfo=dt.UTC)
    assert slack_date(when) == (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-27 14:03 UTC>"
    )
    assert shown_time(when) == "2026-11-27 14:03 UTC" == shown_time(when.isoformat())
    status = build_status(engine, dismissed.connection.status())
    dashboard = build_dashboard(engine, dismissed.connection.status())
    home = home_view(status, dashboard=dashboard, next_digest=when, digest_channel="C0BILLING1")
    digest = build_digest(engine, today=when.date(), since=when - dt.timedelta(days=1), until=when)
    texts = [
        words_in(home),
        everything(digest_message(digest, dismissed.connection.status())),
        everything(diagnosis_message(dismissed.diagnoser.diagnose("L-2"))),
    ]
    formats = {m.group(2) for text in texts for m in DATE_TOKEN.finditer(text)}
    assert formats == {"{date_short_pretty} at {time}"}
    assert "<#C0BILLING1>" in texts[0] and "#C0BILLING1" not in texts[0].replace("<#C0BILLING1>", "")
    assert channel_mention("C0BILLING1") == "<#C0BILLING1>"
    assert channel_mention("billing<!channel>") == "#billing&lt;!channel&gt;"
