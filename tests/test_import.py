"""Importing TMS data: strict validation naming record and field, all or nothing, idempotent upserts."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import event
from sqlmodel import Session, SQLModel, select

import services.tms.writing as writing
from cli.main import qbsync
from services.errors import UserInputError
from services.store.models import ChargeCode, Customer, Load, LoadState
from services.tms.importer import import_data, import_file
from services.tms.problems import ImportFileError

GOOD: dict[str, Any] = {
    "customers": [
        {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
        {"id": "C-200", "name": "Bolt Logistics"},
    ],
    "charge_codes": [{"code": "BASE", "name": "Base Price"}, {"code": "FSC", "name": "Fuel Surcharge"}],
    "loads": [
        {
            "load_number": "L-1001",
            "customer_id": "C-100",
            "invoice_date": "2026-11-20",
            "charges": [
                {"code": "BASE", "description": "Drayage", "amount": "850.00"},
                {"code": "FSC", "amount": "127.50"},
            ],
        },
        {
            "load_number": "L-1002",
            "customer_id": "C-200",
            "invoice_date": "2026-11-21",
            "charges": [{"code": "BASE", "amount": "1200"}],
        },
    ],
}


def good() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, to prove an import wrote nothing."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }


def mark_synced(engine) -> None:
    """What the sync engine would have stored after pushing L-1001 for C-100."""
    with Session(engine) as session:
        session.get(Customer, "C-100").qb_customer_id = "58"
        session.get(ChargeCode, "BASE").qb_item_id = "7"
        load = session.exec(select(Load).where(Load.load_number == "L-1001")).one()
        load.state = LoadState.SYNCED
        load.qb_invoice_id = "130"
        load.qb_sync_token = "0"
        load.qb_customer_id = "58"
        load.synced_customer_id = "C-100"
        load.synced_total = Decimal("977.50")
        load.synced_at = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
        session.add(load)
        session.commit()


@pytest.fixture
def seeded(engine):
    """A database that already holds GOOD, with L-1001 synced to QuickBooks."""
    import_data(engine, good())
    mark_synced(engine)
    return engine


def load_row(engine, number: str) -> Load:
    with Session(engine) as session:
        load = session.exec(select(Load).where(Load.load_number == number)).one()
        load.charges  # noqa: B018 - load the lines before the session closes
        return load


# --------------------------------------------------------------------------- happy path


def test_a_new_file_creates_everything_and_the_same_file_again_changes_nothing(engine):
    first = import_data(engine, good(), source="tms.json")
    assert first.as_dict() == {
        "customers": {"created": 2, "updated": 0, "unchanged": 0},
        "charge_codes": {"created": 2, "updated": 0, "unchanged": 0},
        "loads": {"created": 2, "updated": 0, "unchanged": 0},
        "customer_changed": [],
    }
    assert first.changed
    load = load_row(engine, "L-1001")
    assert load.customer_id == "C-100"
    assert load.invoice_date == dt.date(2026, 11, 20)
    assert load.state == LoadState.PENDING
    assert [(c.position, c.code, c.description, c.amount) for c in load.charges] == [
        (0, "BASE", "Drayage", Decimal("850.00")),
        (1, "FSC", None, Decimal("127.50")),
    ]
    assert load_row(engine, "L-1002").total == Decimal("1200.00")

    before = snapshot(engine)
    second = import_data(engine, good())
    assert not second.changed
    assert {name: counts.unchanged for name, counts in second.sections().items()} == {
        "customers": 2,
        "charge_codes": 2,
        "loads": 2,
    }
    assert snapshot(engine) == before  # not a single row rewritten, updated_at included


def test_a_changed_file_updates_only_what_changed_and_keeps_quickbooks_ids(seeded):
    before = load_row(seeded, "L-1001")
    untouched = load_row(seeded, "L-1002")
    data = good()
    data["customers"][0]["name"] = "Acme Foods Inc."
    data["charge_codes"][0]["name"] = "Base Rate"
    data["loads"][0]["charges"][1]["amount"] = "130.00"
    data["loads"][0]["charges"].append({"code": "FSC", "description": "Extra stop", "amount": "75"})
    summary = import_data(seeded, data)

    assert summary.customers.as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    assert summary.charge_codes.as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    assert summary.loads.as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    assert summary.customer_changed == []
    with Session(seeded) as session:
        customer = session.get(Customer, "C-100")
        assert (customer.name, customer.qb_email, customer.qb_customer_id) == (
            "Acme Foods Inc.",
            "ap@acme.example",
            "58",
        )
        assert session.get(ChargeCode, "BASE").qb_item_id == "7"
    after = load_row(seeded, "L-1001")
    assert [line.amount for line in after.charges] == [Decimal("850.00"), Decimal("130.00"), Decimal("75.00")]
    assert (after.state, after.qb_invoice_id, after.synced_customer_id, after.synced_total) == (
        LoadState.SYNCED,
        "130",
        "C-100",
        Decimal("977.50"),
    )
    assert after.updated_at > before.updated_at  # the sync engine sees the load changed
    assert load_row(seeded, "L-1002").updated_at == untouched.updated_at


def test_a_synced_load_moved_to_another_customer_is_reported_once(seeded):
    data = good()
    data["loads"][0]["customer_id"] = "C-200"
    summary = import_data(seeded, data)
    assert summary.customer_changed == ["L-1001"]
    load = load_row(seeded, "L-1001")
    assert (load.customer_id, load.synced_customer_id, load.qb_invoice_id) == ("C-200", "C-100", "130")

    assert import_data(seeded, data).customer_changed == []  # nothing new the second time
    data["loads"][0]["customer_id"] = "C-100"  # moved back to the invoiced customer
    back = import_data(seeded, data)
    assert back.customer_changed == []
    assert back.loads.updated == 1


def test_an_unsynced_load_moved_to_another_customer_is_a_plain_update(engine):
    import_data(engine, good())
    data = good()
    data["loads"][0]["customer_id"] = "C-200"
    summary = import_data(engine, data)
    assert summary.customer_changed == []
    assert summary.loads.updated == 1


def test_an_absent_email_keeps_the_stored_one_and_null_or_blank_clears_it(engine):
    import_data(engine, good())
    data = {"customers": [{"id": "C-100", "name": "Acme Foods"}]}
    assert import_data(engine, data).customers.unchanged == 1
    data["customers"][0]["qb_email"] = None
    assert import_data(engine, data).customers.updated == 1
    with Session(engine) as session:
        assert session.get(Customer, "C-100").qb_email is None
    data["customers"][0]["qb_email"] = "  "
    assert import_data(engine, data).customers.unchanged == 1


def test_values_are_trimmed_and_amounts_normalised(engine):
    data = {
        "customers": [{"id": " C-1 ", "name": " Acme ", "qb_email": "  ap@acme.example "}],
        "charge_codes": [{"code": "BASE ", "name": "Base"}],
        "loads": [
            {
                "load_number": " O'Brien\u2019s \\ 1 ",
                "customer_id": "C-1",
                "invoice_date": " 2026-11-20 ",
                "charges": [
                    {"code": " BASE", "description": "  Line one\nline two  ", "amount": " 850 "},
                    {"code": "BASE", "description": "", "amount": "0.5"},
                    {"code": "BASE", "amount": "9.100"},
                ],
            }
        ],
    }
    import_data(engine, data)
    with Session(engine) as session:
        customer = session.get(Customer, "C-1")
        assert (customer.name, customer.qb_email) == ("Acme", "ap@acme.example")
    load = load_row(engine, "O'Brien\u2019s \\ 1")
    assert [(c.code, c.description, c.amount) for c in load.charges] == [
        ("BASE", "Line one\nline two", Decimal("850.00")),
        ("BASE", None, Decimal("0.50")),
        ("BASE", None, Decimal("9.10")),
    ]
    assert not import_data(engine, data).changed


def test_a_file_may_refer_to_records_already_in_the_database(engine):
    import_data(engine, good())
    data = {"loads": [{**GOOD["loads"][1], "load_number": "L-3000"}]}
    summary = import_data(engine, data)
    assert summary.loads.created == 1
    assert summary.customers.total == summary.charge_codes.total == 0


def test_the_same_charge_code_twice_in_one_load_is_allowed(engine):
    data = good()
    data["loads"][1]["charges"].append({"code": "BASE", "description": "Second leg", "amount": "300.00"})
    import_data(engine, data)
    assert load_row(engine, "L-1002").total == Decimal("1500.00")


def test_an_empty_document_imports_nothing(engine):
    summary = import_data(engine, {})
    assert not summary.changed
    assert summary.as_dict()["loads"] == {"created": 0, "updated": 0, "unchanged": 0}


def test_existing_rows_are_fetched_in_a_few_bulk_queries(engine):
    data = good()
    data["loads"] = [
        {
            "load_number": f"L-{n}",
            "customer_id": "C-100",
            "invoice_date": "2026-11-20",
            "charges": [{"code": "BASE", "amount": "10.00"}],
        }
        for n in range(1200)
    ]
    import_data(engine, data)
    data["loads"][5]["charges"][0]["amount"] = "11.00"
    selects: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        summary = import_data(engine, data)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert summary.loads.as_dict() == {"created": 0, "updated": 1, "unchanged": 1199}
    assert len(selects) <= 12, selects


def test_a_failure_while_writing_leaves_the_database_untouched(seeded, monkeypatch):
    before = snapshot(seeded)
    data = good()
    data["customers"][0]["name"] = "Renamed"
    data["loads"][1]["invoice_date"] = "2026-12-01"

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writing, "_write_loads", explode)
    with pytest.raises(RuntimeError):
        import_data(seeded, data)
    assert snapshot(seeded) == before


def test_import_file_reads_standard_input(engine):
    summary = import_file(engine, "-", stdin=io.BytesIO(json.dumps(GOOD).encode()))
    assert summary.source == "standard input"
    assert summary.loads.created == 2


def test_a_byte_order_mark_is_accepted(engine, tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    assert import_file(engine, path).customers.created == 2


# --------------------------------------------------------------------------- malformed records

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting ``value`` at a dotted path like ``loads.0.charges.0.amount``."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = data
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


def _append(section: str, record: dict[str, Any]) -> Mutation:
    return lambda data: data[section].append(copy.deepcopy(record))


AMOUNT = "loads.1.charges.0.amount"
L2 = "loads[1] (L-1002)"

# (id, mutation, record, field, fragments of the message)
MALFORMED: list[tuple[str, Mutation, str, str | None, list[str]]] = [
    # wrong types
    (
        "section-string",
        _set("customers", "C-100"),
        "customers",
        None,
        ["must be a list", "the string 'C-100'"],
    ),
    ("section-object", _set("loads", {"L-1": {}}), "loads", None, ["must be a list", "an object"]),
    ("section-null", _set("charge_codes", None), "charge_codes", None, ["must be a list", "null"]),
    ("record-number", _set("loads.1", 5), "loads[1]", None, ["a load must be an object", "the number 5"]),
    ("id-number", _set("customers.1.id", 200), "customers[1]", "id", ["must be a string", "the number 200"]),
    ("name-list", _set("charge_codes.0.name", ["Base"]), "charge_codes[0] (BASE)", "name", ["a list"]),
    ("amount-object", _set(AMOUNT, {"value": "1"}), L2, "charges[0].amount", ["decimal string", "an object"]),
    ("charges-string", _set("loads.1.charges", "BASE"), L2, "charges", ["must be a list"]),
    ("charge-string", _set("loads.1.charges.0", "BASE"), L2, "charges[0]", ["a charge must be an object"]),
    ("date-number", _set("loads.1.invoice_date", 20261121), L2, "invoice_date", ["the number 20261121"]),
    ("customer-id-null", _set("loads.1.customer_id", None), L2, "customer_id", ["must be a string", "null"]),
    (
        "description-number",
        _set("loads.1.charges.0.description", 5),
        L2,
        "charges[0].description",
        ["number"],
    ),
    ("email-bool", _set("customers.0.qb_email", True), "customers[0] (C-100)", "qb_email", ["boolean true"]),
    # missing required fields
    (
        "missing-name",
        _delete("customers.1.name"),
        "customers[1] (C-200)",
        "name",
        ["required field is missing"],
    ),
    ("missing-customer", _delete("loads.1.customer_id"), L2, "customer_id", ["required field is missing"]),
    ("missing-charges", _delete("loads.1.charges"), L2, "charges", ["required field is missing"]),
    ("missing-amount", _delete(AMOUNT), L2, "charges[0].amount", ["required field is missing"]),
    ("missing-load-number", _delete("loads.1.load_number"), "loads[1]", "load_number", ["missing"]),
    ("no-charges", _set("loads.1.charges", []), L2, "charges", ["at least one charge"]),
    # unknown fields
    (
        "unknown-load-field",
        _set("loads.1.customerId", "C-200"),
        L2,
        "customerId",
        ["did you mean 'customer_id'"],
    ),
    ("unknown-charge-field", _set("loads.1.charges.0.amt", "1"), L2, "charges[0].amt", ["unknown field"]),
    (
        "unknown-customer-field",
        _set("customers.0.email", "a@b.co"),
        "customers[0] (C-100)",
        "email",
        ["qb_email"],
    ),
    # missing references
    (
        "missing-customer-ref",
        _set("loads.1.customer_id", "C-999"),
        L2,
        "customer_id",
        ["customer 'C-999' is not"],
    ),
    ("missing-code-ref", _set("loads.1.charges.0.code", "DET"), L2, "charges[0].code", ["charge code 'DET'"]),
    # duplicate keys in the file
    (
        "dup-customer",
        _append("customers", {"id": "C-100", "name": "X"}),
        "customers[2] (C-100)",
        "id",
        ["customers[0]"],
    ),
    (
        "dup-code",
        _append("charge_codes", GOOD["charge_codes"][1]),
        "charge_codes[2] (FSC)",
        "code",
        ["charge_codes[1]"],
    ),
    (
        "dup-load",
        _append("loads", GOOD["loads"][0]),
        "loads[3] (L-1001)",
        "load_number",
        ["also at loads[0]"],
    ),
    # amounts
    (
        "amount-float",
        _set(AMOUNT, 850.5),
        L2,
        "charges[0].amount",
        ['like "850.00"', "the number 850.5", "quotes"],
    ),
    ("amount-int", _set(AMOUNT, 850), L2, "charges[0].amount", ["the number 850", "quotes"]),
    ("amount-bool", _set(AMOUNT, False), L2, "charges[0].amount", ["the boolean false"]),
    ("amount-null", _set(AMOUNT, None), L2, "charges[0].amount", ["got null"]),
    ("amount-negative", _set(AMOUNT, "-5.00"), L2, "charges[0].amount", ["not be negative", "'-5.00'"]),
    ("amount-3-places", _set(AMOUNT, "850.125"), L2, "charges[0].amount", ["more than 2 decimal places"]),
    ("amount-nan", _set(AMOUNT, "NaN"), L2, "charges[0].amount", ["finite", "'NaN'"]),
    ("amount-infinity", _set(AMOUNT, "Infinity"), L2, "charges[0].amount", ["finite"]),
    ("amount-exponent", _set(AMOUNT, "1e3"), L2, "charges[0].amount", ["plain digits", "'1e3'"]),
    ("amount-currency", _set(AMOUNT, "$850.00"), L2, "charges[0].amount", ["no currency sign", "'$850.00'"]),
    ("amount-thousands", _set(AMOUNT, "1,250.00"), L2, "charges[0].amount", ["thousands separator"]),
    ("amount-empty", _set(AMOUNT, " "), L2, "charges[0].amount", ["empty"]),
    ("amount-huge", _set(AMOUNT, "10000000.00"), L2, "charges[0].amount", ["too large", "9999999.99"]),
    # dates
    ("date-month-13", _set("loads.1.invoice_date", "2026-13-01"), L2, "invoice_date", ["not a real date"]),
    ("date-feb-30", _set("loads.1.invoice_date", "2026-02-30"), L2, "invoice_date", ["not a real date"]),
    ("date-us-format", _set("loads.1.invoice_date", "11/20/2026"), L2, "invoice_date", ["YYYY-MM-DD"]),
    ("date-with-time", _set("loads.1.invoice_date", "2026-11-20T10:00"), L2, "invoice_date", ["YYYY-MM-DD"]),
    ("date-year-0202", _set("loads.1.invoice_date", "0202-11-20"), L2, "invoice_date", ["out of range"]),
    # emails
    ("email-no-dot", _set("customers.0.qb_email", "ap@acme"), "customers[0] (C-100)", "qb_email", ["no dot"]),
    (
        "email-no-at",
        _set("customers.0.qb_email", "ap.acme.com"),
        "customers[0] (C-100)",
        "qb_email",
        ["no @"],
    ),
    (
        "email-two-at",
        _set("customers.0.qb_email", "a@b@c.com"),
        "customers[0] (C-100)",
        "qb_email",
        ["more than one"],
    ),
    (
        "email-space",
        _set("customers.0.qb_email", "a p@acme.com"),
        "customers[0] (C-100)",
        "qb_email",
        ["a space"],
    ),
    # load numbers and other text
    (
        "load-number-empty",
        _set("loads.1.load_number", ""),
        "loads[1]",
        "load_number",
        ["load number is empty"],
    ),
    ("load-number-blank", _set("loads.1.load_number", "  "), "loads[1]", "load_number", ["is empty"]),
    (
        "load-number-newline",
        _set("loads.1.load_number", "L-10\n02"),
        "loads[1]",
        "load_number",
        ["a newline", "'L-10\\n02'"],
    ),
    ("load-number-int", _set("loads.1.load_number", 1002), "loads[1]", "load_number", ["the number 1002"]),
    ("load-number-long", _set("loads.1.load_number", "L" * 65), "loads[1]", "load_number", ["too long"]),
    ("id-empty", _set("customers.1.id", " "), "customers[1]", "id", ["id is empty"]),
    ("id-too-long", _set("customers.1.id", "C" * 65), "customers[1]", "id", ["too long", "at most 64"]),
    ("name-too-long", _set("customers.1.name", "N" * 201), "customers[1] (C-200)", "name", ["at most 200"]),
    (
        "code-name-too-long",
        _set("charge_codes.1.name", "N" * 101),
        "charge_codes[1] (FSC)",
        "name",
        ["at most 100"],
    ),
    ("name-tab", _set("customers.1.name", "Bolt\tLogistics"), "customers[1] (C-200)", "name", ["a tab"]),
    (
        "description-nul",
        _set("loads.1.charges.0.description", "a\x00b"),
        L2,
        "charges[0].description",
        ["NUL"],
    ),
    # the document
    ("unknown-section", _set("invoices", []), "", None, ["unknown section 'invoices'"]),
    ("misspelt-section", _set("load", []), "", None, ["did you mean 'loads'"]),
]


def _bad(mutation: Mutation) -> dict[str, Any]:
    """A file that would rename a stored customer and add a load, broken by ``mutation``."""
    data = good()
    data["customers"][0]["name"] = "Acme Foods (renamed)"
    data["loads"].append({**copy.deepcopy(GOOD["loads"][1]), "load_number": "L-NEW"})
    mutation(data)
    return data


def _assert_problem(error: ImportFileError, record: str, field: str | None, fragments: list[str]) -> None:
    matching = [p for p in error.problems if p.record == record and p.field == field]
    assert matching, [str(p) for p in error.problems]
    assert any(all(f in p.message for f in fragments) for p in matching), [str(p) for p in matching]
    shown = f"{record}: {field}: " if field else (f"{record}: " if record else "")
    assert shown in str(error)


@pytest.mark.parametrize(
    ("mutation", "record", "field", "fragments"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_record_names_record_and_field_and_writes_nothing(
    seeded, mutation, record, field, fragments
):
    before = snapshot(seeded)
    with pytest.raises(ImportFileError) as caught:
        import_data(seeded, _bad(mutation), source="tms.json")
    assert isinstance(caught.value, UserInputError) and caught.value.exit_code == 2
    assert str(caught.value).startswith("nothing was imported from tms.json: ")
    _assert_problem(caught.value, record, field, fragments)
    assert snapshot(seeded) == before


@pytest.mark.parametrize(
    ("data", "fragment"),
    [([GOOD], "must be a JSON object"), ("loads", "the string 'loads'"), (None, "got null")],
    ids=["array", "string", "null"],
)
def test_the_document_must_be_an_object(engine, data, fragment):
    with pytest.raises(ImportFileError) as caught:
        import_data(engine, data)
    assert fragment in str(caught.value)
    assert caught.value.problems[0].record == ""
    assert snapshot(engine)["customer"] == []


def test_every_problem_is_reported_in_file_order(engine):
    data = good()
    data["loads"][0]["charges"][0]["amount"] = 850.5
    data["loads"][0]["customer_id"] = "C-404"
    data["customers"][1]["qb_email"] = "nope"
    with pytest.raises(ImportFileError) as caught:
        import_data(engine, data)
    assert [(p.record, p.field) for p in caught.value.problems] == [
        ("customers[1] (C-200)", "qb_email"),
        ("loads[0] (L-1001)", "charges[0].amount"),
        ("loads[0] (L-1001)", "customer_id"),
    ]
    lines = str(caught.value).splitlines()
    assert lines[0] == "nothing was imported from import: 3 problems"
    assert lines[2] == (
        'loads[0] (L-1001): charges[0].amount: amount must be a decimal string like "850.00", '
        "got the number 850.5; put it in quotes"
    ).join(["  ", ""])


def test_a_record_in_the_file_that_is_invalid_is_not_also_reported_as_missing(engine):
    data = good()
    data["customers"][0]["qb_email"] = "bad"
    with pytest.raises(ImportFileError) as caught:
        import_data(engine, data)
    assert [(p.record, p.field) for p in caught.value.problems] == [("customers[0] (C-100)", "qb_email")]


def test_a_long_list_of_problems_is_capped_in_the_message(engine):
    data = good()
    for load in data["loads"]:
        load["charges"] = [{"code": "BASE", "amount": 1.5}] * 30
    with pytest.raises(ImportFileError) as caught:
        import_data(engine, data)
    assert len(caught.value.problems) == 60
    message = str(caught.value)
    assert message.splitlines()[-1] == "  … and 10 more"
    assert len(message.splitlines()) == 1 + 50 + 1


# --------------------------------------------------------------------------- malformed files

FILES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "the file is empty"),
    ("blank", b"  \n\t", "the file is empty"),
    ("bom-only", b"\xef\xbb\xbf\n", "the file is empty"),
    ("broken-json", b'{"loads": [\n  {"load_number": "L-1",}\n]}', "not valid JSON: Expecting property name"),
    ("truncated", b'{"loads": [', "line 1, column 12"),
    ("non-utf8", b'{"customers": [{"id": "C-1", "name": "Caf\xe9"}]}', "not UTF-8 text: byte 0xe9 at line 1"),
    ("utf16", "{}".encode("utf-16"), "UTF-16"),
    ("nan-literal", b'{"loads": [{"amount": NaN}]}', "NaN is not a JSON value"),
    (
        "duplicate-key",
        b'{"customers": [{"id": "C-1", "id": "C-2", "name": "A"}]}',
        "the key 'id' more than once",
    ),
    ("top-level-array", b"[]", "must be a JSON object"),
    ("huge-number", b'{"loads": [{"amount": ' + b"9" * 4301 + b"}]}", "a number has 4,301 digits"),
]


@pytest.mark.parametrize(
    ("content", "fragment"), [case[1:] for case in FILES], ids=[case[0] for case in FILES]
)
def test_a_malformed_file_is_refused_and_writes_nothing(seeded, tmp_path, content, fragment):
    path = tmp_path / "tms.json"
    path.write_bytes(content)
    before = snapshot(seeded)
    with pytest.raises(ImportFileError) as caught:
        import_file(seeded, path)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"nothing was imported from {path}: ")
    assert snapshot(seeded) == before


def test_broken_json_says_where(engine, tmp_path):
    path = tmp_path / "tms.json"
    path.write_bytes(b'{"loads": [\n  {"load_number": "L-1",}\n]}')
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, path)
    assert "at line 2, column 25" in str(caught.value)


@pytest.mark.parametrize(("name", "fragment"), [("missing.json", "does not exist"), (".", "is a directory")])
def test_an_unreadable_path_is_bad_input(engine, tmp_path, name, fragment):
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, tmp_path / name)
    assert fragment in str(caught.value)


# --------------------------------------------------------------------------- command line


def _write(tmp_path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def test_cli_imports_then_reports_nothing_changed(cli_env, engine, tmp_path):
    path = _write(tmp_path, "tms.json", GOOD)
    runner = CliRunner()
    first = runner.invoke(qbsync, ["import", path])
    assert first.exit_code == 0, first.output
    assert "loads         2 created, 0 updated, 0 unchanged" in first.stdout
    second = runner.invoke(qbsync, ["import", path, "--json"])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["loads"] == {"created": 0, "updated": 0, "unchanged": 2}
    third = runner.invoke(qbsync, ["import", path])
    assert "Nothing changed" in third.stdout


def test_cli_reports_a_customer_change_after_sync(cli_env, seeded, tmp_path):
    data = good()
    data["loads"][0]["customer_id"] = "C-200"
    result = CliRunner().invoke(qbsync, ["import", _write(tmp_path, "tms.json", data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customer_changed"] == ["L-1001"]


def test_cli_bad_file_after_a_good_one_exits_2_and_keeps_the_good_data(cli_env, engine, tmp_path):
    runner = CliRunner()
    assert runner.invoke(qbsync, ["import", _write(tmp_path, "good.json", GOOD)]).exit_code == 0
    before = snapshot(engine)
    data = good()
    data["customers"][0]["name"] = "Renamed"
    data["loads"][1]["charges"][0]["amount"] = 1200.0
    result = runner.invoke(qbsync, ["import", _write(tmp_path, "bad.json", data)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("qbsync: nothing was imported from ")
    assert "loads[1] (L-1002): charges[0].amount: " in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (["import", "missing.json"], None, "missing.json: the file does not exist"),
        (["import", "-"], "", "standard input is empty"),
        (["import", "-"], "[1, 2", "not valid JSON"),
    ],
    ids=["missing-file", "empty-stdin", "broken-stdin"],
)
def test_cli_bad_input_exits_2_with_one_message(cli_env, args, stdin, fragment):
    result = CliRunner().invoke(qbsync, args, input=stdin)
    assert result.exit_code == 2
    assert result.stderr.startswith("qbsync: ")
    assert fragment in result.stderr


def test_cli_reads_standard_input(cli_env, engine):
    result = CliRunner().invoke(qbsync, ["import", "-"], input=json.dumps(GOOD))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported standard input:")


def test_cli_help_describes_the_format(cli_env):
    result = CliRunner().invoke(qbsync, ["import", "--help"])
    assert result.exit_code == 0
    for fragment in ("load_number", "YYYY-MM-DD", "850.00", "nothing is written", "--json"):
        assert fragment in result.stdout
