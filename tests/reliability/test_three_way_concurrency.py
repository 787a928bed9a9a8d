"""Two ``qbsync sync --all`` processes and ``serve`` answering Retry (slash commands and button clicks
through Slack over HTTP) at once, over 1,000 loads: every load is pushed to QuickBooks exactly once,
both runs end cleanly and every Retry is answered with what it found. QuickBooks' minute (its request
budgets, and qbsync's limiter) lasts a second here: at Intuit's real budgets the Retries' diagnoses
alone use up the 40 batch requests a minute, and the runs wait a minute for the next ones."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import time

import pytest
from sqlmodel import Session, select

from services.settings import get_settings
from services.store.models import Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.reliability.test_sqlite_concurrency import finish, start
from tests.slack.conftest import wait_for
from tests.slack.test_fix_flows import diagnosed

pytestmark = pytest.mark.reliability

SIZE = 1000
PROCESSES = 2
RETRIERS = 8  # people pressing Retry at the same moment
SCALE = 60  # QuickBooks' minute lasts 1 s here (its limits, and qbsync's limiter, scaled alike)


@pytest.fixture
def scaled(emu, env, monkeypatch):
    """The emulator and every qbsync (the processes and ``serve``) with QuickBooks' minute scaled."""
    emu.configure(rate_limit=500 * SCALE, batch_rate_limit=40 * SCALE)
    monkeypatch.setenv("QBSYNC_QBO_TIME_SCALE", str(SCALE))
    get_settings.cache_clear()
    yield
    emu.configure(rate_limit=500, batch_rate_limit=40)


def both_ends(numbers: list[str]) -> list[str]:
    """First, last, second, second to last…: Retry runs behind the processes at the low end and ahead of
    them at the high end, and meets them in the middle."""
    ends = [n for pair in zip(numbers, reversed(numbers), strict=True) for n in pair]
    return list(dict.fromkeys(ends))


def kind(number: str, answer: str) -> str:
    if f"Load {number} is synced" in answer:
        return "synced"
    return "pushed elsewhere" if "is being pushed right now" in answer else answer


def pushed(engine) -> bool:
    with Session(engine) as session:
        return session.exec(select(SyncAttempt.id).where(SyncAttempt.trigger == "cli")).first() is not None


