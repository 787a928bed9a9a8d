"""QuickBooks failures as domain errors: the QuickBooks code, detail, element and ``intuit_tid``.

python-quickbooks raises its exception classes by code range and hides the HTTP status and the
``element`` of a Fault; the response recorder in ``http.py`` keeps the last response, so the
translation here reads the status and the Fault body itself (JSON, or XML as 429s sometimes are).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum

import requests

from services.errors import QbsyncError


class Kind(StrEnum):
    AUTH = "auth"  # 401 / 3200: token expired, revoked or malformed
    FORBIDDEN = "forbidden"  # 403 / 3100, 120: scope, wrong company, user no longer admin
    NOT_CONNECTED = "not_connected"  # no tokens, or refresh refused (invalid_grant)
    THROTTLED = "throttled"  # 429 / 3001
    UNAVAILABLE = "unavailable"  # 5xx, timeouts, dropped connections
    STALE = "stale"  # 5010: SyncToken out of date
    NOT_FOUND = "not_found"  # 610
    VALIDATION = "validation"  # any other Fault


@dataclass
class Fault:
    code: str
    message: str
    detail: str = ""
    element: str = ""


class QboError(QbsyncError):
    """A QuickBooks request failed. ``code`` is Intuit's error code as a string ("6140")."""

    def __init__(
        self,
        kind: Kind,
        message: str,
        *,
        code: str = "",
        detail: str = "",
        element: str = "",
        http_status: int | None = None,
        intuit_tid: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.detail = detail
        self.element = element
        self.http_status = http_status
        self.intuit_tid = intuit_tid
        self.retry_after = retry_after  # seconds, from a throttled answer's Retry-After

    @property
    def transient(self) -> bool:
        return self.kind in (Kind.THROTTLED, Kind.UNAVAILABLE)

    def __str__(self) -> str:
        parts = [f"QuickBooks {self.kind.value}"]
        if self.code:
            parts.append(f"code {self.code}")
        text = f"{' '.join(parts)}: {self.message}"
        if self.detail and self.detail != self.message:
            text += f" ({self.detail})"
        if self.intuit_tid:
            text += f" [intuit_tid {self.intuit_tid}]"
        return text


class NotConnected(QboError):
    def __init__(self, message: str, **kwargs) -> None:
        super().__init__(Kind.NOT_CONNECTED, message, **kwargs)


def parse_faults(body: str) -> list[Fault]:
    """The errors of a Fault body, JSON (``Fault`` or ``fault``) or XML (``IntuitResponse``)."""
    body = (body or "").strip()
    if not body:
        return []
    if body.startswith("<"):
        return _xml_faults(body)
    try:
        data = json.loads(body)
    except ValueError:
        return []
    fault = data.get("Fault") or data.get("fault") if isinstance(data, dict) else None
    if not isinstance(fault, dict):
        return []
    errors = fault.get("Error") or fault.get("error") or []
    faults = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        faults.append(
            Fault(
                code=str(error.get("code", "")),
                message=str(error.get("Message") or error.get("message") or ""),
                detail=str(error.get("Detail") or error.get("detail") or ""),
                element=str(error.get("element") or ""),
            )
        )
    return faults


def _xml_faults(body: str) -> list[Fault]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    faults = []
    for error in root.iter():
        if _local(error.tag) != "Error":
            continue
        texts = {_local(child.tag): (child.text or "") for child in error}
        faults.append(
            Fault(
                code=str(error.get("code", "")),
                message=texts.get("Message", ""),
                detail=texts.get("Detail", ""),
                element=error.get("element", ""),
            )
        )
    return faults


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def kind_for(status: int | None, code: str) -> Kind:
    """Classify by HTTP status first (the library hides it), then by Intuit's code."""
    if status == 401 or code == "3200":
        return Kind.AUTH
    if status == 429 or code == "3001":
        return Kind.THROTTLED
    if status == 403 or code in ("3100", "120"):
        return Kind.FORBIDDEN
    if status is not None and status >= 500:
        return Kind.UNAVAILABLE
    if code == "5010":
        return Kind.STALE
    if code == "610":
        return Kind.NOT_FOUND
    return Kind.VALIDATION


def from_response(response: requests.Response | None, fallback_message: str) -> QboError:
    """A ``QboError`` for a failed response (status and Fault body read directly)."""
    status = response.status_code if response is not None else None
    tid = response.headers.get("intuit_tid") if response is not None else None
    faults = parse_faults(response.text) if response is not None else []
    fault = faults[0] if faults else Fault(code="", message=fallback_message)
    message = fault.message or fallback_message
    if not faults and status is not None and status >= 500:
        message = f"QuickBooks answered HTTP {status}"
    return QboError(
        kind_for(status, fault.code),
        message,
        code=fault.code,
        detail=fault.detail,
        element=fault.element,
        http_status=status,
        intuit_tid=tid,
        retry_after=_retry_after(response),
    )


def from_fault(fault: dict, intuit_tid: str | None = None) -> QboError:
    """A ``QboError`` for the Fault of one batch item (``{"Error": [...], "type": ...}``)."""
    faults = parse_faults(json.dumps({"Fault": fault}))
    first = faults[0] if faults else Fault(code="", message="QuickBooks refused the batch item")
    return QboError(
        kind_for(None, first.code),
        first.message or "QuickBooks refused the batch item",
        code=first.code,
        detail=first.detail,
        element=first.element,
        intuit_tid=intuit_tid,
    )


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: not sent by QuickBooks as far as is known; back off instead


def from_transport(exc: requests.RequestException) -> QboError:
    """Timeouts, refused and dropped connections."""
    if isinstance(exc, requests.Timeout):
        message = "QuickBooks did not answer in time"
    else:
        message = "could not reach QuickBooks (connection failed or dropped)"
    return QboError(Kind.UNAVAILABLE, message, detail=type(exc).__name__)
