"""Sample data for ``qbsync demo``: Harbor Line Drayage, a container trucking company at the Port of
Oakland, its TMS (customers, charge codes, loads) and its QuickBooks Online company.

Load numbers follow the TMS's pattern ``M<yymm>-<sequence>``; invoice dates are days before ``today``
so the story is always this week. Each load of this week is built to meet one reason for not syncing
(see :mod:`demo.walkthrough`); ``Sample.roles`` names them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

COMPANY_NAME = "Harbor Line Drayage LLC"

CUSTOMERS = [
    {"id": "C-1001", "name": "Atlas Home Imports", "qb_email": "ap@atlashome.example"},
    {"id": "C-1002", "name": "Blue Harbor Freight Forwarding", "qb_email": "billing@blueharbor.example"},
    {
        "id": "C-1003",
        "name": "Green Valley Food Distributors",
        "qb_email": "invoices@greenvalleyfoods.example",
    },
    {"id": "C-1004", "name": "Pacific Rim Trading Co.", "qb_email": "ar@pacrimtrading.example"},
    {"id": "C-1005", "name": "Keystone Cold Storage", "qb_email": "payables@keystonecold.example"},
    {"id": "C-1006", "name": "Sierra Fresh Produce", "qb_email": "ap@sierrafresh.example"},
    {"id": "C-1007", "name": "Golden Gate Grocers", "qb_email": None},
]

# In QuickBooks: Blue Harbor's profile has another email than the TMS, Sierra Fresh is not there yet,
# and Golden Gate Grocers is there under a longer name (the TMS has no QuickBooks email for it).
QB_CUSTOMERS = [
    ("Atlas Home Imports", "ap@atlashome.example"),
    ("Blue Harbor Freight Forwarding", "ap@blueharbor.example"),
    ("Green Valley Food Distributors", "invoices@greenvalleyfoods.example"),
    ("Pacific Rim Trading Co.", "ar@pacrimtrading.example"),
    ("Keystone Cold Storage", "payables@keystonecold.example"),
    ("Golden Gate Grocers Inc.", "accounting@goldengategrocers.example"),
    ("Bayview Furniture Outlet", "payables@bayviewfurniture.example"),
]

CHARGE_CODES = [
    {"code": "BASE", "name": "Base Price"},
    {"code": "CHS", "name": "Chassis"},
    {"code": "FSC", "name": "Fuel Surcharge"},
    {"code": "PREPULL", "name": "Pre-Pull"},
    {"code": "STOR", "name": "Storage"},
    {"code": "PDIEM", "name": "Per Diem"},
    {"code": "DET", "name": "Detention"},
]

# Products and Services: no Detention yet; "Accessorials" will get a second "Storage" during the week.
QB_ITEMS = ["Base Price", "Chassis", "Fuel Surcharge", "Pre-Pull", "Per Diem", "Storage", "Accessorials"]

ROUTES = {
    "oak-tracy": "Port of Oakland (TraPac) → Tracy, CA",
    "oak-stockton": "Port of Oakland (OICT) → Stockton, CA",
    "oak-hayward": "Port of Oakland (SSA) → Hayward, CA",
    "oak-sacramento": "Port of Oakland (OICT) → West Sacramento, CA",
    "oak-fremont": "Port of Oakland (TraPac) → Fremont, CA",
}


def quickbooks_company() -> dict[str, Any]:
    """The seed of the QuickBooks company (the emulator's ``/_emulator/seed`` format)."""
    return {
        "company_info": {"CompanyName": COMPANY_NAME, "LegalName": COMPANY_NAME},
        "customers": [
            {"DisplayName": name, "CompanyName": name, "PrimaryEmailAddr": {"Address": email}}
            for name, email in QB_CUSTOMERS
        ],
        "items": [{"Name": name, "Type": "Service"} for name in QB_ITEMS],
    }


@dataclass
class Sample:
    """The TMS loads of the demo, in the import format, grouped by when they reach qbsync."""

    today: dt.date
    last_week: list[dict[str, Any]] = field(default_factory=list)
    this_week: list[dict[str, Any]] = field(default_factory=list)
    afternoon: list[dict[str, Any]] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)

    def number(self, sequence: int) -> str:
        return f"M{self.today:%y%m}-{sequence:04d}"

    def load(self, role_or_number: str) -> dict[str, Any]:
        """A load by its role in the story, or by its number."""
        number = self.roles.get(role_or_number, role_or_number)
        return next(x for x in self.last_week + self.this_week + self.afternoon if x["load_number"] == number)


