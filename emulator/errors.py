"""QuickBooks Online fault bodies and the exception that carries them.

Validation faults use the documented JSON shape::

    {"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": "ValidationFault"},
     "time": "..."}

Authentication (401) and authorization (403) failures come from Intuit's gateway rather than
the accounting service and use the gateway's lower-case envelope, as seen in the wild::

    {"warnings": null, "intuitObject": null,
     "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                          "detail": "...", "code": "3200", "element": null}],
               "type": "AUTHENTICATION"}, ...}

Throttling (429) uses the upper-case ``Fault`` with type ``SERVICE`` (or the XML
``IntuitResponse`` when the emulator is configured to answer throttles in XML, as QuickBooks
has been seen to do even when JSON was asked for).
"""

from __future__ import annotations

import time
from typing import Any
from xml.sax.saxutils import escape

from emulator.timeutil import response_time


class QBOError(Exception):
    """A QuickBooks fault: raised anywhere in request handling, rendered by the API layer."""

    def __init__(
        self,
        code: str | int,
        message: str,
        detail: str = "",
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type

    def fault(self) -> dict[str, Any]:
        """The ``Fault`` object (without the surrounding envelope)."""
        return {
            "Error": [
                {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}
            ],
            "type": self.fault_type,
        }

    def body(self) -> dict[str, Any]:
        """The full response body."""
        return {"Fault": self.fault(), "time": response_time()}


# --- constructors for the faults the emulator raises -------------------------------------------


def required_missing(element: str) -> QBOError:
    return QBOError(
        2020,
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def invalid_property(detail: str, element: str = "") -> QBOError:
    return QBOError(2010, "Request has invalid or unsupported property", f"Property Name:{detail}", element)


def invalid_reference(entity: str, ref_id: Any, element: str) -> QBOError:
    return QBOError(
        2500,
        "Invalid Reference Id",
        f"Invalid Reference Id : {entity} assigned to this transaction does not exist: Id={ref_id}",
        element,
    )


def object_not_found(element: str = "", what: str = "") -> QBOError:
    detail = (
        "Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees."
    )
    if what:
        detail += f" ({what})"
    return QBOError(610, "Object Not Found", detail, element)


def string_length(element: str, max_len: int, supplied: int) -> QBOError:
    return QBOError(
        2050,
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{max_len} "
        f"supplied length:{supplied}",
        element,
    )


def duplicate_doc_number(doc_number: str, txn_id: str) -> QBOError:
    return QBOError(
        6140,
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has "
        f"already been used. DocNumber={doc_number} is assigned to TxnType=Invoice with TxnId={txn_id}",
    )


def duplicate_name(existing_id: str) -> QBOError:
    return QBOError(
        6240,
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is already using "
        f"this name. Please use a different name. Id={existing_id}",
    )


def stale_object() -> QBOError:
    return QBOError(
        5010,
        "Stale Object Error",
        "Stale Object Error : You and root were working on this at the same time. root finished "
        "before you did, so your work was not saved.",
    )


def business_validation(detail: str, element: str = "") -> QBOError:
    return QBOError(
        6000,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def unsupported_operation(detail: str) -> QBOError:
    return QBOError(500, "Unsupported Operation", f"Operation {detail} is not supported.")


def query_error(detail: str) -> QBOError:
    return QBOError(4000, "Error parsing query", f"QueryParserError: {detail}")


def system_failure() -> QBOError:
    return QBOError(
        10000,
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data. "
        "Please wait a few minutes and try again. If the problem persists, contact customer support.",
        status=500,
        fault_type="SystemFault",
    )


# --- gateway-level bodies -----------------------------------------------------------------------


def gateway_fault_body(code: str, message: str, detail: str, fault_type: str) -> dict[str, Any]:
    """The lower-case envelope Intuit's gateway returns for 401/403."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [{"message": message, "detail": detail, "code": code, "element": None}],
            "type": fault_type,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(time.time() * 1000),
        "status": None,
        "cdcresponse": [],
    }


def authentication_failed_body(detail: str) -> dict[str, Any]:
    return gateway_fault_body(
        "3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401", detail, "AUTHENTICATION"
    )


def authorization_failed_body(detail: str) -> dict[str, Any]:
    return gateway_fault_body(
        "3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", detail, "SERVICE"
    )


THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached.  Try again later"


def throttle_json_body() -> dict[str, Any]:
    return QBOError(3001, THROTTLE_MESSAGE, THROTTLE_DETAIL, status=429, fault_type="SERVICE").body()


def throttle_xml_body() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse time="{response_time()}" xmlns="http://schema.intuit.com/finance/v3">\n'
        '    <Fault type="SERVICE">\n'
        '        <Error code="3001">\n'
        f"            <Message>{escape(THROTTLE_MESSAGE)}</Message>\n"
        f"            <Detail>{escape(THROTTLE_DETAIL)}</Detail>\n"
        "        </Error>\n"
        "    </Fault>\n"
        "</IntuitResponse>\n"
    )


def html_error_page(status: int, reason: str) -> str:
    """The kind of HTML page a load balancer returns instead of JSON."""
    return (
        f"<html><head><title>{status} {reason}</title></head>"
        f"<body><center><h1>{status} {reason}</h1></center><hr><center>server</center></body></html>\n"
    )
