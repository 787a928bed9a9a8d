"""The /_emulator/ endpoints, malformed input, and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from .conftest import api, make_customer


def test_reset_forgets_everything(emu, qb, http):
    make_customer(qb, "Acme Foods")
    old = emu.issue_tokens()
    assert http.post(emu.url + "/_emulator/reset", timeout=10).json()["realm_id"] == emu.realm_id
    assert api(emu, old, "GET", "preferences").status_code == 401
    fresh = emu.issue_tokens()
    assert (
        api(emu, fresh, "GET", "query", params={"query": "SELECT * FROM Customer"}).json()["QueryResponse"]
        == {}
    )


def test_the_admin_index_the_banner_names_lists_the_endpoints(emu):
    import requests

    answer = requests.get(f"{emu.url}/_emulator/", timeout=5)
    assert answer.status_code == 200
    assert {"POST reset", "GET stats", "GET|POST faults"} <= set(answer.json()["endpoints"])


def test_seed_creates_records_resolving_names(emu, qb):
    seeded = emu.seed(
        {
            "preferences": {"SalesFormsPrefs": {"CustomTxnNumbers": False}},
            "customers": [{"DisplayName": "Acme Foods", "PrimaryEmailAddr": {"Address": "ap@acme.example"}}],
            "items": [{"Name": "Accessorials"}, {"Name": "Chassis", "ParentRef": {"name": "Accessorials"}}],
            "invoices": [
                {
                    "CustomerRef": {"name": "Acme Foods"},
                    "DocNumber": "ignored",
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": "40.00",
                            "SalesItemLineDetail": {"ItemRef": {"name": "Accessorials:Chassis"}},
                        }
                    ],
                }
            ],
        }
    )
    assert seeded["items"][1]["FullyQualifiedName"] == "Accessorials:Chassis"
    assert seeded["invoices"][0]["DocNumber"] == "1001"  # custom numbers were turned off first
    invoice = Invoice.get(seeded["invoices"][0]["Id"], qb=qb)
    assert invoice.TotalAmt == 40.0
    assert invoice.BillEmail.Address == "ap@acme.example"


def test_seed_is_all_or_nothing(emu, qb, http):
    response = http.post(
        emu.url + "/_emulator/seed",
        json={"customers": [{"DisplayName": "Acme"}, {"DisplayName": "ACME"}]},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["section"] == "customers" and response.json()["index"] == 1
    assert response.json()["Fault"]["Error"][0]["code"] == "6240"
    assert Customer.all(qb=qb) == []


def test_seed_another_realm(emu):
    emu.seed({"realm_id": "3330001", "items": [{"Name": "Base Price"}]})
    tokens = emu.issue_tokens("3330001")
    items = api(emu, tokens, "GET", "query", params={"query": "SELECT * FROM Item"}).json()["QueryResponse"][
        "Item"
    ]
    assert sorted(i["Name"] for i in items) == ["Base Price", "Services"]


def test_stats_by_realm_endpoint_and_method(emu, qb):
    make_customer(qb, "Acme Foods")
    Customer.all(qb=qb)
    Item.get("1", qb=qb)
    api(emu, {"access_token": "bad", "realm_id": emu.realm_id}, "GET", "preferences")
    stats = emu.stats()["realms"][emu.realm_id]
    assert stats["requests"]["customer"] == {"POST": 1}
    assert stats["requests"]["query"] == {"POST": 1}
    assert stats["requests"]["item"] == {"GET": 1}
    assert stats["auth_failures"] == 1
    assert stats["total_requests"] == 4
    assert emu.stats()["total_requests"] == 4


def test_config_rejects_bad_values(emu, http):
    response = http.post(emu.url + "/_emulator/config", json={"fault_rate": 2}, timeout=10)
    assert response.status_code == 400
    response = http.post(emu.url + "/_emulator/config", json={"time_scale": 2}, timeout=10)
    assert response.status_code == 400
    assert http.get(emu.url + "/_emulator/config", timeout=10).json()["fault_rate"] == 0.0


def test_faults_endpoint_validates_kind(emu, http):
    assert http.post(emu.url + "/_emulator/faults", json={"kind": "explode"}, timeout=10).status_code == 400
    listed = http.post(emu.url + "/_emulator/faults", json=[{"kind": "500", "count": 2}], timeout=10).json()
    assert listed["pending"][0]["count"] == 2


# --- robustness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["{not json", "[1, 2", "null", "42", '"text"', "[]"])
def test_malformed_or_wrong_json_is_a_400_fault(emu, payload):
    response = api(
        emu, emu.issue_tokens(), "POST", "invoice", data=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] in ("2010", "2020")


@pytest.mark.parametrize(
    "body",
    [
        {"CustomerRef": "x", "Line": "y"},
        {"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "abc"}]},
        {"CustomerRef": {"value": ["1"]}, "Line": [None]},
        {"Id": {"x": 1}, "SyncToken": []},
        {"DocNumber": 12345678901234567890123, "CustomerRef": {"value": "1"}},
        {"TxnDate": "yesterday", "CustomerRef": {"value": "1"}, "Line": []},
    ],
)
def test_odd_bodies_never_crash(emu, qb, body):
    make_customer(qb, "Acme Foods")
    response = api(emu, emu.issue_tokens(), "POST", "invoice", json=body)
    assert response.status_code == 400
    assert "Fault" in response.json()


def test_unknown_paths_and_methods_answer_faults(emu):
    tokens = emu.issue_tokens()
    assert api(emu, tokens, "DELETE", "invoice/1").json()["Fault"]["Error"][0]["code"] == "500"
    assert api(emu, tokens, "GET", "reports/ProfitAndLoss").status_code == 400


# --- command line -------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_prints_urls_and_stops_cleanly_on_ctrl_c(signum):
    code = "from cli.main import main; import sys; sys.argv = ['qbsync', 'emulator', '--port', '0']; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "/v3" in output and "/.well-known/openid_configuration" in output
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert "stopped" in out


def test_unexpected_errors_become_qbo_shaped_500():
    from emulator.server import create_app

    app = create_app()

    @app.route("/v3/company/<realm_id>/explode")
    def explode(realm_id: str):
        raise RuntimeError("a bug in the emulator")

    response = app.test_client().get("/v3/company/1/explode")
    assert response.status_code == 500
    assert response.get_json()["Fault"]["Error"][0]["code"] == "10000"
    assert response.get_json()["Fault"]["type"] == "SystemFault"
    assert "Traceback" not in response.get_data(as_text=True)
