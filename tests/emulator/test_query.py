"""The query language through python-quickbooks, plus raw GET/POST shape checks."""

from __future__ import annotations

import pytest
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from .conftest import api, make_customer, make_invoice


@pytest.fixture
def invoices(emu, qb):
    customers = emu.seed({"customers": [{"DisplayName": "Acme Foods"}, {"DisplayName": "Bayside Freight"}]})
    acme, bay = (c["Id"] for c in customers["customers"])
    made = [
        make_invoice(qb, acme, [("1", "100")], doc_number="L-1001"),
        make_invoice(qb, acme, [("1", "250")], doc_number="L-1002"),
        make_invoice(qb, bay, [("1", "75")], doc_number="L-2001"),
    ]
    return {"acme": acme, "bay": bay, "invoices": made}


def test_select_all_response_shape(emu, invoices):
    body = api(
        emu,
        emu.issue_tokens(),
        "POST",
        "query",
        data="SELECT * FROM Invoice",
        headers={"Content-Type": "application/text"},
    ).json()
    assert set(body) == {"QueryResponse", "time"}
    assert body["QueryResponse"]["startPosition"] == 1
    assert body["QueryResponse"]["maxResults"] == 3
    assert [i["DocNumber"] for i in body["QueryResponse"]["Invoice"]] == ["L-1001", "L-1002", "L-2001"]


def test_get_with_query_parameter(emu, invoices):
    response = api(emu, emu.issue_tokens(), "GET", "query", params={"query": "select count(*) from Invoice"})
    assert response.json()["QueryResponse"] == {"totalCount": 3}


def test_no_rows_is_an_empty_query_response(emu):
    body = api(emu, emu.issue_tokens(), "GET", "query", params={"query": "SELECT * FROM Invoice"}).json()
    assert body["QueryResponse"] == {}


def test_count_through_library(qb, invoices):
    assert Invoice.count(qb=qb) == 3
    assert Invoice.count(f"CustomerRef = '{invoices['acme']}'", qb=qb) == 2


def test_filter_by_reference_and_amount(qb, invoices):
    found = Invoice.where(f"CustomerRef = '{invoices['acme']}' AND TotalAmt > '150'", qb=qb)
    assert [i.DocNumber for i in found] == ["L-1002"]
    assert [i.DocNumber for i in Invoice.where("TotalAmt <= 100", qb=qb)] == ["L-1001", "L-2001"]


def test_in_list_via_choose(qb, invoices):
    found = Invoice.choose(["L-1001", "L-2001"], field="DocNumber", qb=qb)
    assert sorted(i.DocNumber for i in found) == ["L-1001", "L-2001"]


def test_like_and_case_insensitive_values(qb, invoices):
    assert len(Invoice.where("DocNumber LIKE 'l-10%'", qb=qb)) == 2
    assert Customer.where("DisplayName = 'acme foods'", qb=qb)[0].DisplayName == "Acme Foods"


def test_keywords_entity_and_property_names_case_insensitive(qb, invoices):
    rows = qb.query("select * from invoice where docnumber = 'L-2001' orderby txndate desc")
    assert rows["QueryResponse"]["Invoice"][0]["DocNumber"] == "L-2001"


def test_orderby_and_paging(qb, invoices):
    first = Invoice.where("", order_by="TotalAmt DESC", start_position=1, max_results=2, qb=qb)
    second = Invoice.where("", order_by="TotalAmt DESC", start_position=3, max_results=2, qb=qb)
    assert [i.TotalAmt for i in first] == [250.0, 100.0]
    assert [i.TotalAmt for i in second] == [75.0]


def test_order_by_two_words_as_python_quickbooks_all_sends(qb, invoices):
    assert [i.DocNumber for i in Invoice.all(order_by="DocNumber DESC", qb=qb)][0] == "L-2001"


def test_dotted_metadata_field(qb, invoices):
    created = invoices["invoices"][0].MetaData.CreateTime
    assert Invoice.count(f"MetaData.LastUpdatedTime >= '{created}'", qb=qb) == 3
    assert Invoice.count("MetaData.LastUpdatedTime < '2000-01-01T00:00:00-08:00'", qb=qb) == 0


def test_projection_returns_selected_fields(qb, invoices):
    rows = qb.query("SELECT DocNumber, TotalAmt FROM Invoice WHERE DocNumber = 'L-1001'")["QueryResponse"]
    row = rows["Invoice"][0]
    assert row["DocNumber"] == "L-1001" and row["TotalAmt"] == 100.0
    assert "Line" not in row and row["sparse"] is True


def test_escaped_quote_and_backslash(qb):
    make_customer(qb, "O'Brien Hauling")
    make_customer(qb, "Back\\Slash Ltd")
    assert Customer.filter(DisplayName="O'Brien Hauling", qb=qb)[0].DisplayName == "O'Brien Hauling"
    found = Customer.where("DisplayName = 'Back\\\\Slash Ltd'", qb=qb)
    assert found[0].DisplayName == "Back\\Slash Ltd"


def test_item_all_with_sku_column(qb):
    assert [i.Name for i in Item.all(qb=qb)] == ["Services"]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM Customer WHERE DisplayName = 'Acme",  # unbalanced quote
        "SELECT * FROM Vendorz",  # unknown entity
        "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
        "SELECT * FROM Customer WHERE DisplayName = 'C:\\temp'",  # lone backslash
        "SELECT * FROM Customer WHERE DisplayName = \u2019Acme\u2019",  # curly apostrophes as quotes
        "SELECT * FROM Customer WHERE Nickname = 'x'",  # unknown property
        "SELECT * FROM Customer WHERE DisplayName = 'O'Brien'",  # unescaped quote
        "SELECT FROM Customer",
        "",
    ],
)
def test_malformed_queries_are_4000(qb, statement):
    with pytest.raises(ValidationException) as exc:
        qb.query(statement)
    assert exc.value.error_code == 4000
    assert exc.value.message == "Error parsing query"
    assert exc.value.detail.startswith("QueryParserError")


def test_malformed_query_http_status_and_body(emu):
    response = api(
        emu, emu.issue_tokens(), "GET", "query", params={"query": "SELECT * FROM Customer WHERE x = '"}
    )
    assert response.status_code == 400
    fault = response.json()["Fault"]
    assert fault["type"] == "ValidationFault"
    assert fault["Error"][0]["code"] == "4000"


def test_curly_apostrophe_inside_straight_quotes_is_just_a_character(qb):
    make_customer(qb, "O\u2019Neil Cartage")
    assert len(Customer.where("DisplayName = 'O\u2019Neil Cartage'", qb=qb)) == 1


def test_maxresults_over_1000_is_refused(qb):
    with pytest.raises(ValidationException) as exc:
        qb.query("SELECT * FROM Customer MAXRESULTS 1001")
    assert exc.value.error_code == 4001


def test_id_supports_only_equality_and_in(qb):
    with pytest.raises(ValidationException):
        qb.query("SELECT * FROM Invoice WHERE Id > '1'")
    assert qb.query("SELECT * FROM Item WHERE Id IN ('1', '2')")["QueryResponse"]["Item"][0]["Id"] == "1"
