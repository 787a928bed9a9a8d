"""``/qbsync`` subcommands over HTTP: help, odd texts, unknown loads with near matches, the problem list
and its pages, status, retry, forged requests, concurrent clicks and unexpected errors."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from emulator.slack import post_to_app, signed_headers, slash_command_body
from tests.builders import CUSTOMERS, qb_company, qb_invoices, tms
from tests.builders import load as a_load
from tests.slack.conftest import CLERK, OUTSIDER, SECRET, action_ids, text_of, wait_for
from tests.slack.test_fix_flows import diagnosed

NOBODY = {"id": "C-999", "name": "Nobody Inc", "qb_email": "nobody@nowhere.example"}


@pytest.mark.parametrize("text", ["", "help", "   ", "HELP"])
def test_help_is_answered_in_the_acknowledgement(bot, text):
    status, answer = bot.command(text)
    assert status == 200
    assert "/qbsync problems" in answer and "/qbsync retry HB-2003" in answer
    assert '"response_type":"ephemeral"' in answer.replace(" ", "")


@pytest.mark.parametrize(
    "text",
    ["'; DROP TABLE load; --", "back\\slash", "x" * 300, "🚚 truck", "retry", "diagnose", "L\x07-1"],
)
def test_odd_texts_get_a_helpful_answer_and_never_a_500(bot, engine, text):
    tms(engine, [a_load("L-1001")])
    status, answer = bot.command(text)
    assert status == 200
    if answer:  # refused in the acknowledgement: help with the reason
        assert "/qbsync" in answer
    else:  # a load number that does not exist: the answer says so, with the near matches
        message = wait_for(lambda: bot.last_message(lambda m: "No load" in text_of(m) or "not" in text_of(m)))
        assert "Type `/qbsync help`" in text_of(message)


def test_a_load_number_with_ampersand_and_angle_brackets_is_found_as_typed(bot, engine):
    """Slack sends ``&``, ``<`` and ``>`` of the typed text as entities (the stand-in does too)."""
    qb_company(bot.services.api)
    tms(engine, [a_load("A&B<1>")])
    message = diagnosed(bot, "A&B<1>")
    assert "No load" not in text_of(message) and "not synced yet" in text_of(message)
    assert "A&amp;B&lt;1&gt;" in text_of(message) and "&amp;amp;" not in text_of(message)


def test_a_load_number_with_the_word_payload_is_a_load_number(bot, engine):
    """A form body that contains "payload" anywhere (here the typed text) is still a slash command: Bolt's
    own parser reads such a body as an interactive ``payload=`` form and finds nothing in it."""
    qb_company(bot.services.api)
    tms(engine, [a_load("payload-7")])
    message = diagnosed(bot, "payload-7")
    assert "No load" not in text_of(message) and "payload-7" in text_of(message)


@pytest.mark.parametrize("text", ["problems abc", "problems -1", "problems 0", "problems 99999"])
def test_a_problems_page_that_is_no_page_number_is_answered_with_an_example(bot, text):
    status, answer = bot.command(text)
    assert status == 200 and "Which page?" in answer and "/qbsync problems 2" in answer


def test_an_unknown_load_offers_near_matches_as_buttons(bot, engine):
    qb_company(bot.services.api)
    tms(engine, [a_load("HB-2003"), a_load("HB-2008")])
    message = diagnosed(bot, "HB-2OO3")
    assert "No load" in text_of(message)
    near = [a for a in action_ids(message.blocks) if a.startswith("qbsync.diagnose")]
    assert near, "near matches as buttons"
    replaced = message.replaced
    assert bot.click(message, near[0]) == 200
    wait_for(lambda: next(m for m in bot.messages() if m.ts == message.ts).replaced > replaced)
    again = next(m for m in bot.messages() if m.ts == message.ts)
    assert "HB-200" in text_of(again) and "No load" not in text_of(again)


def test_problems_are_grouped_paginated_and_each_load_can_be_diagnosed(bot, engine, emu):
    qb_company(bot.services.api)
    numbers = [f"P-{i:03d}" for i in range(45)]
    tms(
        engine,
        [a_load(n, customer="C-999") for n in numbers[:30]] + [a_load(n) for n in numbers[30:]],
        customers=[*CUSTOMERS, NOBODY],
    )
    emu.add_fault("503", count=100, method="POST", path_contains="/batch")  # bulk creates go in batches
    bot.services.sync.sync_many(None, trigger="test")
    status, _ = bot.command("problems")
    assert status == 200
    first = wait_for(lambda: bot.last_message(lambda m: "problem invoice" in text_of(m)))
    assert first.ephemeral_for == CLERK
    assert len(first.blocks) <= 50
    text = text_of(first)
    assert "45 problem invoices" in text and "$43,987.50 held up" in text
    assert "The customer is not synced to QuickBooks" in text and "Page 1 of 3" in text
    assert "qbsync.problems_page.next" in action_ids(first.blocks)
    replaced = first.replaced
    bot.click(first, "qbsync.problems_page.next")
    wait_for(lambda: next(m for m in bot.messages() if m.ts == first.ts).replaced > replaced)
    second = next(m for m in bot.messages() if m.ts == first.ts)
    assert "Page 2 of 3" in text_of(second)
    buttons = [a for a in action_ids(second.blocks) if a.startswith("qbsync.diagnose")]
    before = len(bot.messages())
    bot.click(second, buttons[0])
    wait_for(lambda: len(bot.messages()) > before, what="a diagnosis posted in the channel")


def test_retry_all_shows_progress_and_ends_with_a_summary(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load(f"R-{i}") for i in range(6)])
    emu.add_fault("503", count=3, method="POST", path_contains="/batch")  # one batch of 6, tried 3 times
    bot.services.sync.sync_many(None, trigger="test")
    bot.command("problems")
    listing = wait_for(lambda: bot.last_message(lambda m: "problem invoice" in text_of(m)))
    assert "qbsync.retry_all" in action_ids(listing.blocks)
    bot.click(listing, "qbsync.retry_all")
    summary = wait_for(lambda: bot.last_message(lambda m: "✅ Retried" in text_of(m)))
    assert "6 synced, 0 still need you" in text_of(summary)
    assert len(qb_invoices(bot.services.api)) == 6
    assert bot.slack.calls("chat.postMessage") and bot.slack.calls("chat.update")


def test_status_says_connected_and_counts_problems(bot, engine):
    qb_company(bot.services.api)
    tms(
        engine,
        [a_load("S-1"), a_load("S-2", customer="C-999")],
        customers=[*CUSTOMERS, NOBODY],
    )
    bot.services.sync.sync_many(None, trigger="test")
    bot.command("status")
    message = wait_for(lambda: bot.last_message(lambda m: "qbsync status" in text_of(m)))
    text = text_of(message)
    assert "Connected" in text and "2 (1 synced)" in text and "customer is not synced" in text


def test_status_offers_connect_when_not_connected(make_bot, svc):
    bot = make_bot(svc)
    bot.command("status")
    message = wait_for(lambda: bot.last_message(lambda m: "qbsync status" in text_of(m)))
    assert "Not connected" in text_of(message) and "fix.connect" in action_ids(message.blocks)


def test_retry_command_syncs_once(bot, engine):
    qb_company(bot.services.api)
    tms(engine, [a_load("T-1")])
    bot.command("retry T-1")
    message = wait_for(lambda: bot.last_message(lambda m: "*T-1* synced" in text_of(m)))
    assert message.ephemeral_for is None, "the outcome is shown to the channel"
    assert len(qb_invoices(bot.services.api, "T-1")) == 1


def test_people_outside_the_fixers_are_refused_politely(make_bot, connected, engine):
    bot = make_bot(connected, fixers=(CLERK,))
    qb_company(connected.api)
    tms(engine, [a_load("F-1")])
    bot.command("retry F-1", user=OUTSIDER)
    refusal = wait_for(lambda: bot.last_message(lambda m: "Nothing was changed" in text_of(m)))
    assert refusal.ephemeral_for == OUTSIDER and f"<@{CLERK}>" in text_of(refusal)
    assert qb_invoices(connected.api) == []


def test_ten_concurrent_clicks_of_one_retry_button_make_one_invoice(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load("C-1")])
    emu.add_fault("503", count=3, method="POST", path_contains="/invoice")
    bot.services.sync.sync_load("C-1", trigger="test")
    message = diagnosed(bot, "C-1")
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: bot.click(message, "fix.retry"), range(10)))
    assert statuses == [200] * 10

    def answered() -> list:  # each click's outcome (its "Running…" note left out), once all ten are in
        said = [c for c in bot.slack.calls("response_url") if "started by" not in str(c.args)]
        return said if len(said) >= 10 else []

    wait_for(answered, timeout=30, what="every click answered")  # fixes of one load run one at a time
    assert len(qb_invoices(bot.services.api, "C-1")) == 1


@pytest.mark.parametrize("forgery", ["unsigned", "wrong secret", "stale", "replayed"])
def test_forged_requests_are_refused_with_401_and_run_nothing(bot, engine, forgery):
    tms(engine, [a_load("X-1")])
    body = slash_command_body(
        "/qbsync",
        "retry X-1",
        user_id=CLERK,
        channel_id="C0BILLING1",
        response_url=bot.slack.new_response_url("C0BILLING1", CLERK),
    )
    headers = signed_headers(SECRET, body)
    if forgery == "unsigned":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    elif forgery == "wrong secret":
        headers = signed_headers("not-the-secret", body)
    elif forgery == "stale":
        headers = signed_headers(SECRET, body, timestamp=int(time.time()) - 600)
    else:  # a captured signature sent again with a fresh timestamp
        headers["X-Slack-Request-Timestamp"] = str(int(time.time()) + 1)
    import requests

    answer = requests.post(f"{bot.url}/slack/events", data=body.encode(), headers=headers, timeout=5)
    assert answer.status_code == 401
    time.sleep(0.3)
    assert bot.slack.calls("response_url") == [] and qb_invoices(bot.services.api) == []


def test_oversized_and_unknown_requests_are_refused_plainly(bot):
    import requests

    big = requests.post(f"{bot.url}/slack/events", data=b"x" * (2 * 1024 * 1024), timeout=5)
    assert big.status_code == 413
    assert requests.get(f"{bot.url}/nope", timeout=5).status_code == 404
    health = requests.get(f"{bot.url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"


def test_an_unexpected_error_reaches_the_user_with_an_error_id(make_bot, settings, tmp_path, caplog):
    from services.store.storage import make_engine
    from wiring.services import bootstrap

    broken = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # as a bug or a lost database would
    bot = make_bot(bootstrap(settings, engine=broken))
    bot.command("status")
    message = wait_for(lambda: bot.last_message(lambda m: "error id" in text_of(m)))
    error_id = text_of(message).split("error id `")[1][:8]
    assert message.ephemeral_for == CLERK and "Traceback" not in text_of(message)
    assert error_id in caplog.text
    broken.dispose()


def test_a_request_is_acknowledged_before_slow_work(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load("Q-1")])
    emu.configure(latency_ms=400)  # every QuickBooks answer takes 0.4 s
    try:
        started = time.monotonic()
        status, _ = bot.command("Q-1")
        assert status == 200 and time.monotonic() - started < 2.5
        wait_for(lambda: bot.last_message(lambda m: "Q-1" in text_of(m) and m.ephemeral_for is None))
    finally:
        emu.configure(latency_ms=0)


def test_signed_request_helper_matches_bolt(bot):
    body = slash_command_body("/qbsync", "help", user_id=CLERK)
    status, _headers, answer = post_to_app(f"{bot.url}/slack/events", body, SECRET)
    assert status == 200 and "qbsync" in answer


def test_an_unknown_load_is_answered_only_to_the_person_who_typed_it(bot, engine):
    tms(engine, [a_load("HB-2003")])
    bot.command("HB-2OO3")
    message = wait_for(lambda: bot.last_message(lambda m: "No load" in text_of(m)))
    assert message.ephemeral_for == CLERK


def test_the_app_home_shows_the_status_once_per_event(bot, engine):
    from emulator.slack import event_callback_body

    tms(engine, [a_load("H-1")])
    body = event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}, event_id="Ev0001")
    for _ in range(2):  # Slack retries an event it thinks was not answered in time
        status, _headers, _answer = post_to_app(f"{bot.url}/slack/events", body, SECRET)
        assert status == 200
    home = wait_for(lambda: bot.slack.home(CLERK))
    assert "qbsync status" in str(home["blocks"]) and "Connected" in str(home["blocks"])
    time.sleep(0.3)
    assert len(bot.slack.calls("views.publish")) == 1
