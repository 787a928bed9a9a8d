"""The QuickBooks query language, and running one statement over a realm: parse it
(:mod:`emulator.query_parser`), log it (:mod:`emulator.query_log`), select the matching records
(:mod:`emulator.query_eval`), then page and project them into a ``QueryResponse``.

Supported: ``SELECT * | SELECT count(*) | SELECT f1, f2 [, ...] | SELECT *, f`` ``FROM`` one of
Invoice, Customer, Item, Account, Payment, Preferences, CompanyInfo; ``WHERE`` conditions joined by ``AND``
(``OR`` is a parse error, as in QuickBooks) with ``= < > <= >= IN (...) LIKE``; ``ORDERBY`` (or
``ORDER BY``) field [ASC|DESC]; ``STARTPOSITION n`` (1-based) and ``MAXRESULTS n`` (default 100,
at most 1000).

Literals: single-quoted strings where a backslash escapes a quote (``'O\\'Brien'``) or a backslash
(``'C:\\\\dir'``) and nothing else, numbers, ``true``/``false``, and ``' '`` for null. A lone
backslash, an unbalanced or curly quote, ``OR``, an unknown entity or property all give fault 4000
"Error parsing query"; nothing is ever matched loosely.

Case sensitivity follows Intuit's "Query operations and syntax" page: reserved words, entity
names and property names are not case sensitive, and *attribute values are not case sensitive
either* -- ``DisplayName = 'acme foods'`` finds "Acme Foods", and LIKE ignores case too. (The same
page elsewhere calls entity names case sensitive; the emulator accepts any case and answers with
the canonical name.) Ordering of strings is case-insensitive as well.

Name-list entities (Customer, Item, Account) return only active records unless the query filters on
``Active`` itself, e.g. ``WHERE Active IN (true, false)``.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import has_app_context

from emulator import errors
from emulator.context import current
from emulator.query_eval import select
from emulator.query_log import QueryLog
from emulator.query_parser import parse
from emulator.state import Realm


def _project(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": record["Id"]}
    for prop in fields:
        top = prop.split(".")[0]
        if top in record:
            out[top] = record[top]
    out.update({"domain": "QBO", "sparse": True})
    return out


def _log() -> QueryLog | None:
    if not has_app_context():
        return None
    return current().queries


def run(realm: Realm, text: str) -> dict[str, Any]:
    """Parse and evaluate; returns the ``QueryResponse`` object. Every statement is logged."""
    log = _log()
    try:
        query = parse(text)
    except errors.QBOError as err:
        if log is not None:
            log.record(realm.realm_id, str(text), None, err.fault()["Error"][0].get("Detail"))
        raise
    if log is not None:
        log.record(realm.realm_id, text, query)
    rows = select(realm, query)
    if query.count:
        return {"totalCount": len(rows)}
    page = rows[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}
    page = [_project(record, query.fields) if query.fields else copy.deepcopy(record) for record in page]
    return {query.entity: page, "startPosition": query.start, "maxResults": len(page)}
