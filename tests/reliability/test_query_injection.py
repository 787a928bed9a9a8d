"""Load numbers built to break the QuickBooks query language are literals: every query qbsync sends
for them parses, and the emulator's query log shows each carried the whole number as one literal (or,
for a curly quote, the part before it with LIKE, compared in full afterwards). Nothing else is
matched: the loads already synced keep their invoices, and no load borrows another's."""

from __future__ import annotations

import pytest

from services.quickbooks.escape import LIKE_WILDCARDS, UNSAFE_IN_QUERIES, needs_prefix_match, safe_prefix
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms

pytestmark = pytest.mark.reliability

PLAIN = ["L-1", "L-10", "L-100", "l-1x"]
HOSTILE = [
    "O'Brien-7",
    "L-1'OR'1'='1",
    "L-1' OR DocNumber = 'L-10",
    "' OR ''='",
    "L-1\\",
    "L-1\\'",
    "\\' OR 1=1",
    "L-\\\\'\\",
    "L-1%",
    "%",
    "L-_",
    "_",
    'L-1"',
    "L’1",
    "‘L-1’",
    "’",
    "L-1’ OR ‘x",
    "L%’1",
    "'; DROP TABLE Invoice; --",
    "L-1 AND DocNumber LIKE '%'",
    "ＬＯＡＤ-１",
    "x" * 63 + "'",
    "’" * 30,
    "'" * 22,
    "\\" * 64,
    "%_" * 11,
]


def carried(entry: dict, number: str) -> bool:
    """The logged query compared DocNumber with ``number`` as one whole literal (or its safe prefix)."""
    for condition in entry.get("conditions", []):
        if condition["field"] != "DocNumber":
            continue
        if condition["op"] in ("=", "in") and number in condition["values"]:
            return True
        if condition["op"] == "like" and condition["values"] == [safe_prefix(number) + "%"]:
            return True
    return False


def test_hostile_load_numbers_are_literals_in_every_query(connected, engine, emu):
    assert all(len(n) <= 64 for n in HOSTILE)
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in PLAIN])
    assert [r.state for r in connected.sync.sync_many(PLAIN, trigger="test")] == ["synced"] * len(PLAIN)
    before = {inv["Id"]: inv["DocNumber"] for inv in qb_invoices(connected.api)}
    emu.emulator.queries.clear()

    tms(engine, [a_load(n) for n in HOSTILE])
    results = {r.load_number: r for r in connected.sync.sync_many(HOSTILE, trigger="test")}
    diagnoses = {n: connected.diagnoser.diagnose(n) for n in HOSTILE}
    log = emu.queries()

    faults = [entry for entry in log if "fault" in entry]
    assert faults == [], faults[:3]  # every statement parsed: no quote or backslash leaked out
    for number in HOSTILE:
        reasons = [r.code for r in results[number].reasons]
        if len(number) <= 21:
            assert results[number].state == "synced", (number, reasons)
            mine = qb_invoices(connected.api, number)
            assert len(mine) == 1 and mine[0]["Id"] not in before, number
        else:
            assert reasons == ["doc_number_too_long"], (number, reasons)
        assert "duplicate_load_number" not in [r.code for r in diagnoses[number].reasons], number
        lookups = [entry for entry in log if carried(entry, number)]
        if safe_prefix(number) or not needs_prefix_match(number):  # else: every invoice, compared here
            assert lookups, f"no query looked {number!r} up as one literal"
    for entry in log:  # no condition was split: every DocNumber literal is a whole number or prefix
        for condition in entry.get("conditions", []):
            if condition["field"] == "DocNumber" and condition["op"] == "=":
                assert condition["values"][0] in PLAIN + HOSTILE or len(condition["values"][0]) <= 21
    after = {inv["Id"]: inv["DocNumber"] for inv in qb_invoices(connected.api)}
    assert {k: v for k, v in after.items() if k in before} == before, "the synced loads are untouched"
    short = [n for n in HOSTILE if len(n) <= 21]
    assert sorted(v for k, v in after.items() if k not in before) == sorted(short)
    wildcards = sum(1 for n in HOSTILE if set(n) & (LIKE_WILDCARDS | UNSAFE_IN_QUERIES | {"'", "\\"}))
    print(
        f"FIGURE query-injection: {len(HOSTILE)} hostile load numbers ({wildcards} with quotes, backslashes, "
        f"wildcards or curly quotes), {len(log)} queries logged, {len(faults)} parse faults, "
        f"0 matched another load"
    )


def test_long_hostile_load_numbers_take_their_suggested_invoice_number_and_sync(connected, engine, emu):
    qb_company(connected.api)
    long = [n for n in HOSTILE if len(n) > 21]
    tms(engine, [a_load(n) for n in long])
    connected.sync.sync_many(long, trigger="test")
    for number in long:
        diagnosis = connected.diagnoser.diagnose(number)
        (reason,) = [r for r in diagnosis.reasons if r.code == "doc_number_too_long"]
        suggested = reason.evidence["suggested_doc_number"]
        fixed = connected.fixer.apply(number, "set_doc_number", "test", doc_number=suggested)
        assert fixed.outcome == "applied" and fixed.state == "synced", (number, fixed.message)
    assert len(qb_invoices(connected.api)) == len(long)
    assert emu.queries() and not [e for e in emu.queries() if "fault" in e]
    print(f"FIGURE query-injection-long: {len(long)} of {len(long)} long hostile loads synced as suggested")


def test_a_customer_name_with_quotes_is_a_literal_when_quickbooks_has_the_name(connected, engine, emu):
    qb_company(connected.api)
    names = ["O’Neil Freight", "D'Angelo \\ Sons", "100% Haul_ing"]
    customers = [{"id": f"C-{i}", "name": n, "qb_email": f"c{i}@x.example"} for i, n in enumerate(names)]
    for name in names:  # QuickBooks has each name with another email: creating the customer meets 6240
        connected.api.create("Customer", {"DisplayName": name, "PrimaryEmailAddr": {"Address": "o@y.ex"}})
    tms(engine, [a_load(f"N-{i}", customer=c["id"]) for i, c in enumerate(customers)], customers=customers)
    connected.sync.sync_many([f"N-{i}" for i in range(len(names))], trigger="test")
    for i, name in enumerate(names):
        fixed = connected.fixer.apply(f"N-{i}", "create_customer", "test")
        assert fixed.outcome == "choice" and f"“{name}”" in fixed.message, (name, fixed.message)
        assert [c["name"] for c in fixed.choices] == [name]
    assert not [e for e in emu.queries() if "fault" in e]
    print(f"FIGURE query-injection-names: {len(names)} of {len(names)} quoted customer names, literals")
