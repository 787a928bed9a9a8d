"""Who made each change: ``MetaData.LastModifiedByRef`` from ``X-Emulator-User``, and user names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emulator.changes import DEFAULT_USER_ID

from .conftest import api

SINCE = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds").replace("+00:00", "Z")


def test_writes_are_made_by_the_default_user_unless_the_header_names_one(emu, tokens, invoice):
    assert invoice["MetaData"]["LastModifiedByRef"] == {"value": DEFAULT_USER_ID}
    update = {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "checked"}
    by_jane = api(emu, tokens, "POST", "invoice", json=update, headers={"X-Emulator-User": "77"})
    assert by_jane.json()["Invoice"]["MetaData"]["LastModifiedByRef"] == {"value": "77"}
    customer = api(emu, tokens, "GET", "customer/1").json()["Customer"]
    assert customer["MetaData"]["LastModifiedByRef"] == {"value": DEFAULT_USER_ID}


def test_a_deletion_keeps_when_and_by_whom(emu, tokens, invoice):
    deleted = api(
        emu,
        tokens,
        "POST",
        "invoice?operation=delete",
        json={"Id": invoice["Id"], "SyncToken": "0"},
        headers={"X-Emulator-User": "55"},
    )
    assert deleted.json()["Invoice"]["status"] == "Deleted"
    cdc = api(emu, tokens, "GET", "cdc", params={"entities": "Invoice", "changedSince": SINCE}).json()
    (tomb,) = cdc["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert tomb["status"] == "Deleted" and tomb["Id"] == invoice["Id"]
    assert tomb["MetaData"]["LastModifiedByRef"] == {"value": "55"}
    assert tomb["MetaData"]["LastUpdatedTime"] >= invoice["MetaData"]["LastUpdatedTime"]


def test_seeded_records_are_made_by_the_header_user(emu):
    response = emu._http.post(
        f"{emu.url}/_emulator/seed",
        json={"customers": [{"DisplayName": "Seeded"}]},
        headers={"X-Emulator-User": "31"},
    )
    assert response.json()["customers"][0]["MetaData"]["LastModifiedByRef"] == {"value": "31"}


def test_user_names_per_company(emu):
    assert emu.users() == {}
    assert emu.set_users({"77": "Jane Clerk", "78": "Sam Dispatcher"}) == {
        "77": "Jane Clerk",
        "78": "Sam Dispatcher",
    }
    assert emu.set_users({"77": "Jane Q. Clerk"})["77"] == "Jane Q. Clerk"
    assert emu.set_users({"9": "Other Co user"}, realm_id="5550002") == {"9": "Other Co user"}
    assert emu.users() == {"77": "Jane Q. Clerk", "78": "Sam Dispatcher"}
    assert emu.users("5550002") == {"9": "Other Co user"}
    bad = emu._http.post(f"{emu.url}/_emulator/users", json={"users": ["Jane"]})
    assert bad.status_code == 400
    missing = emu._http.get(f"{emu.url}/_emulator/users", params={"realm_id": "123"})
    assert missing.status_code == 404
    emu.reset()
    assert emu.users() == {}
