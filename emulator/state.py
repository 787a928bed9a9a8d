"""In-memory companies (realms): their entities, tombstones, counters, request-id cache and users.

One :class:`Store` holds every realm and one re-entrant lock. API handlers take the lock for the
whole read-validate-write of an operation, so operations on the emulator are serialisable;
artificial latency is spent outside the lock.

Every insert, replace and delete stamps ``MetaData.LastModifiedByRef`` with the writing user and
reports the change to the current recording (:mod:`emulator.changes`), which feeds the webhooks.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator import changes, defaults
from emulator.timeutil import meta_time, utcnow

ENTITY_NAMES = ("Invoice", "Customer", "Item", "Account", "Payment", "Preferences", "CompanyInfo")


@dataclass
class Realm:
    """One QuickBooks company."""

    realm_id: str
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tombstones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    next_doc_number: int = 1001
    request_ids: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # user id -> display name (tests only)

    def __post_init__(self) -> None:
        for name in ENTITY_NAMES:
            self.records.setdefault(name, {})
            self.tombstones.setdefault(name, {})

    # -- records ------------------------------------------------------------------------------

    def next_id(self, entity: str) -> str:
        self.counters[entity] = self.counters.get(entity, 0) + 1
        return str(self.counters[entity])

    def insert(self, entity: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new record, giving it Id, SyncToken "0", MetaData, domain and sparse."""
        moment = utcnow()
        now = meta_time(moment)
        record = {
            "Id": self.next_id(entity),
            "SyncToken": "0",
            "MetaData": {"CreateTime": now, "LastModifiedByRef": _by(), "LastUpdatedTime": now},
            "domain": "QBO",
            "sparse": False,
            **fields,
        }
        self.records[entity][record["Id"]] = record
        changes.note(self.realm_id, entity, record["Id"], changes.CREATE, moment)
        return record

    def replace(self, entity: str, record: dict[str, Any], operation: str = changes.UPDATE) -> dict[str, Any]:
        """Store a changed record: SyncToken + 1, LastUpdatedTime now, modified by the writer."""
        moment = utcnow()
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)
        record["MetaData"] = {
            **record["MetaData"],
            "LastModifiedByRef": _by(),
            "LastUpdatedTime": meta_time(moment),
        }
        self.records[entity][record["Id"]] = record
        changes.note(self.realm_id, entity, record["Id"], operation, moment)
        return record

    def get(self, entity: str, record_id: Any) -> dict[str, Any] | None:
        return self.records[entity].get(str(record_id).strip()) if record_id is not None else None

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.records[entity].values())

    def delete(self, entity: str, record_id: str) -> dict[str, Any]:
        """Remove a record and keep a tombstone for CDC (when and by whom it was deleted)."""
        moment = utcnow()
        self.records[entity].pop(record_id)
        tomb = {
            "domain": "QBO",
            "status": "Deleted",
            "Id": record_id,
            "MetaData": {"LastModifiedByRef": _by(), "LastUpdatedTime": meta_time(moment)},
        }
        self.tombstones[entity][record_id] = tomb
        changes.note(self.realm_id, entity, record_id, changes.DELETE, moment)
        return tomb

    def snapshot(self) -> Realm:
        return copy.deepcopy(self)

    def restore(self, other: Realm) -> None:
        self.__dict__.update(copy.deepcopy(other).__dict__)

    # -- singletons -------------------------------------------------------------------------

    @property
    def preferences(self) -> dict[str, Any]:
        return self.records["Preferences"]["1"]

    @property
    def company_info(self) -> dict[str, Any]:
        return self.records["CompanyInfo"]["1"]

    def custom_txn_numbers(self) -> bool:
        return bool(self.preferences.get("SalesFormsPrefs", {}).get("CustomTxnNumbers", True))


def _by() -> dict[str, str]:
    return {"value": changes.user_id()}


def new_realm(realm_id: str) -> Realm:
    """A company with the default chart of accounts, a "Services" item, preferences and info."""
    with changes.unrecorded():
        return _populate(Realm(realm_id=realm_id))


def _populate(realm: Realm) -> Realm:
    realm.insert("Preferences", defaults.default_preferences())
    realm.insert("CompanyInfo", defaults.default_company_info(realm.realm_id))
    for name, acct_type, sub_type, classification in defaults.DEFAULT_ACCOUNTS:
        realm.insert(
            "Account",
            {
                "Name": name,
                "SubAccount": False,
                "FullyQualifiedName": name,
                "Active": True,
                "Classification": classification,
                "AccountType": acct_type,
                "AccountSubType": sub_type,
                "CurrentBalance": 0,
                "CurrentBalanceWithSubAccounts": 0,
                "CurrencyRef": dict(defaults.USD),
            },
        )
    realm.insert(
        "Item",
        {
            "Name": "Services",
            "FullyQualifiedName": "Services",
            "Active": True,
            "SubItem": False,
            "Type": "Service",
            "Taxable": False,
            "UnitPrice": 0,
            "TrackQtyOnHand": False,
            "IncomeAccountRef": {"value": "1", "name": "Services"},
        },
    )
    return realm


class Store:
    """All realms, guarded by one re-entrant lock."""

    def __init__(self, default_realm_id: str = defaults.DEFAULT_REALM_ID) -> None:
        self.lock = threading.RLock()
        self.default_realm_id = default_realm_id
        self.realms: dict[str, Realm] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.realms = {self.default_realm_id: new_realm(self.default_realm_id)}

    def realm(self, realm_id: str | None = None, create: bool = False) -> Realm | None:
        realm_id = str(realm_id or self.default_realm_id)
        with self.lock:
            if realm_id not in self.realms and create:
                self.realms[realm_id] = new_realm(realm_id)
            return self.realms.get(realm_id)
