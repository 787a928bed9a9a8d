"""Companies (realms): defaults, record shapes, isolation."""

from __future__ import annotations

import re

from quickbooks.objects.account import Account
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item
from quickbooks.objects.preferences import Preferences

from emulator.clients import quickbooks_client

from .conftest import make_customer

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_new_company_has_income_and_receivable_accounts(qb):
    accounts = {a.Name: a for a in Account.all(qb=qb)}
    assert accounts["Services"].AccountType == "Income"
    assert accounts["Sales of Product Income"].AccountType == "Income"
    assert accounts["Accounts Receivable (A/R)"].AccountType == "Accounts Receivable"


def test_custom_transaction_numbers_default_on(qb):
    assert Preferences.get(qb=qb).SalesFormsPrefs.CustomTxnNumbers is True


def test_company_info_readable_by_realm_id(qb, emu):
    info = CompanyInfo.get(emu.realm_id, qb=qb)
    assert info.CompanyName
    assert info.Id == "1"


def test_records_carry_numeric_id_sync_token_metadata_domain_sparse(qb):
    customer = make_customer(qb, "Acme Foods")
    assert customer.Id.isdigit()
    assert customer.SyncToken == "0"
    assert customer.domain == "QBO"
    assert customer.sparse is False
    assert ISO_SECONDS.match(customer.MetaData["CreateTime"])
    assert customer.MetaData["CreateTime"] == customer.MetaData["LastUpdatedTime"]


def test_update_increments_sync_token(qb):
    customer = make_customer(qb, "Acme Foods")
    customer.CompanyName = "Acme Foods Inc"
    updated = customer.save(qb=qb)
    assert updated.SyncToken == "1"
    assert updated.CompanyName == "Acme Foods Inc"


def test_realms_are_isolated(emu):
    first = quickbooks_client(emu)
    other = quickbooks_client(emu, realm_id="1234567890")
    make_customer(first, "Only In Default")
    assert Customer.filter(DisplayName="Only In Default", qb=first)
    assert Customer.filter(DisplayName="Only In Default", qb=other) == []
    # each company starts with its own default item
    assert [i.Name for i in Item.all(qb=other)] == ["Services"]
