"""Fixtures for the emulator's own tests: a shared real HTTP emulator, real client libraries."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice

from emulator.clients import quickbooks_client
from emulator.server import EmulatorServer

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="session")
def _shared_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0) as server:
        yield server


@pytest.fixture
def emu(_shared_emulator: EmulatorServer) -> EmulatorServer:
    """The shared emulator, reset to a fresh default company."""
    _shared_emulator.reset()
    return _shared_emulator


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., EmulatorServer]]:
    """Start an emulator with particular settings; stopped after the test."""
    started: list[EmulatorServer] = []

    def start(**options: Any) -> EmulatorServer:
        server = EmulatorServer(port=0, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def qb(emu: EmulatorServer) -> QuickBooks:
    """python-quickbooks connected to the default company."""
    return quickbooks_client(emu)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def ref(value: str, name: str = "") -> Ref:
    result = Ref()
    result.value = value
    result.name = name
    return result


def sales_line(item_id: str, amount: str | Decimal, description: str | None = None) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(str(amount))
    line.Description = description
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item_id)
    return line


def make_customer(qb: QuickBooks, name: str, email: str | None = None) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    if email:
        customer.PrimaryEmailAddr = {"Address": email}
    return customer.save(qb=qb)


def make_invoice(
    qb: QuickBooks,
    customer_id: str,
    lines: list[tuple[str, str]] | None = None,
    doc_number: str | None = None,
    request_id: str | None = None,
) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = ref(customer_id)
    invoice.DocNumber = doc_number
    invoice.Line = [sales_line(item, amount) for item, amount in (lines or [("1", "100.00")])]
    return invoice.save(qb=qb, request_id=request_id)


def api(
    emu: EmulatorServer, tokens: dict[str, Any], method: str, path: str, **kwargs: Any
) -> requests.Response:
    """A raw API call (for protocol details the client libraries hide)."""
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    url = f"{emu.api_base}/company/{tokens['realm_id']}/{path}"
    return requests.request(method, url, headers=headers, timeout=10, **kwargs)


def line_json(amount: float, qty: float, price: float) -> dict:
    """A sales line as raw JSON (item 1), for requests sent without python-quickbooks."""
    detail = {"ItemRef": {"value": "1"}, "Qty": qty, "UnitPrice": price}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


@pytest.fixture
def tokens(emu):
    return emu.issue_tokens()


@pytest.fixture
def invoice(qb, tokens, emu):
    """Invoice L-100 for Acme Foods ($125.50, memo "load L-100"), created over HTTP."""
    customer = make_customer(qb, "Acme Foods")
    body = {
        "CustomerRef": {"value": customer.Id},
        "DocNumber": "L-100",
        "PrivateNote": "load L-100",
        "Line": [line_json(100.0, 2, 50.0), line_json(25.5, 1, 25.5)],
    }
    response = api(emu, tokens, "POST", "invoice", json=body)
    assert response.status_code == 200, response.text
    return response.json()["Invoice"]
