"""The daily digest posted through the real WebClient to the Slack stand-in: at 08:00 in its time zone on
both sides of a daylight-saving change, once per channel and day however many schedulers run, completed
once after a crash at any step, with the right counts over three days and a chart of the right series."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from PIL import Image
from slack_sdk import WebClient

from bot.digest_channel import chart_filename
from bot.views.chart import SERIES_KEY
from bot.views.digest import digest_metadata
from emulator.slack import validate_blocks
from services.digest import posts as digest_posts
from services.digest.posting import DigestPoster, daily_digest
from services.scheduler.jobs import digest_trigger
from services.store.models import DigestPost
from tests.builders import load as a_load
from tests.builders import qb_company, qb_customer, qb_item, tms
from tests.slack.conftest import text_of
from wiring.services import bootstrap
from wiring.slack import digest_poster

CHANNEL = "C0DIGEST01"
CHICAGO = ZoneInfo("America/Chicago")


def client_for(slack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def poster_for(services, slack, *, tz: str = "America/Chicago", now=None) -> DigestPoster:
    extra = {"now": now} if now else {}
    return digest_poster(services, client_for(slack), channel=CHANNEL, tz=tz, at=dt.time(8, 0), **extra)


def digests(slack) -> list:
    return [m for m in slack.messages(CHANNEL) if not m.deleted and "Invoice sync digest" in m.text]


def charts(slack) -> list:
    return [m for m in slack.messages(CHANNEL) if m.files]


def series_of(slack, message) -> list[dict]:
    image = Image.open(io.BytesIO(slack.file_content(message.files[0]["id"])))
    assert image.format == "PNG" and image.size == (1200, 600)
    return json.loads(image.text[SERIES_KEY])


def lapse(engine) -> None:
    """The claim's holder stopped (a crash): its lease runs out."""
    with engine.begin() as conn:
        conn.execute(
            DigestPost.__table__.update().values(claimed_until=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHICAGO)


def test_the_digest_fires_at_eight_in_chicago_on_both_sides_of_each_dst_change():
    trigger = digest_trigger("08:00", "America/Chicago")
    for first_day in (dt.date(2027, 3, 13), dt.date(2027, 11, 6)):  # the day before each change
        fire = trigger.get_next_fire_time(None, local(first_day, 0))
        seen = []
        for _ in range(3):
            seen.append(fire)
            fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        assert [f.astimezone(CHICAGO).strftime("%m-%d %H:%M") for f in seen] == [
            (first_day + dt.timedelta(days=i)).strftime("%m-%d 08:00") for i in range(3)
        ]
        offsets = [f.utcoffset() for f in seen]
        assert offsets[0] != offsets[1] == offsets[2]  # the clock changed, the digest time did not


def test_a_digest_goes_out_at_eight_local_after_spring_forward(svc, slack):
    day = dt.date(2027, 3, 14)  # 02:00 CST became 03:00 CDT this morning
    with time_machine.travel(local(day, 7, 59), tick=True):
        assert daily_digest(poster_for(svc, slack)).startswith("not yet")
    with time_machine.travel(local(day, 8, 0), tick=True):
        assert "posted (all clear)" in daily_digest(poster_for(svc, slack))
    [message] = digests(slack)
    assert abs(float(message.ts) - local(day, 8).timestamp()) < 60  # 13:00 UTC, not 14:00
    assert "All clear" in text_of(message) and "Connect QuickBooks" in text_of(message)
    assert validate_blocks(message.blocks, "message") == []


def test_two_schedulers_on_one_database_post_one_digest(connected, slack, settings):
    both = [bootstrap(settings) for _ in range(2)]
    posters = [poster_for(services, slack, tz="UTC") for services in both]
    for poster in posters:
        poster.at = dt.time(0, 0)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run(poster):
        start.wait()
        outcomes.append(daily_digest(poster))

    threads = [threading.Thread(target=run, args=(p,)) for p in posters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(digests(slack)) == 1 and len(charts(slack)) == 1, outcomes
    assert sum(": posted (" in o for o in outcomes) == 1
    assert "already posted" in daily_digest(posters[0])
    assert len(slack.calls("chat.postMessage")) == 1
    for services in both:
        services.close()


def test_a_crash_after_the_claim_and_before_the_post_completes_once(connected, slack, engine):
    now = dt.datetime.now(dt.UTC)
    day = now.date()
    poster = poster_for(connected, slack, tz="UTC")
    poster.at = dt.time(0, 0)
    digest_posts.claim(engine, CHANNEL, day, now=now - dt.timedelta(hours=1))  # its lease has run out
    assert "posted" in daily_digest(poster)
    assert "already posted" in daily_digest(poster)
    assert len(digests(slack)) == 1 and len(charts(slack)) == 1
    [row] = digest_posts.posted(engine, CHANNEL)
    assert row["ts"] == digests(slack)[0].ts and row["finished_at"] is not None


def test_a_crash_after_the_post_and_before_its_ts_was_recorded_posts_no_second_message(
    connected, slack, engine
):
    now = dt.datetime.now(dt.UTC)
    day = now.date()
    poster = poster_for(connected, slack, tz="UTC")
    poster.at = dt.time(0, 0)
    held = digest_posts.claim(engine, CHANNEL, day, now=now - dt.timedelta(hours=1))
    digest_posts.mark_posting(engine, held, {"open": 0})
    posted = client_for(slack).chat_postMessage(  # what the crashed run had sent
        channel=CHANNEL, text="Invoice sync digest: all clear.", metadata=digest_metadata(CHANNEL, day)
    )
    lapse(engine)
    outcome = daily_digest(poster)
    assert "found the message an interrupted run had posted" in outcome and "chart uploaded" in outcome
    assert [m.ts for m in digests(slack)] == [posted["ts"]]
    assert len(charts(slack)) == 1
    [row] = digest_posts.posted(engine, CHANNEL)
    assert row["ts"] == posted["ts"]


def test_a_crash_after_the_chart_upload_adopts_the_uploaded_chart(connected, slack, engine):
    now = dt.datetime.now(dt.UTC)
    day = now.date()
    poster = poster_for(connected, slack, tz="UTC")
    poster.at = dt.time(0, 0)
    held = digest_posts.claim(engine, CHANNEL, day, now=now - dt.timedelta(hours=1))
    digest_posts.mark_posting(engine, held, {"open": 0})
    digest_posts.record_ts(engine, held, client_for(slack).chat_postMessage(channel=CHANNEL, text="x")["ts"])
    digest_posts.mark_chart_posting(engine, held)
    uploaded = client_for(slack).files_upload_v2(
        channel=CHANNEL, content=b"png", filename=chart_filename(day)
    )
    lapse(engine)
    assert daily_digest(poster).endswith("finished")
    assert len(charts(slack)) == 1
    [row] = digest_posts.posted(engine, CHANNEL)
    assert row["chart_file_id"] == uploaded["file"]["id"]


@pytest.fixture
def three_days():
    first = (dt.datetime.now(CHICAGO) + dt.timedelta(days=3)).date()
    return [first + dt.timedelta(days=i) for i in range(3)]


def test_new_resolved_and_open_over_three_days_and_the_chart(connected, slack, engine, three_days):
    day1, day2, day3 = three_days
    qb = qb_company(connected.api)
    customers = [
        {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
        {"id": "C-300", "name": "Coastal Grain", "qb_email": "ap@coastal.example"},
    ]
    codes = [
        {"code": "BASE", "name": "Base Price"},
        {"code": "FSC", "name": "Fuel Surcharge"},
        {"code": "DET", "name": "Detention"},
    ]
    with time_machine.travel(local(day1, 7), tick=True):
        tms(
            engine,
            [a_load("A-1"), a_load("B-1", customer="C-300"), a_load("C-1", charges=[("DET", "75.00")])],
            customers=customers,
            charge_codes=codes,
        )
        connected.sync.sync_many(None, trigger="test")  # A synced; B customer, C charge code
    with time_machine.travel(local(day1, 8), tick=True):
        daily_digest(poster_for(connected, slack))
    with time_machine.travel(local(day1, 12), tick=True):
        qb_item(connected.api, "Detention")
        connected.sync.sync_load("C-1", trigger="test")  # resolved
        tms(engine, [a_load("D-1", customer="C-300")], customers=customers, charge_codes=codes)
        connected.sync.sync_load("D-1", trigger="test")  # new
    with time_machine.travel(local(day2, 8), tick=True):
        daily_digest(poster_for(connected, slack))
    with time_machine.travel(local(day2, 12), tick=True):
        customer = qb_customer(connected.api, "Coastal Grain", "ap@coastal.example")
        assert customer["Id"] not in {c["Id"] for c in qb["customers"].values()}
        connected.sync.sync_load("B-1", trigger="test")  # resolved
    with time_machine.travel(local(day3, 8), tick=True):
        daily_digest(poster_for(connected, slack))
        daily_digest(poster_for(connected, slack))  # the catch-up run: nothing more
    rows = digest_posts.posted(engine, CHANNEL)
    assert [(r["day"], r["counts"]["open"], r["counts"]["new"], r["counts"]["resolved"]) for r in rows] == [
        (day1, 2, 2, 0),
        (day2, 2, 1, 1),
        (day3, 1, 0, 1),
    ]
    assert [r["counts"]["total_amount"] for r in rows] == ["1052.50", "1955.00", "977.50"]
    posted = digests(slack)
    assert len(posted) == 3 and len(charts(slack)) == 3
    last = text_of(posted[-1])
    assert "1 problem invoice" in last and "$977.50" in last and "Diagnose D-1" in str(posted[-1].blocks)
    assert "Link customer" in last  # the fix a person makes for customer_not_synced
    series = series_of(slack, charts(slack)[-1])
    assert len(series) == 14 and series[-1]["day"] == day3.isoformat()
    assert [(p["open"], p["amount"]) for p in series[-4:]] == [
        (0, "0.00"),  # the day before: nothing had been tried
        (2, "1955.00"),  # day 1 ends with B and D open (C resolved at noon)
        (1, "977.50"),  # day 2 ends with D open
        (1, "977.50"),  # today, live
    ]
    assert all(p["open"] == 0 for p in series[:-3])