def _load(
    number: str, customer: str, day: dt.date, container: str, route: str, *extra: tuple[str, str, str]
) -> dict[str, Any]:
    """A load with its base price, chassis and fuel surcharge, plus ``extra`` (code, description, amount)."""
    base = {"oak-tracy": "875.00", "oak-stockton": "950.00", "oak-hayward": "540.00"}.get(route, "725.00")
    fuel = (Decimal(base) * Decimal("0.17")).quantize(Decimal("0.01"))
    charges = [
        ("BASE", f"Drayage {ROUTES[route]}, container {container}", base),
        ("CHS", "Chassis, 3 days at $45.00", "135.00"),
        ("FSC", "Fuel surcharge 17%", str(fuel)),
        *extra,
    ]
    return {
        "load_number": number,
        "customer_id": customer,
        "invoice_date": day.isoformat(),
        "charges": [{"code": c, "description": d, "amount": a} for c, d, a in charges],
    }


def build(today: dt.date) -> Sample:
    """The demo's loads for a story that ends ``today``."""
    sample = Sample(today)
    n = sample.number

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    pre_pull = ("PREPULL", "Pre-pull to yard before last free day", "175.00")
    per_diem = ("PDIEM", "Per diem, 2 days at $150.00", "300.00")
    storage = ("STOR", "Yard storage, 2 days at $85.00", "170.00")
    detention = ("DET", "Detention at consignee, 1.5 h at $95.00", "142.50")
    sample.last_week = [
        _load(n(398), "C-1001", ago(8), "MSCU 482913-7", "oak-tracy"),
        _load(n(401), "C-1003", ago(8), "TGHU 771204-3", "oak-stockton"),
        _load(n(403), "C-1004", ago(7), "CMAU 305519-0", "oak-fremont", pre_pull),
        _load(n(405), "C-1005", ago(7), "SEGU 610447-2", "oak-hayward"),
        _load(n(406), "C-1001", ago(6), "MSKU 903321-5", "oak-tracy", per_diem),
    ]
    long_number = f"{n(417)}-TRANSLOAD-02"  # 23 characters: QuickBooks keeps 21
    sample.this_week = [
        _load(n(409), "C-1002", ago(2), "HLXU 220913-6", "oak-fremont"),
        _load(n(410), "C-1006", ago(2), "CGMU 516001-2", "oak-stockton"),
        _load(n(411), "C-1007", ago(2), "OOLU 184420-9", "oak-hayward"),
        _load(n(412), "C-1003", ago(2), "TRHU 640215-1", "oak-sacramento", storage, detention),
        _load(n(413), "C-1005", ago(2), "BMOU 228873-4", "oak-hayward"),
        _load(n(414), "C-1004", ago(1), "CMAU 417760-8", "oak-fremont"),
        _load(n(415), "C-1001", ago(1), "MSCU 559102-3", "oak-tracy", pre_pull),
        _load(n(416), "C-1001", ago(1), "MSDU 702281-6", "oak-tracy"),
        _load(long_number, "C-1004", ago(1), "EGHU 930114-2", "oak-fremont"),
    ]
    closed_period = today.replace(day=1) - dt.timedelta(days=1)  # last day of the previous month
    sample.afternoon = [
        _load(n(418), "C-1005", closed_period, "SEGU 118034-5", "oak-hayward"),
        _load(n(419), "C-1003", ago(0), "TGHU 300981-2", "oak-stockton"),
        _load(n(420), "C-1001", ago(0), "MSKU 650388-1", "oak-tracy"),
        _load(n(421), "C-1005", ago(0), "SEGU 412207-9", "oak-hayward"),
    ]
    sample.roles = {
        "moved": n(398),  # customer changed in the TMS after the sync
        "recharged": n(401),  # charges changed in the TMS after the sync
        "deleted": n(403),  # its invoice deleted in QuickBooks
        "voided": n(405),  # its invoice voided in QuickBooks (the move was cancelled)
        "copied_by_hand": n(414),  # a bookkeeper typed the same invoice into QuickBooks
        "typed_by_hand": n(416),  # a bookkeeper made another invoice with this number
        "too_long": long_number,
        "closed_period": n(418),
        "throttled": n(419),
        "outage": n(420),
        "numbering_off": n(421),
    }
    return sample


def total(load: dict[str, Any]) -> Decimal:
    return sum((Decimal(c["amount"]) for c in load["charges"]), Decimal("0.00"))
