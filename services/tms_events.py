"""TMS events (``POST /tms/events``): the import format's objects, signed by the TMS.

``X-Qbsync-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with QBSYNC_TMS_WEBHOOK_SECRET>``
(compared in constant time). The body is validated and written exactly as ``qbsync import`` does it
(all or nothing); the loads it created or changed are then synced, so a changed customer or amount on
a synced load is reported as ``qbsync sync --all`` reports it."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
from typing import TYPE_CHECKING

from services.importer import ImportSummary, import_stream

if TYPE_CHECKING:
    from services.bootstrap import Services
    from services.sync import SyncResult

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Qbsync-Signature"
MAX_BODY = 5 * 1024 * 1024
SOURCE = "webhook"


def signature(secret: str, raw: bytes) -> str:
    """The header value the TMS sends for ``raw``."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signed(secret: str, raw: bytes, header: str | None) -> bool:
    if not header or len(header) > 200:
        return False
    return hmac.compare_digest(
        signature(secret, raw).encode(), header.strip().lower().encode("ascii", "replace")
    )


def accept(svc: Services, raw: bytes) -> ImportSummary:
    """Validate and write the event (``ImportFileError`` naming every problem; nothing written)."""
    return import_stream(svc.engine, io.BytesIO(raw), source=SOURCE)


def sync_written(svc: Services, summary: ImportSummary) -> list[SyncResult]:
    """Push the loads the event created or changed (after the answer has left)."""
    if not summary.written:
        return []
    results = svc.sync.sync_many(summary.written, trigger=SOURCE)
    problems = [r.load_number for r in results if r.state == "problem"]
    log.info(
        "TMS event: %d loads synced, %d need attention %s",
        len(results) - len(problems),
        len(problems),
        problems[:20],
    )
    return results
