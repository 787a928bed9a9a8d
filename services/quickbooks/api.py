"""The QuickBooks Online API through python-quickbooks, with Intuit's failure modes made explicit.

Everything returns plain JSON dicts (amounts as ``Decimal``). Each call:
- uses the current access token from a ``TokenSource``; on 401 it asks for a refreshed token once,
  and if that is rejected too, marks the connection broken (``NotConnected``);
- passes the realm's adaptive limiter first (``limiter.py``: requests and batch requests per minute,
  requests in flight), and with it the company's budget shared with the other processes when one is
  given (``shared_budget.py``); a throttled answer (429/3001) pauses and slows the limiter, pauses the
  company for every process, and is tried again (``RetryPolicy.throttle_attempts`` times in all);
- retries outages (5xx, timeouts, dropped connections) with jittered exponential backoff, only for
  calls that are safe to repeat (reads, and writes carrying a ``requestid``, which QuickBooks
  answers idempotently — a batch too);
- turns every failure into a ``QboError`` carrying code, detail, element and ``intuit_tid``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from services.quickbooks.auth import IntuitAuth, allow_loopback_http
from services.quickbooks.errors import Kind, NotConnected, QboError, from_response, from_transport
from services.quickbooks.http import DEFAULT_TIMEOUT, ResponseRecorder, equip
from services.quickbooks.limiter import Exhausted, LimiterRegistry, Limits
from services.quickbooks.shared_budget import SharedBudget

log = logging.getLogger(__name__)

MINOR_VERSION = 75
PAGE_SIZE = 1000
BATCH_LIMIT = 30
INTERACTIVE_WAIT = 3.0  # seconds a request waits for the budget unless ``patient()``
# ...and for a place in flight, which a request ends within seconds: before the places were shared by
# every process, a request over QuickBooks' 10 in flight was answered 429 and tried again
INTERACTIVE_PLACE_WAIT = 30.0


class TokenSource(Protocol):
    """Where the API gets its access token (the stored connection, in production)."""

    def current(self) -> tuple[str, str]:
        """(realm id, a valid access token), refreshing first if it has expired. May raise NotConnected."""

    def refreshed(self, rejected_token: str) -> tuple[str, str]:
        """(realm id, a newer access token than ``rejected_token``)."""

    def broken(self, reason: str) -> None:
        """Record that QuickBooks refuses the connection."""


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    throttle_attempts: int | None = None  # tries of a throttled request in all; None: ``attempts``


class QuickBooksApi:
    """One company's QuickBooks API. Safe to share between threads."""

    def __init__(
        self,
        auth: IntuitAuth,
        tokens: TokenSource,
        api_base: str,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        shared: SharedBudget | None = None,
    ):
        allow_loopback_http(api_base)
        self.auth = auth
        self.tokens = tokens
        self.api_base = api_base.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.recorder = ResponseRecorder()
        self.limiters = LimiterRegistry(limits or Limits(), shared)
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.retry_count = 0  # requests sent again after an outage or a throttled answer
        self.timeout = DEFAULT_TIMEOUT  # (connect, read) seconds of each request
        self.last_intuit_tid: str | None = None

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self) -> tuple[QuickBooks, str]:
        realm_id, token = self.tokens.current()
        cached = getattr(self._local, "client", None)
        key = (realm_id, token, self.timeout)  # a changed timeout takes effect on the next request
        if cached is not None and cached[1] == key:
            return cached[0], token
        qb = QuickBooks(
            auth_client=_StaticAuth(self.auth.client_id, token),
            refresh_token=None,
            company_id=realm_id,
            minorversion=MINOR_VERSION,
            use_decimal=True,
        )
        qb.api_url_v3 = self.api_base  # the configured base (environment override or emulator)
        equip(qb.session, self.recorder, self.timeout)
        self._local.client = (qb, key)
        return qb, token

    @contextlib.contextmanager
    def patient(self, cancel: threading.Event | None = None) -> Iterator[None]:
        """Requests of this thread wait for the limiter as long as it takes (bulk syncs); others give
        up as throttled after ``INTERACTIVE_WAIT`` seconds of waiting for the budget (or
        ``INTERACTIVE_PLACE_WAIT`` for a place in flight), so a person is answered. Setting ``cancel``
        ends a wait with ``Cancelled`` (nothing sent)."""
        before = getattr(self._local, "patient", False), getattr(self._local, "cancel", None)
        self._local.patient, self._local.cancel = True, cancel
        try:
            yield
        finally:
            self._local.patient, self._local.cancel = before

    def limiter(self):
        """The adaptive limiter of the connected company."""
        return self.limiters.for_realm(self.tokens.current()[0])

    def _invoke(self, operation: Callable[[QuickBooks], Any], batch: bool = False) -> Any:
        """One HTTP exchange, errors translated; a rejected token is refreshed once."""
        qb, token = self._client()
        try:
            return self._limited(qb, operation, batch)
        except QboError as exc:
            if exc.kind is not Kind.AUTH:
                raise
            log.info("access token rejected (intuit_tid %s); refreshing once", exc.intuit_tid)
        self.tokens.refreshed(token)
        qb, _ = self._client()
        try:
            return self._limited(qb, operation, batch)
        except QboError as exc:
            if exc.kind is not Kind.AUTH:
                raise
            self.tokens.broken(f"QuickBooks rejected a freshly refreshed token (code {exc.code or 401})")
            raise NotConnected(
                "QuickBooks rejected the connection's tokens",
                code=exc.code or "3200",
                detail=exc.detail,
                http_status=exc.http_status,
                intuit_tid=exc.intuit_tid,
            ) from None

    def _limited(self, qb: QuickBooks, operation: Callable[[QuickBooks], Any], batch: bool) -> Any:
        """The exchange inside the realm's limiter; throttled answers slow it down and are tried again."""
        limiter = self.limiters.for_realm(qb.company_id)
        attempts = max(1, self.retry.throttle_attempts or self.retry.attempts)
        patient = getattr(self._local, "patient", False)
        max_wait, place_wait = (None, None) if patient else (INTERACTIVE_WAIT, INTERACTIVE_PLACE_WAIT)
        cancel = getattr(self._local, "cancel", None)
        for attempt in range(1, attempts + 1):
            try:
                with limiter.slot(batch=batch, max_wait=max_wait, place_wait=place_wait, cancel=cancel):
                    try:
                        result = self._exchange(qb, operation)
                    except QboError as exc:
                        if exc.kind is not Kind.THROTTLED:
                            limiter.answered()
                            raise
                        wait = limiter.throttled(exc.retry_after, self.retry.base_delay, self.retry.max_delay)
                        if attempt == attempts:
                            raise
                        log.info("throttled (attempt %d of %d); all wait %.2fs", attempt, attempts, wait)
                        self._count_retry()
                        continue
            except Exhausted as exc:  # only the limiter raises it, before the request is sent
                raise QboError(Kind.THROTTLED, str(exc), detail="qbsync's limiter") from None
            limiter.answered()
            return result
        raise AssertionError("unreachable")

    def _exchange(self, qb: QuickBooks, operation: Callable[[QuickBooks], Any]) -> Any:
        self.recorder.clear()
        with self._count_lock:
            self.request_count += 1
        try:
            result = operation(qb)
        except QuickbooksException as exc:
            error = from_response(self.recorder.last, exc.message)
            if not error.code and exc.error_code and exc.error_code != 10000:
                error.code = str(exc.error_code)
            raise self._noted(error) from None
        except requests.RequestException as exc:
            raise self._noted(from_transport(exc)) from None
        finally:
            response = self.recorder.last
            if response is not None:
                self.last_intuit_tid = response.headers.get("intuit_tid")
        return result

    def _count_retry(self) -> None:
        with self._count_lock:
            self.retry_count += 1

    def _noted(self, error: QboError) -> QboError:
        log.info("QuickBooks error %s (intuit_tid %s)", error, error.intuit_tid)
        return error

    def call(
        self, operation: Callable[[QuickBooks], Any], *, repeatable: bool = True, batch: bool = False
    ) -> Any:
        """Run ``operation`` through the limiter, with backoff on outages when ``repeatable``."""

        def should_retry(exc: BaseException) -> bool:
            return isinstance(exc, QboError) and repeatable and exc.kind is Kind.UNAVAILABLE

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info("retrying after %s (attempt %d)", exc, state.attempt_number)
            self._count_retry()

        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            stop=stop_after_attempt(max(1, self.retry.attempts)),
            wait=wait_random_exponential(multiplier=self.retry.base_delay, max=self.retry.max_delay),
            sleep=self.retry.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self._invoke, operation, batch)

    # -- operations ---------------------------------------------------------------------------

    def query(self, select: str) -> dict[str, Any]:
        """The ``QueryResponse`` of one query."""
        return self.call(lambda qb: qb.query(select))["QueryResponse"]

    def query_all(self, entity: str, where: str = "", *, page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """Every row of ``entity`` matching ``where`` (paged by STARTPOSITION/MAXRESULTS)."""
        rows: list[dict[str, Any]] = []
        start = 1
        clause = f" WHERE {where}" if where else ""
        while True:
            select = f"SELECT * FROM {entity}{clause} STARTPOSITION {start} MAXRESULTS {page_size}"
            page = self.query(select).get(entity, [])
            rows.extend(page)
            if len(page) < page_size:
                return rows
            start += page_size

    def read(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        """One entity by id, or None when QuickBooks says it does not exist (610)."""
        try:
            data = self.call(lambda qb: qb.get_single_object(entity, entity_id))
        except QboError as exc:
            if exc.kind is Kind.NOT_FOUND:
                return None
            raise
        return data[entity]

    def create(self, entity: str, body: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
        payload = _dumps(body)
        data = self.call(
            lambda qb: qb.create_object(entity, payload, request_id=request_id),
            repeatable=request_id is not None,
        )
        return data[entity]

    def update(self, entity: str, body: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
        """A full or sparse (``"sparse": True`` in ``body``) update; needs the current SyncToken."""
        payload = _dumps(body)
        data = self.call(
            lambda qb: qb.update_object(entity, payload, request_id=request_id),
            repeatable=request_id is not None,
        )
        return data[entity]

    def delete(self, entity: str, entity_id: str, sync_token: str, *, request_id: str | None = None) -> None:
        payload = _dumps({"Id": entity_id, "SyncToken": sync_token})
        self.call(
            lambda qb: qb.delete_object(entity, payload, request_id=request_id),
            repeatable=request_id is not None,
        )

    def void(self, entity: str, entity_id: str, sync_token: str) -> dict[str, Any]:
        """Void a transaction (``operation=void``): QuickBooks keeps it, worth nothing."""
        payload = _dumps({"Id": entity_id, "SyncToken": sync_token})
        url = f"/company/{{}}/{entity.lower()}"
        data = self.call(
            lambda qb: qb.post(
                f"{qb.api_url}{url.format(qb.company_id)}", payload, params={"operation": "void"}
            ),
            repeatable=False,
        )
        return data[entity]

    def batch(
        self, items: Iterable[dict[str, Any]], *, request_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Run batch items (each with a ``bId``); answers by ``bId``. Reads are retried, and writes
        when the batch carries a ``requestid`` (QuickBooks answers it again with its first answer)."""
        items = list(items)
        if len(items) > BATCH_LIMIT:
            raise ValueError(f"a batch holds at most {BATCH_LIMIT} items")
        repeatable = request_id is not None or all("Query" in item for item in items)
        payload = _dumps({"BatchItemRequest": items})

        def send(qb: QuickBooks) -> Any:
            if request_id is None:
                return qb.batch_operation(payload)
            return qb.post(f"{qb.api_url}/company/{qb.company_id}/batch", payload, request_id=request_id)

        data = self.call(send, repeatable=repeatable, batch=True)
        return {answer["bId"]: answer for answer in data.get("BatchItemResponse", [])}

    def change_data_capture(self, entities: Iterable[str], changed_since: str) -> dict[str, list[dict]]:
        """CDC: changed (and deleted) objects per entity since an ISO time."""
        data = self.call(lambda qb: qb.change_data_capture(",".join(entities), changed_since))
        changed: dict[str, list[dict]] = {}
        for block in data.get("CDCResponse", []):
            for response in block.get("QueryResponse", []):
                for key, value in response.items():
                    if isinstance(value, list):
                        changed.setdefault(key, []).extend(value)
        return changed


class _StaticAuth:
    """What ``QuickBooks(auth_client=...)`` reads to open its session: a token we already hold.

    Refreshing is the ``TokenSource``'s job (serialised across processes), never the library's.
    """

    environment = "production"

    def __init__(self, client_id: str, access_token: str) -> None:
        self.client_id = client_id or "qbsync"
        self.access_token = access_token
        self.refresh_token = None


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot encode {type(value).__name__}")
