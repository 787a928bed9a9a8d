"""The query language's grammar and parser: statement text to a validated, typed :class:`Query`.

The grammar is lark's, parsed LALR; literals are typed against the property they are compared with,
and every problem -- a syntax error, an unknown entity or property, a value of the wrong kind, a bad
paging clause -- is a 4000/4001 ``QBOError``. The language itself is described in :mod:`emulator.query`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

from emulator import errors
from emulator.entities import canonical
from emulator.query_model import (
    BOOL,
    COMMON_FIELDS,
    DATE,
    DATETIME,
    EMAIL,
    FIELDS,
    ID,
    MAX_RESULTS_LIMIT,
    NUM,
    REF,
    STR,
    Condition,
    Query,
)
from emulator.timeutil import parse_date, parse_datetime

GRAMMAR = r"""
    start: _SELECT projection _FROM IDENT where? orderby? paging*

    projection: STAR ("," field)*            -> star
              | _COUNT "(" STAR ")"          -> count
              | field ("," field)*           -> fields

    where: _WHERE condition (_AND condition)*
    condition: field OP value                -> compare
             | field _IN "(" value ("," value)* ")" -> within
             | field _LIKE STRING            -> like

    orderby: (_ORDERBY | _ORDER _BY) order_item ("," order_item)*
    order_item: field DIRECTION?

    paging: _STARTPOSITION NUMBER            -> startposition
          | _MAXRESULTS NUMBER               -> maxresults

    field: IDENT
    value: STRING                            -> string
         | NUMBER                            -> number
         | _TRUE                             -> true
         | _FALSE                            -> false

    STAR: "*"
    OP: "<=" | ">=" | "=" | "<" | ">"
    DIRECTION: "ASC"i | "DESC"i
    _SELECT: "SELECT"i
    _COUNT: "COUNT"i
    _FROM: "FROM"i
    _WHERE: "WHERE"i
    _AND: "AND"i
    _IN: "IN"i
    _LIKE: "LIKE"i
    _ORDERBY: "ORDERBY"i
    _ORDER: "ORDER"i
    _BY: "BY"i
    _STARTPOSITION: "STARTPOSITION"i
    _MAXRESULTS: "MAXRESULTS"i
    _TRUE: "TRUE"i
    _FALSE: "FALSE"i
    IDENT: /[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*/i
    STRING: /'(?:[^'\\]|\\['\\])*'/
    NUMBER: /-?[0-9]+(\.[0-9]+)?/
    %ignore /\s+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


class _Literal:
    """A parsed literal before it is typed against the property it is compared with."""

    def __init__(self, raw: Any, is_string: bool) -> None:
        self.raw = raw
        self.is_string = is_string


def _unescape(token: str) -> str:
    return re.sub(r"\\(['\\])", r"\1", token[1:-1])


@v_args(inline=True)
class _ToTree(Transformer):
    """Turn the parse tree into plain Python pieces; typing happens in :func:`parse`."""

    def string(self, token: Token) -> _Literal:
        return _Literal(_unescape(str(token)), True)

    def number(self, token: Token) -> _Literal:
        return _Literal(Decimal(str(token)), False)

    def true(self) -> _Literal:
        return _Literal(True, False)

    def false(self) -> _Literal:
        return _Literal(False, False)

    def field(self, token: Token) -> str:
        return str(token)

    def star(self, _star: Token, *names: str) -> tuple[str, list[str]]:
        return ("star", list(names))

    def count(self, _star: Token) -> tuple[str, list[str]]:
        return ("count", [])

    def fields(self, *names: str) -> tuple[str, list[str]]:
        return ("fields", list(names))

    def compare(self, name: str, op: Token, value: _Literal) -> tuple[str, str, list[_Literal]]:
        return (name, str(op), [value])

    def within(self, name: str, *values: _Literal) -> tuple[str, str, list[_Literal]]:
        return (name, "in", list(values))

    def like(self, name: str, pattern: Token) -> tuple[str, str, list[_Literal]]:
        return (name, "like", [_Literal(_unescape(str(pattern)), True)])

    def where(self, *conditions: tuple) -> tuple[str, list[tuple]]:
        return ("where", list(conditions))

    def order_item(self, name: str, direction: Token | None = None) -> tuple[str, bool]:
        return (name, bool(direction) and str(direction).lower() == "desc")

    def orderby(self, *items: tuple[str, bool]) -> tuple[str, list]:
        return ("orderby", list(items))

    def startposition(self, number: Token) -> tuple[str, str]:
        return ("startposition", str(number))

    def maxresults(self, number: Token) -> tuple[str, str]:
        return ("maxresults", str(number))

    def start(self, projection: tuple, entity: Token, *clauses: tuple) -> dict[str, Any]:
        parts: dict[str, Any] = {"projection": projection, "entity": str(entity)}
        for name, value in clauses:
            parts[name] = value
        return parts


def _syntax_detail(exc: LarkError, text: str) -> str:
    if isinstance(exc, UnexpectedToken):
        return f'Encountered " {exc.token!s} " at line {exc.line}, column {exc.column}.'
    if isinstance(exc, UnexpectedCharacters):
        found = text[exc.pos_in_stream]
        return f'Lexical error at line {exc.line}, column {exc.column}.  Encountered: "{found}"'
    if isinstance(exc, UnexpectedEOF):
        return "Encountered <EOF> before the statement was complete."
    return "Invalid query statement."


def _property(entity: str, name: str) -> tuple[str, str]:
    """Canonical property name and kind, case-insensitively; unknown -> 4000."""
    known = {**COMMON_FIELDS, **FIELDS[entity]}
    for canonical_name, kind in known.items():
        if canonical_name.lower() == name.lower():
            return canonical_name, kind
    raise errors.query_error(f"property '{name}' is not queryable for {entity}")


def _typed(kind: str, literal: _Literal, name: str) -> Any:
    """Convert a literal to the property's kind; a mismatch is a query error."""
    raw = literal.raw
    if literal.is_string and raw == " ":
        return None  # QuickBooks spells null as ' '
    try:
        if kind in (ID, REF) and not isinstance(raw, bool):
            return str(raw).strip() if literal.is_string else str(int(raw))
        if kind in (STR, EMAIL) and literal.is_string:
            return raw.casefold()
        if kind == NUM and not isinstance(raw, bool):
            return Decimal(str(raw).strip())
        if kind == BOOL and isinstance(raw, bool):
            return raw
        if kind == BOOL and literal.is_string and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == DATE and literal.is_string:
            return parse_date(raw)
        if kind == DATETIME and literal.is_string:
            return parse_datetime(raw)
    except (ValueError, InvalidOperation) as exc:
        raise errors.query_error(f"invalid value '{raw}' for property '{name}'") from exc
    raise errors.query_error(f"invalid value '{raw}' for property '{name}'")


def _positive(value: str, clause: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise errors.query_error(f"{clause} must be a positive integer, got {value}")
    return int(value)


def parse(text: str) -> Query:
    """Parse and validate a query statement; every problem is a 4000/4001 QBOError."""
    if not isinstance(text, str) or not text.strip():
        raise errors.query_error("empty query statement")
    try:
        parts = _ToTree().transform(_PARSER.parse(text))
    except VisitError as exc:
        raise errors.query_error("Invalid query statement.") from exc
    except LarkError as exc:
        raise errors.query_error(_syntax_detail(exc, text)) from exc
    entity = canonical(parts["entity"])
    if entity is None:
        raise errors.query_error(f"Invalid entity name '{parts['entity']}'")
    query = Query(entity=entity)
    kind, names = parts["projection"]
    query.count = kind == "count"
    if kind == "fields":
        query.fields = [_property(entity, name)[0] for name in names]
    else:
        for name in names:
            _property(entity, name)
    for name, op, literals in parts.get("where", []):
        prop, prop_kind = _property(entity, name)
        if prop_kind == ID and op not in ("=", "in"):
            raise errors.query_error(f"operator '{op}' is not supported for property '{prop}'")
        if op == "like" and prop_kind not in (STR, EMAIL):
            raise errors.query_error(f"LIKE is not supported for property '{prop}'")
        values = [_typed(prop_kind, literal, prop) for literal in literals]
        query.conditions.append(Condition(prop, prop_kind, op, values, [lit.raw for lit in literals]))
    for name, descending in parts.get("orderby", []):
        prop, prop_kind = _property(entity, name)
        query.order.append((prop, prop_kind, descending))
    if "startposition" in parts:
        query.start = _positive(parts["startposition"], "STARTPOSITION")
    if "maxresults" in parts:
        query.max_results = _positive(parts["maxresults"], "MAXRESULTS")
        if query.max_results > MAX_RESULTS_LIMIT:
            raise errors.QBOError(
                4001,
                "Invalid query",
                f"QueryValidationError: value {query.max_results} is too large. "
                f"Max allowed value is {MAX_RESULTS_LIMIT}",
            )
    return query
