"""JSON serialisation (Decimal amounts as JSON numbers) and response helpers."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(body: Any) -> str:
    return json.dumps(body, default=_default)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, mimetype="application/json", headers=headers)


def raw_json_response(text: str, status: int) -> Response:
    return Response(text, status=status, mimetype="application/json")
