"""Customers, items, accounts and preferences through python-quickbooks."""

from __future__ import annotations

import pytest
from quickbooks.exceptions import QuickbooksException, UnsupportedException, ValidationException
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item
from quickbooks.objects.preferences import Preferences

from .conftest import api, make_customer, ref


def new_item(qb, name: str, parent=None, income: str = "1") -> Item:
    item = Item()
    item.Name = name
    item.Type = "Service"
    item.IncomeAccountRef = ref(income)
    if parent is not None:
        item.SubItem = True
        item.ParentRef = parent.to_ref()
    return item.save(qb=qb)


def test_customer_keeps_email_names_and_company(qb):
    customer = Customer()
    customer.DisplayName = "Acme Foods"
    customer.GivenName = "Ana"
    customer.FamilyName = "Ruiz"
    customer.CompanyName = "Acme Foods LLC"
    customer.PrimaryEmailAddr = {"Address": "ap@acme.example"}
    saved = customer.save(qb=qb)
    again = Customer.get(saved.Id, qb=qb)
    assert again.PrimaryEmailAddr.Address == "ap@acme.example"
    assert (again.GivenName, again.FamilyName, again.CompanyName) == ("Ana", "Ruiz", "Acme Foods LLC")
    assert again.Active is True
    assert again.FullyQualifiedName == "Acme Foods"


def test_customer_display_name_unique_case_insensitively(qb):
    make_customer(qb, "Acme Foods")
    with pytest.raises(QuickbooksException) as exc:
        make_customer(qb, "ACME foods")
    assert exc.value.error_code == 6240
    assert exc.value.message == "Duplicate Name Exists Error"


def test_customer_display_name_required(qb):
    with pytest.raises(ValidationException) as exc:
        Customer().save(qb=qb)
    assert exc.value.error_code == 2020


def test_customer_sparse_update_with_sync_token(emu, qb):
    customer = make_customer(qb, "Acme Foods", "old@acme.example")
    tokens = emu.issue_tokens()
    body = {
        "Id": customer.Id,
        "SyncToken": "0",
        "sparse": True,
        "PrimaryEmailAddr": {"Address": "ap@acme.example"},
    }
    result = api(emu, tokens, "POST", "customer", json=body).json()["Customer"]
    assert result["PrimaryEmailAddr"] == {"Address": "ap@acme.example"}
    assert result["DisplayName"] == "Acme Foods"
    assert result["SyncToken"] == "1"
    assert api(emu, tokens, "POST", "customer", json=body).json()["Fault"]["Error"][0]["code"] == "5010"


def test_inactive_customers_hidden_from_plain_queries(qb):
    customer = make_customer(qb, "Gone Co")
    customer.Active = False
    customer.save(qb=qb)
    assert Customer.filter(DisplayName="Gone Co", qb=qb) == []
    assert len(Customer.where("DisplayName = 'Gone Co' AND Active IN (true, false)", qb=qb)) == 1


def test_customers_cannot_be_deleted(emu):
    tokens = emu.issue_tokens()
    response = api(emu, tokens, "POST", "customer?operation=delete", json={"Id": "1", "SyncToken": "0"})
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "500"


def test_item_needs_known_income_account(qb):
    with pytest.raises(ValidationException) as exc:
        new_item(qb, "Base Price", income="999")
    assert exc.value.error_code == 2500
    item = Item()
    item.Name = "No Account"
    item.Type = "Service"
    with pytest.raises(ValidationException) as missing:
        item.save(qb=qb)
    assert missing.value.error_code == 2020


def test_sub_items_have_fully_qualified_names(qb):
    parent = new_item(qb, "Accessorials")
    child = new_item(qb, "Chassis", parent)
    assert child.FullyQualifiedName == "Accessorials:Chassis"
    assert child.SubItem is True
    assert child.ParentRef.value == parent.Id
    assert child.Level == 1


def test_same_item_name_allowed_under_different_parents(qb):
    first, second = new_item(qb, "Port A"), new_item(qb, "Port B")
    names = {
        new_item(qb, "Chassis", first).FullyQualifiedName,
        new_item(qb, "Chassis", second).FullyQualifiedName,
    }
    assert names == {"Port A:Chassis", "Port B:Chassis"}


def test_item_names_compared_exactly_among_siblings(qb):
    new_item(qb, "Fuel Surcharge")
    new_item(qb, "fuel  surcharge")  # differs in case and spacing: allowed, the classic duplicate code
    with pytest.raises(QuickbooksException) as exc:
        new_item(qb, "Fuel Surcharge")
    assert exc.value.error_code == 6240
    matches = Item.where("Name LIKE 'fuel%'", qb=qb)
    assert sorted(item.Name for item in matches) == ["Fuel Surcharge", "fuel  surcharge"]


def test_renaming_parent_renames_children(qb):
    parent = new_item(qb, "Accessorials")
    child = new_item(qb, "Chassis", parent)
    parent.Name = "Extras"
    parent.save(qb=qb)
    assert Item.get(child.Id, qb=qb).FullyQualifiedName == "Extras:Chassis"


def test_account_create_and_duplicate_name(qb):
    account = Account()
    account.Name = "Fuel Income"
    account.AccountType = "Income"
    saved = account.save(qb=qb)
    assert saved.Classification == "Revenue"
    assert Account.filter(Name="Fuel Income", qb=qb)[0].Id == saved.Id
    twin = Account()
    twin.Name = "fuel income"
    twin.AccountType = "Income"
    with pytest.raises(QuickbooksException) as exc:
        twin.save(qb=qb)
    assert exc.value.error_code == 6240


def test_preferences_full_update_through_library(qb):
    prefs = Preferences.get(qb=qb)
    prefs.SalesFormsPrefs.CustomTxnNumbers = False
    updated = prefs.save(qb=qb)
    assert updated.SalesFormsPrefs.CustomTxnNumbers is False
    assert updated.SyncToken == "1"
    queried = qb.query("SELECT * FROM Preferences")["QueryResponse"]["Preferences"][0]
    assert queried["SalesFormsPrefs"]["CustomTxnNumbers"] is False


def test_preferences_sparse_update_needs_current_sync_token(emu):
    tokens = emu.issue_tokens()
    body = {"SyncToken": "0", "sparse": True, "SalesFormsPrefs": {"CustomTxnNumbers": False}}
    first = api(emu, tokens, "POST", "preferences", json=body)
    assert first.json()["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    assert first.json()["Preferences"]["SalesFormsPrefs"]["AllowEstimates"] is True  # untouched
    again = api(emu, tokens, "POST", "preferences", json=body)
    assert again.json()["Fault"]["Error"][0]["code"] == "5010"


def test_unknown_entity_endpoint_is_unsupported(qb):
    with pytest.raises(UnsupportedException):
        qb.get_single_object("Vendor", "1")