def test_two_sync_all_processes_and_serve_retrying_push_each_load_once(
    scaled, env, settings, connected, make_bot, engine, emu
):
    from wiring.services import bootstrap

    # ``serve``: the Bolt app over HTTP with its services built as ``qbsync serve`` builds them.
    bot = make_bot(bootstrap(settings.model_copy(update={"qbo_time_scale": SCALE}), engine=engine))
    assert env["DATABASE_URL"] == bot.services.settings.database_url  # the processes' database
    assert env["QBO_API_BASE_URL"] == bot.services.settings.qbo_api_base_url == emu.api_base
    qb_company(connected.api)
    numbers = [f"L-{n:04d}" for n in range(SIZE)]
    tms(engine, [a_load(n) for n in numbers])
    retried = numbers[3::7]  # 143 loads across the whole range
    clicked = retried[::3]  # a third by the Retry button of their diagnosis, the rest by /qbsync retry
    diagnoses = {number: diagnosed(bot, number) for number in clicked}
    bot.slack.clear()

    def retry(number: str) -> int:
        if number in diagnoses:
            return bot.click(diagnoses[number], "fix.retry")
        status, _answer = bot.command(f"retry {number}")
        return status

    def answers() -> dict[str, list[str]]:  # what each Retry said last ("Running…" notes left out)
        said = collections.defaultdict(list)
        for call in bot.slack.calls("response_url"):
            text = str(call.args.get("text") or "")
            if text.startswith("Retry on "):
                said[text.removeprefix("Retry on ").split(":", 1)[0]].append(text)
        return said

    started = time.monotonic()
    procs = [start("sync", "--all", "--json") for _ in range(PROCESSES)]
    wait_for(lambda: pushed(engine), 60, "the processes to start pushing")  # then Retry, meanwhile
    with concurrent.futures.ThreadPoolExecutor(RETRIERS) as pool:
        statuses = list(pool.map(retry, both_ends(retried)))
    runs = finish(procs)
    answered = wait_for(lambda: len(a := answers()) >= len(retried) and a, 60, "every Retry answered")
    elapsed = time.monotonic() - started

    assert statuses == [200] * len(retried)
    for code, _out, err in runs:
        assert code == 0 and err == "", (code, err[-2000:])
    states: dict[str, set[str]] = collections.defaultdict(set)
    for _, out, _ in runs:
        for result in json.loads(out)["results"]:
            states[result["load_number"]].add(result["state"])
    assert sorted(states) == numbers  # the first run listed every load (no Retry before it began)
    assert set().union(*states.values()) <= {"synced", "pending"}  # pending: being pushed by another
    assert sorted(answered) == retried and all(len(said) == 1 for said in answered.values()), answered
    slow_down = "QuickBooks asked us to slow down"
    kinds = collections.Counter(
        "told to slow down" if slow_down in said[0] else kind(number, said[0])
        for number, said in answered.items()
    )
    # The company's minute is shared by every process: a person's Retry that finds it spent by two bulk
    # syncs at QuickBooks' ceiling is told so after its 3 s, nothing sent (the load is pushed by them).
    assert set(kinds) <= {"synced", "pushed elsewhere", "told to slow down"}, kinds
    assert kinds["told to slow down"] <= len(retried) // 10, kinds
    errors = [c.args for c in bot.slack.calls("response_url") if "error id" in str(c.args.get("text"))]
    assert not errors, errors[:3]

    invoices = qb_invoices(connected.api)
    counts = collections.Counter(invoice.get("DocNumber") for invoice in invoices)
    duplicated = [n for n, count in counts.items() if count > 1]
    assert not duplicated and sorted(counts) == numbers, (duplicated[:5], len(invoices))
    with Session(engine) as session:
        rows = session.exec(select(Load.id, Load.load_number, Load.state, Load.qb_invoice_id)).all()
        attempts = session.exec(select(SyncAttempt)).all()
    assert len(rows) == SIZE
    unsynced = [(number, state) for _, number, state, _ in rows if state != "synced"]
    assert not unsynced, unsynced[:5]
    assert sorted(qb_id for *_, qb_id in rows) == sorted(invoice["Id"] for invoice in invoices)
    refused = [(a.load_id, a.reasons, a.qb_error_code) for a in attempts if a.outcome != "synced"]
    assert not refused, refused[:5]  # no create refused as a duplicate (6140), nothing else failed
    sent = collections.Counter(a.load_id for a in attempts if a.request_id)  # attempts that sent a create
    assert sorted(sent) == sorted(load_id for load_id, *_ in rows) and set(sent.values()) == {1}
    stats = emu.stats()  # QuickBooks' count of single creates (Retry's path; batches also hold reads)
    creates = stats["realms"][emu.realm_id]["requests"].get("invoice", {}).get("POST", 0)
    by_retry = sum(1 for a in attempts if a.request_id and a.trigger == "fix:retry")
    assert by_retry <= creates <= by_retry + stats["throttled"], stats  # one each (or answered 429)
    print(
        f"FIGURE three-way: {SIZE} loads, {PROCESSES} sync --all processes and serve answering "
        f"{len(retried)} Retry requests ({len(clicked)} clicks, {len(retried) - len(clicked)} slash "
        f"commands; {kinds['synced']} answered synced, {kinds['pushed elsewhere']} being pushed by "
        f"another) at once: {len(invoices)} invoices, {len(duplicated)} duplicates, every load synced, "
        f"created once each ({len(sent) - by_retry} in batches, {by_retry} by a Retry); {elapsed:.1f} s"
    )
