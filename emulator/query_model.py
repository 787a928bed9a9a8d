"""What a query statement becomes: the property kinds, the queryable properties of each entity, and
the :class:`Query` (with its :class:`Condition` list) that the parser builds and the evaluator runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 100

# Property kinds
ID, STR, DATE, DATETIME, NUM, BOOL, REF, EMAIL = (
    "id",
    "str",
    "date",
    "datetime",
    "num",
    "bool",
    "ref",
    "email",
)

COMMON_FIELDS = {
    "Id": ID,
    "SyncToken": NUM,
    "MetaData.CreateTime": DATETIME,
    "MetaData.LastUpdatedTime": DATETIME,
}
FIELDS: dict[str, dict[str, str]] = {
    "Invoice": {
        "DocNumber": STR,
        "TxnDate": DATE,
        "DueDate": DATE,
        "CustomerRef": REF,
        "TotalAmt": NUM,
        "Balance": NUM,
        "PrivateNote": STR,
        "EmailStatus": STR,
        "PrintStatus": STR,
        "BillEmail": EMAIL,
    },
    "Customer": {
        "DisplayName": STR,
        "GivenName": STR,
        "MiddleName": STR,
        "FamilyName": STR,
        "CompanyName": STR,
        "FullyQualifiedName": STR,
        "PrintOnCheckName": STR,
        "PrimaryEmailAddr": EMAIL,
        "Active": BOOL,
        "Balance": NUM,
        "Job": BOOL,
        "Taxable": BOOL,
    },
    "Item": {
        "Name": STR,
        "FullyQualifiedName": STR,
        "Description": STR,
        "Active": BOOL,
        "Type": STR,
        "Sku": STR,
        "SubItem": BOOL,
        "ParentRef": REF,
        "Level": NUM,
        "UnitPrice": NUM,
        "Taxable": BOOL,
        "IncomeAccountRef": REF,
    },
    "Account": {
        "Name": STR,
        "FullyQualifiedName": STR,
        "AccountType": STR,
        "AccountSubType": STR,
        "Classification": STR,
        "Active": BOOL,
        "AcctNum": STR,
        "CurrentBalance": NUM,
        "SubAccount": BOOL,
    },
    "Payment": {
        "TxnDate": DATE,
        "CustomerRef": REF,
        "TotalAmt": NUM,
        "UnappliedAmt": NUM,
        "PaymentRefNum": STR,
        "PrivateNote": STR,
    },
    "Preferences": {},
    "CompanyInfo": {"CompanyName": STR, "LegalName": STR, "Country": STR},
}
NAME_LISTS = ("Customer", "Item", "Account")


@dataclass
class Condition:
    field: str
    kind: str
    op: str  # "=", "<", ">", "<=", ">=", "in", "like"
    values: list[Any]
    literals: list[Any] = field(default_factory=list)  # as written (unescaped), for the query log


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] = field(default_factory=list)  # empty: all properties
    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, str, bool]] = field(default_factory=list)  # (field, kind, descending)
    start: int = 1
    max_results: int = DEFAULT_MAX_RESULTS
