"""TMS events (``POST /tms/events``): the import format's objects, signed by the TMS.

The TMS signs a timestamp with the body::

    X-Qbsync-Timestamp: <unix seconds>
    X-Qbsync-Signature: v1=<hex HMAC-SHA256 of "v1:{timestamp}:{raw body}">

keyed with ``QBSYNC_TMS_WEBHOOK_SECRET``. The signature is compared in constant time, and a
timestamp more than ``TOLERANCE`` seconds from the server's clock is refused, so a captured request
cannot be sent again later. The body-only form of earlier versions (``sha256=<HMAC of the body>``)
could be replayed forever and is refused.

The body is validated and written exactly as ``qbsync import`` does it (all or nothing), as an event
signed at its timestamp: an ``"event_id"`` is accepted once, and a record that a newer event was applied
to is left alone (``services.tms.importer``). The loads it created or changed are then synced, so a changed
customer or amount on a synced load is reported as ``qbsync sync --all`` reports it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import logging
import re
import time

from sqlalchemy.engine import Engine

from services.sync import SyncEngine, SyncResult
from services.tms.importer import ImportSummary, import_stream

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Qbsync-Signature"
TIMESTAMP_HEADER = "X-Qbsync-Timestamp"
VERSION = "v1"
TOLERANCE = 300  # seconds either side of the server's clock
MAX_BODY = 5 * 1024 * 1024
SOURCE = "webhook"
NEW_FORM = (
    f"{TIMESTAMP_HEADER}: <unix seconds> and "
    f'{SIGNATURE_HEADER}: v1=<hex HMAC-SHA256 of "v1:{{timestamp}}:{{body}}">'
)

_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v1=[0-9a-f]{64}", re.ASCII)


class SignatureRefused(Exception):
    """Why a request is not a TMS event signed now: ``str()`` is the answer's error, ``log`` the log line."""

    def __init__(self, message: str, log_reason: str) -> None:
        super().__init__(message)
        self.log_reason = log_reason


def signature(secret: str, timestamp: int | str, raw: bytes) -> str:
    """The ``X-Qbsync-Signature`` value for ``raw`` sent at ``timestamp`` (unix seconds)."""
    signed_text = f"{VERSION}:{timestamp}:".encode() + raw
    return f"{VERSION}=" + hmac.new(secret.encode(), signed_text, hashlib.sha256).hexdigest()


def signed_headers(secret: str, raw: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers a TMS sends with ``raw`` (now, unless ``timestamp`` is given)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature(secret, ts, raw),
    }


def verify(secret: str, raw: bytes, timestamp: str | None, sig: str | None) -> dt.datetime:
    """The event's signed time, when ``sig`` signs ``raw`` at ``timestamp`` and that is within
    ``TOLERANCE`` seconds of the server's clock; otherwise ``SignatureRefused`` saying why."""
    given = (sig or "").strip()
    if not given:
        raise SignatureRefused(f"missing {SIGNATURE_HEADER}; sign events as {NEW_FORM}", "no signature")
    if given[:7].lower() == "sha256=":
        raise SignatureRefused(
            f"{SIGNATURE_HEADER}: sha256=… (the body alone) is no longer accepted; sign events as {NEW_FORM}",
            "a body-only sha256= signature",
        )
    stamp = (timestamp or "").strip()
    if not stamp:
        raise SignatureRefused(f"missing {TIMESTAMP_HEADER}; sign events as {NEW_FORM}", "no timestamp")
    if not _TIMESTAMP.fullmatch(stamp):
        raise SignatureRefused(
            f"{TIMESTAMP_HEADER} must be the time in whole seconds since 1970 (UTC), like {int(time.time())}",
            "a timestamp that is not whole seconds",
        )
    seconds = int(stamp)
    off = seconds - time.time()
    if abs(off) > TOLERANCE:
        when = "old" if off < 0 else "ahead of the server's clock"
        raise SignatureRefused(
            f"{TIMESTAMP_HEADER} is {abs(int(off))} seconds {when}; an event must be sent within "
            f"{TOLERANCE // 60} minutes of the time it is signed with",
            f"a timestamp {int(off):+d} s from the server's clock",
        )
    if len(given) > 200 or not _SIGNATURE.fullmatch(given.lower()):
        raise SignatureRefused(
            f"wrong {SIGNATURE_HEADER}; sign events as {NEW_FORM}", "a signature not of the v1= form"
        )
    expected = signature(secret, stamp, raw)
    if not hmac.compare_digest(expected.encode(), given.lower().encode("ascii")):
        raise SignatureRefused(f"wrong {SIGNATURE_HEADER}", "a wrong signature")
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def accept(engine: Engine, raw: bytes, event_at: dt.datetime) -> ImportSummary:
    """Validate and write the event signed at ``event_at`` (``ImportFileError`` naming every problem,
    ``DuplicateEventError`` for an ``event_id`` seen before; nothing written either way)."""
    return import_stream(engine, io.BytesIO(raw), source=SOURCE, event_at=event_at)


def sync_written(sync: SyncEngine, summary: ImportSummary) -> list[SyncResult]:
    """Push the loads the event created or changed (after the answer has left)."""
    if not summary.written:
        return []
    results = sync.sync_many(summary.written, trigger=SOURCE)
    problems = [r.load_number for r in results if r.state == "problem"]
    log.info(
        "TMS event: %d loads synced, %d need attention %s",
        len(results) - len(problems),
        len(problems),
        problems[:20],
    )
    return results
