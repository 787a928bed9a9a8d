"""Two "Retry all" runs of 500 loads each, pressed at once while Slack rate-limits ``chat.update`` (the
stand-in's Tier 3, its minute scaled to a few seconds, its budget kept spent by another busy user of the
same app): every load is retried, Slack did refuse updates, and each run still ends with its summary (a
429 on the summary is retried after Retry-After). The sync times with and without Slack progress are
printed as a FIGURE; their ratio (target ≤ 1.10) is checked by ``benchmarks/retry_all_progress.py``
(``.venv/bin/python -m benchmarks.retry_all_progress``), never asserted here."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from services.store.models import Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CHANNEL, text_of, wait_for

pytestmark = pytest.mark.reliability

RUN = 500  # loads per Retry all
SCALE = 60  # QuickBooks' minute lasts 1 s here (the emulator's limits and qbsync's limiter alike)
SLACK_MINUTE = 6.0  # the stand-in's minute: Tier 3 is 50 chat.update calls in any 6 s
BUSY_CHANNEL = "C0BUSY0001"
UNAVAILABLE, REJECTED = "qb_unavailable", "qb_validation_error"


@pytest.fixture
def fast_quickbooks(emu, settings, engine, connected):
    from services.quickbooks import RetryPolicy
    from wiring.services import bootstrap

    emu.configure(rate_limit=500 * SCALE, batch_rate_limit=40 * SCALE)
    services = bootstrap(
        settings.model_copy(update={"qbo_time_scale": float(SCALE)}),
        engine=engine,
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
    )
    yield services
    emu.configure(rate_limit=500, batch_rate_limit=40)


def numbers(prefix: str) -> list[str]:
    return [f"{prefix}-{n:03d}" for n in range(RUN)]


def batches(count: int) -> int:
    return -(-count // 30)


def span(engine, prefixes: tuple[str, ...]) -> tuple[int, float]:
    """How many attempts the loads of ``prefixes`` have (the setup's aside), and the seconds from the
    first recorded to the last."""
    attempts, loads = SyncAttempt.__table__, Load.__table__
    ours = sa.or_(*[loads.c.load_number.like(f"{p}-%") for p in prefixes])
    query = (
        sa.select(sa.func.count(), sa.func.min(attempts.c.started_at), sa.func.max(attempts.c.finished_at))
        .select_from(attempts.join(loads, loads.c.id == attempts.c.load_id))
        .where(ours, attempts.c.trigger.not_like("setup%"))
    )
    with engine.connect() as conn:
        count, first, last = conn.execute(query).one()
    return count, ((last - first).total_seconds() if count else 0.0)


class BusyUser(threading.Thread):
    """Another busy part of the same app: keeps ``chat.update``'s Tier 3 budget spent, waiting out each
    Retry-After, until stopped."""

    def __init__(self, slack) -> None:
        super().__init__(daemon=True)
        self.web = WebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
        self.posted = self.web.chat_postMessage(channel=BUSY_CHANNEL, text="busy")
        self.stop = threading.Event()
        self.refused = 0

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.web.chat_update(channel=BUSY_CHANNEL, ts=self.posted["ts"], text=f"busy {n}")
            except SlackApiError as exc:
                self.refused += 1
                self.stop.wait(float(exc.response.headers.get("Retry-After", "1")) / 2)


def make_problems(services, engine, emu) -> None:
    """Four groups of 500 problem loads: A and C answered 503 (qb_unavailable), B and D refused by a
    QuickBooks validation fault (qb_validation_error)."""
    qb_company(services.api)
    unavailable, rejected = numbers("A") + numbers("C"), numbers("B") + numbers("D")
    tms(engine, [a_load(n) for n in unavailable + rejected])
    emu.add_fault("503", count=batches(len(unavailable)) * 3, method="POST", path_contains="/batch")
    results = services.sync.sync_many(unavailable, trigger="setup")
    assert {r.reasons[0].code for r in results} == {UNAVAILABLE}
    emu.add_fault("fault", count=batches(len(rejected)), method="POST", path_contains="/batch", code="6000")
    results = services.sync.sync_many(rejected, trigger="setup")
    assert {r.reasons[0].code for r in results} == {REJECTED}, {r.reasons[0].code for r in results}


def test_two_retry_alls_under_slack_rate_limits_slow_no_sync(make_bot, fast_quickbooks, engine, emu, slack):
    services = fast_quickbooks
    make_problems(services, engine, emu)

    # Without Slack progress: the same two runs (groups A and B), at once.
    runs = [
        threading.Thread(target=services.sync.sync_many, args=(numbers(p),), kwargs={"trigger": f"base:{p}"})
        for p in ("A", "B")
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert span(engine, ("A", "B"))[0] == 2 * RUN
    without = span(engine, ("A",))[1] + span(engine, ("B",))[1]  # each run from its first to last load

    # With Slack progress, rate tiers on and chat.update's budget kept spent: groups C and D.
    slack.use_rate_tiers(minute=SLACK_MINUTE)
    bot = make_bot(services)
    busy = BusyUser(slack)
    busy.start()
    try:
        bot.command("problems")
        listing = wait_for(lambda: bot.last_message(lambda m: "problem invoice" in text_of(m)))
        for code in (UNAVAILABLE, REJECTED):
            assert bot.click(listing, "qbsync.retry_all", value=code) == 200
        wait_for(lambda: span(engine, ("C", "D"))[0] >= 2 * RUN, timeout=120, what="both runs recorded")
    finally:
        busy.stop.set()
        busy.join(10)
    with_slack = span(engine, ("C",))[1] + span(engine, ("D",))[1]

    def summaries() -> list:
        found = [m for m in bot.messages(CHANNEL) if "✅ Retried" in text_of(m)]
        return found if len(found) == 2 else []

    shown = wait_for(summaries, timeout=90, what="both summaries")
    said = "\n".join(text_of(m) for m in shown)
    assert "500 synced" in said, said
    refused = [c for c in slack.calls("chat.update") if c.status == 429]
    ratio = with_slack / without if without else float("inf")
    print(
        f"FIGURE retry-all progress: two runs of {RUN} loads with chat.update rate-limited "
        f"({len(refused)} updates refused 429, the busy user {busy.refused}) took {with_slack:.2f} s "
        f"(the two runs' sync times added) against {without:.2f} s without Slack progress "
        f"(ratio {ratio:.2f}); both summaries shown"
    )
    assert refused or busy.refused, "Slack did rate-limit chat.update"
