"""The second workspace's company (``qbsync playground --workspaces 2``): Bayside Drayage, another
container trucker at the Port of Oakland, with a TMS and a QuickBooks company of its own.

Its loads carry the very numbers of Harbor Line Drayage's demo loads (``demo.data.build``), on purpose:
the same ``/qbsync M…-0412`` typed in both workspaces must answer from each one's own company — other
customers, other amounts, another state. Most of its loads sync; two do not, for reasons Harbor's loads of
those numbers do not have: ``-0406`` is for a customer QuickBooks does not have yet, ``-0413`` carries a
bridge toll, a charge code with no QuickBooks item.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from demo import data as harbor

COMPANY_NAME = "Bayside Drayage Inc."
REALM_ID = "9341000000000002"  # its QuickBooks company in the emulator (Harbor's is the default one)

CUSTOMERS = [
    {"id": "B-201", "name": "Delta Pacific Imports", "qb_email": "ap@deltapacific.example"},
    {"id": "B-202", "name": "Redwood Furniture Supply", "qb_email": "payables@redwoodfurniture.example"},
    {"id": "B-203", "name": "Mission Bay Beverage Co.", "qb_email": "ar@missionbaybev.example"},
    {"id": "B-204", "name": "Northgate Electronics", "qb_email": "invoices@northgate.example"},
    {"id": "B-205", "name": "Coastline Produce Market", "qb_email": "ap@coastlineproduce.example"},
]
NOT_IN_QUICKBOOKS = "B-205"  # a new customer: in the TMS, not yet in QuickBooks

CHARGE_CODES = [
    {"code": "BASE", "name": "Base Price"},
    {"code": "CHS", "name": "Chassis"},
    {"code": "FSC", "name": "Fuel Surcharge"},
    {"code": "PDIEM", "name": "Per Diem"},
    {"code": "TOLL", "name": "Bridge Toll"},  # no such item in QuickBooks
]
QB_ITEMS = ["Base Price", "Chassis", "Fuel Surcharge", "Per Diem"]

ROUTES = {  # the route, and its base price
    "livermore": ("Port of Oakland (OICT) → Livermore, CA", "780.00"),
    "modesto": ("Port of Oakland (TraPac) → Modesto, CA", "1120.00"),
    "san-jose": ("Port of Oakland (SSA) → San Jose, CA", "640.00"),
    "vacaville": ("Port of Oakland (OICT) → Vacaville, CA", "905.00"),
}

# by the sequence of the load number: its customer, route and container
PLAN = {
    398: ("B-203", "vacaville", "TCLU 118820-4"),
    401: ("B-201", "livermore", "FCIU 552019-8"),
    403: ("B-204", "san-jose", "BEAU 440196-1"),
    405: ("B-202", "modesto", "TGBU 873305-0"),
    406: (NOT_IN_QUICKBOOKS, "livermore", "CAIU 209177-6"),
    409: ("B-201", "modesto", "DFSU 661420-3"),
    410: ("B-203", "san-jose", "SEKU 730051-9"),
    411: ("B-204", "vacaville", "GESU 318864-2"),
    412: ("B-202", "livermore", "TEMU 905512-7"),
    413: ("B-201", "vacaville", "CSNU 127733-5"),
    414: ("B-203", "modesto", "OOCU 480216-0"),
    415: ("B-204", "livermore", "HMMU 602947-3"),
    416: ("B-202", "san-jose", "YMLU 351180-6"),
    418: ("B-201", "san-jose", "MAGU 244039-1"),
    419: ("B-204", "modesto", "TRLU 870312-4"),
    420: ("B-203", "livermore", "WHSU 519926-8"),
    421: ("B-202", "vacaville", "KOCU 431178-2"),
}
WITH_TOLL = 413
TOLL = ("TOLL", "Bay Bridge toll, 5 axles", "38.00")
PER_DIEM = ("PDIEM", "Per diem, 1 day at $140.00", "140.00")


def quickbooks_company() -> dict[str, Any]:
    """Bayside's QuickBooks company (the emulator's seed format), in realm :data:`REALM_ID`."""
    return {
        "realm_id": REALM_ID,
        "company_info": {"CompanyName": COMPANY_NAME, "LegalName": COMPANY_NAME},
        "customers": [
            {
                "DisplayName": c["name"],
                "CompanyName": c["name"],
                "PrimaryEmailAddr": {"Address": c["qb_email"]},
            }
            for c in CUSTOMERS
            if c["id"] != NOT_IN_QUICKBOOKS
        ],
        "items": [{"Name": name, "Type": "Service"} for name in QB_ITEMS],
    }


def tms_event(today: dt.date) -> dict[str, Any]:
    """Bayside's TMS data as one TMS event (the import format): its customers, charge codes and loads,
    numbered as Harbor Line Drayage's are for a story that ends ``today``."""
    sample = harbor.build(today)
    numbers = {
        int(load["load_number"].rsplit("-", 1)[1]): load
        for load in sample.last_week + sample.this_week + sample.afternoon
        if load["load_number"].rsplit("-", 1)[1].isdigit()
    }
    loads = []
    for sequence, (customer, route, container) in PLAN.items():
        harbor_load = numbers[sequence]
        days_ago = max(0, (today - dt.date.fromisoformat(harbor_load["invoice_date"])).days)
        day = today - dt.timedelta(days=min(days_ago, 9))
        extra = [TOLL] if sequence == WITH_TOLL else [PER_DIEM] if sequence % 3 == 0 else []
        loads.append(_load(harbor_load["load_number"], customer, day, route, container, extra))
    return {"customers": CUSTOMERS, "charge_codes": CHARGE_CODES, "loads": loads}


def _load(
    number: str, customer: str, day: dt.date, route: str, container: str, extra: list[tuple[str, str, str]]
) -> dict[str, Any]:
    where, base = ROUTES[route]
    fuel = (Decimal(base) * Decimal("0.19")).quantize(Decimal("0.01"))  # Bayside's surcharge: 19%
    charges = [
        ("BASE", f"Drayage {where}, container {container}", base),
        ("CHS", "Chassis, 2 days at $40.00", "80.00"),
        ("FSC", "Fuel surcharge 19%", str(fuel)),
        *extra,
    ]
    return {
        "load_number": number,
        "customer_id": customer,
        "invoice_date": day.isoformat(),
        "charges": [{"code": c, "description": d, "amount": a} for c, d, a in charges],
    }
