"""QuickBooks' own changes, read by change data capture: the first catch-up reads every synced invoice
back, the next ones only what changed (requests in proportion to the changes); a deletion, an edited
total, an invoice moved to another customer, a customer made inactive reach the loads, once each,
with a notice queued per problem."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.store.changes import QboNotice
from tests.builders import load as a_load
from tests.builders import qb_company, tms


def codes(result):
    return [r.code for r in result.reasons]


def synced(connected, engine, numbers):
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in numbers])
    return {r.load_number: r for r in connected.sync.sync_many(numbers, trigger="test")}


def notices(engine):
    with engine.connect() as conn:
        table = QboNotice.__table__
        return conn.execute(sa.select(table.c.load_number, table.c.code, table.c.text)).all()


def test_first_catch_up_reads_everything_then_only_changes(connected, engine, emu):
    results = synced(connected, engine, ["L-7001", "L-7002", "L-7003"])
    feed = connected.changes
    first = feed.catch_up(trigger="test")
    assert first.mode == "full"
    gone = connected.api.read("Invoice", results["L-7001"].qb_invoice_id)
    connected.api.delete("Invoice", gone["Id"], gone["SyncToken"])
    edited = connected.api.read("Invoice", results["L-7002"].qb_invoice_id)
    lines = [line for line in edited["Line"] if line.get("DetailType") == "SalesItemLineDetail"][:1]
    connected.api.update(
        "Invoice", {"Id": edited["Id"], "SyncToken": edited["SyncToken"], "sparse": True, "Line": lines}
    )
    before = connected.api.request_count
    second = feed.catch_up(trigger="test")
    assert second.mode == "changes"
    assert connected.api.request_count - before == 1, "one change data capture request"
    found = {result.load_number: reason.code for result, reason in second.found.problems}
    assert found == {"L-7001": "qb_invoice_deleted", "L-7002": "amount_mismatch"}
    assert {(n.load_number, n.code) for n in notices(engine)} == set(found.items())
    assert "Clear QuickBooks ID" in next(n.text for n in notices(engine) if n.load_number == "L-7001")

    third = feed.catch_up(trigger="test")  # the same changes again (overlap): nothing new
    assert third.found.problems == [] and len(notices(engine)) == 2
    assert connected.sync.current_result("L-7003").state == "synced"


def test_a_total_put_right_in_quickbooks_settles_the_load(connected, engine, emu):
    results = synced(connected, engine, ["L-7011"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    invoice = connected.api.read("Invoice", results["L-7011"].qb_invoice_id)
    original = invoice["Line"]
    lines = [line for line in original if line.get("DetailType") == "SalesItemLineDetail"][:1]
    changed = connected.api.update(
        "Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"], "sparse": True, "Line": lines}
    )
    assert [r.code for _, r in feed.catch_up(trigger="test").found.problems] == ["amount_mismatch"]
    back = [line for line in original if line.get("DetailType") == "SalesItemLineDetail"]
    connected.api.update(
        "Invoice", {"Id": invoice["Id"], "SyncToken": changed["SyncToken"], "sparse": True, "Line": back}
    )
    done = feed.catch_up(trigger="test")
    assert done.found.settled == ["L-7011"]
    assert connected.sync.current_result("L-7011").state == "synced"


def test_an_invoice_moved_to_another_customer_in_quickbooks(connected, engine, emu):
    results = synced(connected, engine, ["L-7021"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    other = connected.api.create("Customer", {"DisplayName": "Someone Else Trucking"})
    invoice = connected.api.read("Invoice", results["L-7021"].qb_invoice_id)
    connected.api.update(
        "Invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "CustomerRef": {"value": other["Id"]},
        },
    )
    done = feed.catch_up(trigger="test")
    [(result, reason)] = done.found.problems
    assert reason.code == "customer_changed" and "Someone Else Trucking" in reason.summary
    assert reason.evidence["changed_in"] == "quickbooks"
    fixed = connected.fixer.apply("L-7021", "push_customer_change", actor="test")
    assert fixed.outcome == "applied", fixed
    assert (
        connected.api.read("Invoice", invoice["Id"])["CustomerRef"]["value"]
        == invoice["CustomerRef"]["value"]
    )


def test_a_customer_made_inactive_blocks_its_waiting_loads_before_they_fail(connected, engine, emu):
    synced(connected, engine, ["L-7031"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    tms(engine, [a_load("L-7032")])  # same customer, not synced yet
    customer_id = connected.sync.current_result("L-7031")
    from services.sync.loads import read_view

    view = read_view(engine, "L-7031")
    qb_customer = connected.api.read("Customer", view.customer.qb_customer_id)
    connected.api.update(
        "Customer",
        {"Id": qb_customer["Id"], "SyncToken": qb_customer["SyncToken"], "sparse": True, "Active": False},
    )
    done = feed.catch_up(trigger="test")
    assert [(reason.code, numbers) for reason, numbers in done.found.blocked] == [
        ("customer_not_synced", ["L-7032"])
    ]
    assert customer_id.state == "synced"
    assert connected.sync.current_result("L-7032").state == "problem"
    assert any("waiting to sync will not" in n.text for n in notices(engine))
    assert feed.catch_up(trigger="test").found.blocked == [], "once"


def test_a_point_older_than_thirty_days_reads_everything_again(connected, engine, emu):
    synced(connected, engine, ["L-7041"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    realm = connected.connection.status().realm_id
    feed._reached(realm, dt.datetime.now(dt.UTC) - dt.timedelta(days=31), full=False, objects=0)
    assert feed.catch_up(trigger="test").mode == "full"


def test_a_voided_invoice_is_cleared_then_sent_under_another_number(connected, engine, emu):
    import requests

    results = synced(connected, engine, ["L-7051"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    invoice = connected.api.read("Invoice", results["L-7051"].qb_invoice_id)
    grant = emu.issue_tokens()
    voided = requests.post(
        f"{emu.api_base}/company/{grant['realm_id']}/invoice?operation=void",
        json={"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]},
        headers={"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert voided.status_code == 200, voided.text
    [(result, reason)] = feed.catch_up(trigger="test").found.problems
    assert reason.code == "qb_invoice_voided" and reason.fixes == ["clear_qb_id", "dismiss"]
    cleared = connected.fixer.apply("L-7051", "clear_qb_id", actor="test", admin=True)
    assert cleared.outcome == "applied" and "another number" in cleared.message, cleared
    held = connected.diagnoser.diagnose("L-7051")
    assert [r.code for r in held.reasons] == ["duplicate_load_number"]
    assert held.reasons[0].evidence["voided"] is True and held.reasons[0].fixes == ["set_doc_number"]
    renumbered = connected.fixer.apply("L-7051", "set_doc_number", actor="test", doc_number="L-7051-R")
    assert renumbered.outcome == "applied", renumbered
    after = connected.sync.current_result("L-7051")
    assert after.state == "synced" and after.qb_invoice_id != invoice["Id"]


def test_the_interval_is_kept_to_the_tick_not_a_tick_late(connected, engine, emu):
    """The point is stamped a moment after the tick that started the catch-up: a job ticking every 10 s
    with a 60 s interval catches up on the sixth tick after, not the seventh."""
    from services.scheduler.changes import TICK

    synced(connected, engine, ["L-7061"])
    feed = connected.changes
    feed.catch_up(trigger="test")
    realm = connected.connection.status().realm_id
    reached = feed.point(realm).reached_at
    every, slack = dt.timedelta(seconds=60), dt.timedelta(seconds=TICK / 2)
    feed.clock = lambda: reached + every - dt.timedelta(milliseconds=5)  # the sixth tick, 5 ms short
    assert feed.is_due(realm, every, slack=slack)
    feed.clock = lambda: reached + every - slack - dt.timedelta(seconds=1)  # the fifth tick
    assert not feed.is_due(realm, every, slack=slack)
