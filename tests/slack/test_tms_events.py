"""``POST /tms/events``: signed import-format objects, validated as ``qbsync import`` validates them,
answered at once, the loads they created or changed synced afterwards."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr

from services.errors import QbsyncError
from services.store.models import ChargeLine, Load
from services.tms.events import MAX_BODY, signed_headers
from services.tms.importer import import_data, import_file
from services.tms.problems import ImportFileError
from tests.builders import CHARGE_CODES, CUSTOMERS, qb_company, qb_invoices
from tests.builders import load as a_load
from tests.slack.conftest import wait_for

SECRET = "tms-webhook-secret"


def event(loads, **sections) -> bytes:
    return json.dumps(
        {"customers": sections.get("customers", CUSTOMERS), "charge_codes": CHARGE_CODES, "loads": loads}
    ).encode()


def post(web, raw: bytes, sig: str | None = "sign", secret: str = SECRET) -> requests.Response:
    headers = signed_headers(secret, raw)
    if sig is None:
        del headers["X-Qbsync-Signature"]
    elif sig != "sign":
        headers["X-Qbsync-Signature"] = sig
    return requests.post(f"{web.url}/tms/events", data=raw, headers=headers, timeout=10)


def loads_in(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Load.__table__)).scalar()


@pytest.fixture
def tms_web(make_web, connected):
    return make_web(tms_webhook_secret=SecretStr(SECRET))


def synced(web, *numbers: str) -> bool:
    return all(web.services.sync.current_result(n).state == "synced" for n in numbers)


def test_a_signed_event_is_answered_with_counts_then_synced(tms_web, engine):
    qb_company(tms_web.services.api)
    answer = post(tms_web, event([a_load("W-1"), a_load("W-2")]))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["loads"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert body["customers"]["created"] == 2 and body["syncing"] == ["W-1", "W-2"]
    wait_for(lambda: synced(tms_web, "W-1", "W-2"), what="the loads synced")  # recorded, not only pushed
    assert len(qb_invoices(tms_web.services.api)) == 2

    same = post(tms_web, event([a_load("W-1")]))
    assert same.status_code == 202 and same.json()["syncing"] == [], "nothing changed, nothing to sync"


def test_a_changed_customer_or_amount_is_reported_as_sync_all_reports_it(tms_web, engine):
    qb_company(tms_web.services.api)
    assert post(tms_web, event([a_load("W-3"), a_load("W-4")])).status_code == 202
    wait_for(lambda: synced(tms_web, "W-3", "W-4"), what="the first sync")
    changed = [a_load("W-3", customer="C-200"), a_load("W-4", charges=[("BASE", "900.00")])]
    answer = post(tms_web, event(changed))
    assert answer.json()["customer_changed"] == ["W-3"]

    def reasons(number):
        return [r.code for r in tms_web.services.sync.current_result(number).reasons]

    wait_for(lambda: reasons("W-3") == ["customer_changed"], what="customer_changed on W-3")
    wait_for(lambda: reasons("W-4") == ["amount_mismatch"], what="amount_mismatch on W-4")
    assert len(qb_invoices(tms_web.services.api)) == 2, "edits never reach QuickBooks on their own"


@pytest.mark.parametrize(
    ("sig", "why"),
    [
        (None, "missing"),
        ("v1=" + "0" * 64, "wrong"),
        ("sha256=" + "0" * 64, "the body-only form"),
        ("sha1=abc", "wrong scheme"),
        ("é" * 300, "junk"),
    ],
)
def test_an_unsigned_or_wrongly_signed_event_is_refused(tms_web, engine, sig, why):
    answer = post(tms_web, event([a_load("W-5")]), sig=sig)
    assert answer.status_code == 401, why
    assert "X-Qbsync-Signature" in answer.json()["error"]
    assert loads_in(engine) == 0


def test_signed_with_another_secret_is_refused(tms_web, engine):
    assert post(tms_web, event([a_load("W-5")]), secret="another").status_code == 401
    assert loads_in(engine) == 0


def test_without_a_secret_the_route_says_why_in_the_log(make_web, engine, caplog):
    caplog.set_level(logging.WARNING)
    web = make_web()
    answer = post(web, event([a_load("W-6")]))
    assert answer.status_code == 503
    assert "QBSYNC_TMS_WEBHOOK_SECRET is not set" in caplog.text
    assert loads_in(engine) == 0


def test_an_oversized_body_is_refused_before_it_is_read(tms_web, engine):
    raw = b" " * (MAX_BODY + 1)
    answer = post(tms_web, raw)
    assert answer.status_code == 413
    assert loads_in(engine) == 0


def test_a_malformed_event_names_every_problem_and_writes_nothing(tms_web, engine):
    bad = a_load("W-7")
    bad["charges"][0]["amount"] = 850.0
    bad["customerId"] = "C-100"
    raw = event([a_load("W-8"), bad])
    answer = post(tms_web, raw)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"].startswith("nothing was imported from webhook")
    fields = {(p["record"], p["field"]) for p in body["problems"]}
    assert ("loads[1] (W-7)", "charges[0].amount") in fields and ("loads[1] (W-7)", "customerId") in fields
    with pytest.raises(ImportFileError) as same:  # the very words of qbsync import
        import_data(engine, json.loads(raw), source="webhook")
    assert [p.message for p in same.value.problems] == [p["message"] for p in body["problems"]]
    assert loads_in(engine) == 0, "nothing half-written"


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b'{"loads": "x"}', b"\xff\xfe{}", b'{"loads": [], "loads": []}', b"NaN", b"\x00" * 10],
)
def test_no_body_makes_a_server_error(tms_web, engine, raw):
    answer = post(tms_web, raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]


def test_an_empty_body_is_called_a_body(tms_web, engine):
    answer = post(tms_web, b"  ")
    assert answer.status_code == 400
    assert [p["message"] for p in answer.json()["problems"]] == ["the request's body is empty"]


def test_other_methods_and_content_types_are_plain_answers(tms_web):
    assert requests.get(f"{tms_web.url}/tms/events", timeout=5).status_code == 405
    raw = b"loads=1"
    answer = requests.post(
        f"{tms_web.url}/tms/events",
        data=raw,
        headers={**signed_headers(SECRET, raw), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert answer.status_code == 400


def test_a_webhook_and_an_import_racing_on_one_load_leave_one_whole_version(tms_web, engine):
    """Both write, one after the other, or (a new load on PostgreSQL) one is told to send it again;
    never two loads, never a mix of both versions' charges."""
    versions = {
        "webhook": [("BASE", "700.00"), ("FSC", "70.00")],
        "import": [("BASE", "900.00"), ("CHASSIS", "90.00"), ("FSC", "9.00")],
    }
    for round_ in range(6):
        number = f"R-{round_}"
        if round_ % 2:  # an existing load, changed by both
            import_data(engine, json.loads(event([a_load(number)])))
        barrier = threading.Barrier(2)
        answers = {}

        def webhook(number=number, barrier=barrier, answers=answers):
            raw = event([a_load(number, charges=versions["webhook"])])
            barrier.wait()
            answers["webhook"] = post(tms_web, raw).status_code

        def importer(number=number, barrier=barrier, answers=answers):
            barrier.wait()
            try:
                import_data(engine, json.loads(event([a_load(number, charges=versions["import"])])))
                answers["import"] = "ok"
            except QbsyncError as exc:
                answers["import"] = "again" if "run it again" in str(exc) else str(exc)

        threads = [threading.Thread(target=webhook), threading.Thread(target=importer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        assert answers in (
            {"webhook": 202, "import": "ok"},
            {"webhook": 409, "import": "ok"},
            {"webhook": 202, "import": "again"},
        ), answers
        with engine.connect() as conn:
            load_ids = conn.execute(sa.select(Load.id).where(Load.load_number == number)).scalars().all()
            lines = conn.execute(
                sa.select(ChargeLine.code, ChargeLine.amount)
                .where(ChargeLine.load_id == load_ids[0])
                .order_by(ChargeLine.position)
            ).all()
        assert len(load_ids) == 1
        got = [(code, f"{amount:.2f}") for code, amount in lines]
        assert got in (versions["webhook"], versions["import"]), f"a mix of both: {got}"


def readme_example() -> str:
    """The shell example of the README's "TMS events" section."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### TMS events", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")
def test_the_readme_signing_example_is_accepted_by_the_server(tms_web, engine):
    script = readme_example().replace("https://qbsync.example.com", tms_web.url)
    environment = {"PATH": os.environ["PATH"], "QBSYNC_TMS_WEBHOOK_SECRET": SECRET}

    def run() -> dict:
        done = subprocess.run(
            ["bash", "-c", script], env=environment, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    answer = run()
    assert answer["loads"] == {"created": 1, "updated": 0, "unchanged": 0}, answer
    assert "was received before" in run()["error"], "its event_id is accepted once"
    assert loads_in(engine) == 1


def test_a_file_import_refuses_an_event_id_and_says_where_it_belongs(engine, tmp_path):
    path = tmp_path / "tms.json"
    path.write_text(json.dumps({"event_id": "evt-1", "loads": []}))
    with pytest.raises(ImportFileError) as refused:
        import_file(engine, path)
    assert "unknown section 'event_id'" in str(refused.value)
    assert "POST /tms/events" in str(refused.value)


def test_a_file_import_overwrites_what_a_newer_event_wrote(tms_web, engine, tmp_path):
    now = int(time.time())
    raw = event([a_load("W-9", charges=[("BASE", "500.00")])])
    headers = signed_headers(SECRET, raw, timestamp=now + 60)  # an event signed a minute ahead
    answer = requests.post(f"{tms_web.url}/tms/events", data=raw, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    path = tmp_path / "tms.json"
    path.write_text(event([a_load("W-9", charges=[("BASE", "600.00")])]).decode())
    summary = import_file(engine, path)
    assert summary.loads.updated == 1 and not summary.skipped_older
    with engine.connect() as conn:
        amounts = conn.scalars(sa.select(ChargeLine.amount).join(Load).where(Load.load_number == "W-9")).all()
    assert [f"{a:.2f}" for a in amounts] == ["600.00"]


def test_a_misspelled_event_id_is_refused_with_a_hint(tms_web, engine):
    raw = json.dumps({"eventId": "evt-1", "loads": [a_load("W-10")]}).encode()
    answer = post(tms_web, raw)
    assert answer.status_code == 400
    assert "did you mean 'event_id'?" in answer.json()["problems"][0]["message"]
    assert loads_in(engine) == 0
