"""The bulk path: invoices created in QuickBooks batch requests behind the adaptive limiter, through
the real python-quickbooks client against the emulator."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from emulator.server import EmulatorServer
from services.store.models import Load
from services.sync.company import CompanySnapshot
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms


def codes(result) -> list[str]:
    return [r.code for r in result.reasons]


def generations(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {row.load_number: row.sync_generation for row in session.exec(select(Load))}


def test_a_batch_answered_with_successes_and_faults_gives_each_load_its_reason(connected, engine, emu):
    company = qb_company(connected.api)
    tms(engine, [a_load("M-1"), a_load("M-2"), a_load("M-3", customer="C-200"), a_load("M-4")])
    with Session(engine) as session:  # M-4's invoice number is M-1: the batch's second item is refused
        session.get(Load, 4).qb_doc_number = "M-1"
        session.commit()
    snapshot = CompanySnapshot(connected.api)
    snapshot.customers()  # read while C-200 is active; made inactive before the batch goes out
    blue = company["customers"]["C-200"]
    connected.api.update(
        "Customer", {"Id": blue["Id"], "SyncToken": blue["SyncToken"], "sparse": True, "Active": False}
    )
    results = {
        r.load_number: r
        for r in connected.sync.sync_many(["M-1", "M-2", "M-3", "M-4"], trigger="test", snapshot=snapshot)
    }
    assert (results["M-1"].state, results["M-2"].state) == ("synced", "synced")
    assert codes(results["M-3"]) == ["customer_not_synced"]  # 610 on CustomerRef, as a single create
    assert results["M-3"].reasons[0].evidence["qb_code"] == "610"
    assert codes(results["M-4"]) == ["duplicate_load_number"]  # 6140: the invoice in the way is named
    assert results["M-4"].reasons[0].evidence["qb_invoice_id"] == results["M-1"].qb_invoice_id
    assert emu.stats()["batch_requests"] == 1 and emu.stats()["batch_items"] == 4
    assert generations(engine) == {"M-1": 0, "M-2": 0, "M-3": 1, "M-4": 1}  # refused: a new request id next


def test_a_lost_batch_answer_is_sent_again_and_creates_nothing_twice(connected, engine, emu):
    qb_company(connected.api)
    numbers = [f"B-{n}" for n in range(7)]
    tms(engine, [a_load(n) for n in numbers])
    emu.add_fault("drop_after_commit", count=1, method="POST", path_contains="/batch")
    results = connected.sync.sync_many(numbers, trigger="test")
    assert [r.state for r in results] == ["synced"] * 7
    assert sorted(inv["DocNumber"] for inv in qb_invoices(connected.api)) == numbers
    stats = emu.stats()
    assert stats["faults_injected"] == 1 and stats["realms"][emu.realm_id]["requests"]["batch"]["POST"] == 2
    assert stats["batch_items"] == 7  # the second answer was the first one, replayed


def test_a_batch_answered_too_late_is_sent_again_in_the_next_run_without_duplicates(connected, engine, emu):
    """QuickBooks created the invoices but its answer came after the client gave up (a read timeout):
    the run reports qb_unavailable; the next run finds them by number and our marker and links them."""
    qb_company(connected.api)
    tms(engine, [a_load("K-1"), a_load("K-2")])
    emu.add_fault("latency_after_commit", count=1, method="POST", path_contains="/batch", ms=2000)
    connected.api.retry.attempts = 1  # give up on the slow answer at once
    qb, _ = connected.api._client()  # this thread's client: a 0.5 s read timeout
    for adapter in qb.session.adapters.values():
        adapter.timeout = (5.0, 0.5)
    first = connected.sync.sync_many(["K-1", "K-2"], trigger="test")
    assert [codes(r) for r in first] == [["qb_unavailable"], ["qb_unavailable"]]
    again = connected.sync.sync_many(["K-1", "K-2"], trigger="test")
    assert [r.state for r in again] == ["synced", "synced"]
    assert all("earlier attempt" in (r.note or "") for r in again)
    assert sorted(inv["DocNumber"] for inv in qb_invoices(connected.api)) == ["K-1", "K-2"]
    assert emu.stats()["batch_items"] == 2


@pytest.fixture
def limited(database_url, engine):
    """An emulator whose minute lasts a second, allowing 3 batch requests a minute, and qbsync
    configured with Intuit's 40 (so it is throttled and must adapt), 2 requests in flight, batches of 5."""
    from services.quickbooks import TokenSet
    from services.settings import load_settings
    from tests.conftest import TEST_SECRET_KEY
    from wiring.services import bootstrap

    with EmulatorServer(port=0, time_scale=60, batch_rate_limit=3, latency_ms=15) as server:
        settings = load_settings(
            DATABASE_URL=database_url,
            QBO_CLIENT_ID="qbsync-test-client",
            QBO_CLIENT_SECRET="qbsync-test-secret",
            QBO_API_BASE_URL=server.api_base,
            INTUIT_DISCOVERY_URL=server.discovery_url,
            QBSYNC_SECRET_KEY=TEST_SECRET_KEY,
            QBSYNC_QBO_TIME_SCALE="60",
            QBSYNC_QBO_IN_FLIGHT="2",
            QBSYNC_SYNC_WORKERS="4",
            QBSYNC_BATCH_SIZE="5",
        )
        services = bootstrap(settings, engine=engine)
        grant = server.issue_tokens()
        tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, grant["realm_id"])
        services.connection.store(tokens, grant["realm_id"], "test")
        yield server, services


def test_throttled_mid_run_every_invoice_syncs_once_within_the_in_flight_cap(limited, engine):
    server, services = limited
    qb_company(services.api)
    numbers = [f"T-{n:02d}" for n in range(40)]
    tms(engine, [a_load(n) for n in numbers])
    seen = []
    results = services.sync.sync_many(None, trigger="test", progress=seen.append)
    assert [r.state for r in results] == ["synced"] * 40
    assert sorted(r.load_number for r in seen) == numbers  # progress saw every load once
    assert sorted(inv["DocNumber"] for inv in qb_invoices(services.api)) == numbers
    stats = server.stats()
    assert stats["throttled"] >= 1  # 8 batches against 3 a (one-second) minute
    assert stats["batch_items"] == 40
    assert stats["max_in_flight"] <= 2  # the limiter's cap, though 4 workers ran
    assert services.api.limiter().max_in_flight <= 2
