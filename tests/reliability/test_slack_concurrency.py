"""50 people (or one impatient one) press Retry on one load at once, through Slack over real HTTP:
QuickBooks gets one invoice, and every click is answered."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.slack.conftest import wait_for
from tests.slack.test_fix_flows import diagnosed

pytestmark = pytest.mark.reliability


def test_fifty_concurrent_retry_clicks_on_one_load_make_one_invoice(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load("C-50")])
    emu.add_fault("503", count=3, method="POST", path_contains="/invoice")
    bot.services.sync.sync_load("C-50", trigger="test")  # a problem: the Retry button is shown
    message = diagnosed(bot, "C-50")
    bot.slack.clear()
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda _: bot.click(message, "fix.retry"), range(50)))
    assert statuses == [200] * 50
    wait_for(lambda: len(qb_invoices(bot.services.api, "C-50")) == 1, what="the invoice")

    def outcomes() -> list:  # each click is answered "Running…" first, then with what it found
        return [c for c in bot.slack.calls("response_url") if "started by" not in str(c.args)]

    answered = wait_for(lambda: len(outcomes()) >= 50, timeout=60, what="every click answered")
    time.sleep(0.5)  # let any straggler finish: still one
    invoices = qb_invoices(bot.services.api, "C-50")
    assert len(invoices) == 1 and answered
    synced = sum("synced" in str(c.args) for c in outcomes())
    assert synced >= 1, "at least the click that pushed it says synced; the others may say it was running"
    assert bot.services.sync.current_result("C-50").state == "synced"
    print(
        f"FIGURE retry-clicks: 50 concurrent Retry clicks through Slack, {len(invoices)} invoice, 50 answered"
    )
