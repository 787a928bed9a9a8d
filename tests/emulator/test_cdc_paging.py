"""Change data capture with payments, Intuit's time formats and paging by time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine

from .conftest import api


def cdc(emu, tokens, entities, since):
    response = api(emu, tokens, "GET", "cdc", params={"entities": entities, "changedSince": since})
    assert response.status_code == 200, response.text
    return {
        name: objects
        for part in response.json()["CDCResponse"][0]["QueryResponse"]
        for name, objects in part.items()
        if isinstance(objects, list)
    }


def updated(obj):
    return datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])


def test_payments_and_their_deletions_in_time_order(emu, tokens):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    seeded = emu.seed(
        {
            "customers": [{"DisplayName": "Acme Foods"}],
            "invoices": [
                {
                    "CustomerRef": {"name": "Acme Foods"},
                    "DocNumber": "L-1",
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": 90,
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                }
            ],
            "payments": [
                {
                    "CustomerRef": {"name": "Acme Foods"},
                    "TotalAmt": 10,
                    "Line": [{"Amount": 10, "LinkedTxn": [{"DocNumber": "L-1"}]}],
                },
                {"CustomerRef": {"name": "Acme Foods"}, "TotalAmt": 20, "Line": []},
            ],
        }
    )
    first, second = seeded["payments"]
    with time_machine.travel(time.time() + 3, tick=True):
        api(emu, tokens, "POST", "payment?operation=delete", json={"Id": first["Id"], "SyncToken": "0"})
    with time_machine.travel(time.time() + 6, tick=True):
        change = {"Id": second["Id"], "SyncToken": "0", "sparse": True, "TotalAmt": 25}
        assert api(emu, tokens, "POST", "payment", json=change).status_code == 200
        found = cdc(emu, tokens, "Payment,Invoice", start.isoformat())
    payments = found["Payment"]
    assert [(p["Id"], p.get("status")) for p in payments] == [(first["Id"], "Deleted"), (second["Id"], None)]
    assert payments[0] == {
        "Id": first["Id"],
        "status": "Deleted",
        "domain": "QBO",
        "MetaData": payments[0]["MetaData"],
    }
    assert payments[1]["TotalAmt"] == 25
    assert [updated(p) for p in payments] == sorted(updated(p) for p in payments)
    assert found["Invoice"][0]["Balance"] == 90  # the deletion gave the invoice its balance back


@pytest.mark.parametrize(
    "form",
    [
        "{t:%Y-%m-%dT%H:%M:%S}Z",
        "{t:%Y-%m-%dT%H:%M:%S}.123Z",
        "{local:%Y-%m-%dT%H:%M:%S}-08:00",
        "{t:%Y-%m-%dT%H:%M:%S}+00:00",
        "{t:%Y-%m-%dT%H:%M:%S}",
    ],
)
def test_changed_since_in_intuit_formats(emu, tokens, form):
    emu.seed({"customers": [{"DisplayName": "Acme Foods"}]})
    moment = datetime.now(UTC) - timedelta(minutes=1)
    since = form.format(t=moment, local=moment - timedelta(hours=8))
    assert [c["DisplayName"] for c in cdc(emu, tokens, "Customer", since)["Customer"]] == ["Acme Foods"]
    future = form.format(t=moment + timedelta(hours=1), local=moment + timedelta(hours=-7))
    assert "Customer" not in cdc(emu, tokens, "Customer", future)


def test_an_unencoded_plus_in_the_offset_still_parses(emu, tokens):
    emu.seed({"customers": [{"DisplayName": "Acme Foods"}]})
    moment = (datetime.now(UTC) + timedelta(hours=2) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    url = f"{emu.api_base}/company/{tokens['realm_id']}/cdc?entities=Customer&changedSince={moment}+02:00"
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    response = requests.get(url, headers=headers, timeout=10)  # '+' arrives as a space
    assert response.status_code == 200, response.text
    assert response.json()["CDCResponse"][0]["QueryResponse"][0]["Customer"][0]["DisplayName"] == "Acme Foods"


def test_paging_by_time_past_1000_objects(emu, tokens):
    start = datetime.now(UTC).replace(microsecond=0)
    emu.seed({"customers": [{"DisplayName": f"Early {n}"} for n in range(700)]})
    with time_machine.travel(time.time() + 5, tick=True):
        emu.seed({"customers": [{"DisplayName": f"Late {n}"} for n in range(600)]})
        page = cdc(emu, tokens, "Customer", start.isoformat())["Customer"]
        assert len(page) == 1000
        assert [updated(c) for c in page] == sorted(updated(c) for c in page)
        assert all(c["DisplayName"].startswith("Early") for c in page[:700])
        newest = max(updated(c) for c in page)
        rest = cdc(emu, tokens, "Customer", newest.isoformat())["Customer"]
    seen = {c["Id"] for c in page} | {c["Id"] for c in rest}
    assert len(seen) == 1300  # every customer, no gap
