"""Evaluating a parsed query over a realm: which records match its conditions, and in what order.

Name-list entities (Customer, Item, Account) match active records only unless a condition is on
``Active`` itself. Strings compare case-insensitively; a record without the property is matched only
by the null literal ``' '``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from emulator.query_model import BOOL, DATE, DATETIME, EMAIL, ID, NAME_LISTS, NUM, REF, STR, Condition, Query
from emulator.state import Realm
from emulator.timeutil import parse_date, parse_datetime


def _raw(record: dict[str, Any], prop: str) -> Any:
    value: Any = record
    for part in prop.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _value(record: dict[str, Any], prop: str, kind: str) -> Any:
    """A record's property value in comparable form (None when it has none)."""
    value = _raw(record, prop)
    if value is None or value == "":
        return None
    if kind == REF:
        return str(value.get("value")) if isinstance(value, dict) else str(value)
    if kind == EMAIL:
        return str(value.get("Address", "")).casefold() if isinstance(value, dict) else str(value).casefold()
    if kind == STR:
        return str(value).casefold()
    if kind == NUM:
        return Decimal(str(value))
    if kind == DATE:
        return parse_date(str(value))
    if kind == DATETIME:
        return parse_datetime(str(value))
    if kind == ID:
        return str(value)
    return value


def _like(pattern: str, value: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, value, flags=re.IGNORECASE | re.DOTALL) is not None


def _matches(record: dict[str, Any], cond: Condition) -> bool:
    value = _value(record, cond.field, cond.kind)
    if cond.op == "in":
        return value in cond.values
    target = cond.values[0]
    if target is None or value is None:
        return cond.op == "=" and target is None and value is None
    if cond.op == "like":
        return _like(target, value)
    try:
        if cond.op == "=":
            return value == target
        if cond.op == "<":
            return value < target
        if cond.op == ">":
            return value > target
        if cond.op == "<=":
            return value <= target
        return value >= target
    except TypeError:
        return False


def _sort(rows: list[dict[str, Any]], order: list[tuple[str, str, bool]]) -> list[dict[str, Any]]:
    rows = sorted(rows, key=lambda record: int(record["Id"]))
    for prop, kind, descending in reversed(order):

        def compare(a: dict[str, Any], b: dict[str, Any], prop: str = prop, kind: str = kind) -> int:
            left, right = _value(a, prop, kind), _value(b, prop, kind)
            if left is None or right is None:
                return (left is not None) - (right is not None)
            return (left > right) - (left < right)

        rows = sorted(rows, key=cmp_to_key(compare), reverse=descending)
    return rows


def select(realm: Realm, query: Query) -> list[dict[str, Any]]:
    """All matching records in order (before paging)."""
    conditions = list(query.conditions)
    if query.entity in NAME_LISTS and not any(cond.field == "Active" for cond in conditions):
        conditions.append(Condition("Active", BOOL, "=", [True]))
    rows = [record for record in realm.all(query.entity) if all(_matches(record, c) for c in conditions)]
    return _sort(rows, query.order)
