"""``POST /tms/events``: TMS customers, charge codes and loads in the import format, signed with
``QBSYNC_TMS_WEBHOOK_SECRET`` over a timestamp and the body (``services.tms.events``); in distribution
mode ``POST /tms/events/{key}``, each workspace's own URL and secret (App Home, Settings). Answers at once
with the counts; the loads it created or changed are synced after the answer has left."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, request

from services.background import hand_over
from services.errors import QbsyncError
from services.tms.events import (
    MAX_BODY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRefused,
    accept,
    sync_written,
    verify,
)
from services.tms.importer import DuplicateEventError, ImportFileError
from web.bodies import limited_body

log = logging.getLogger(__name__)


KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def register(web: Flask, services) -> None:
    @web.post("/tms/events")
    def tms_events() -> tuple[Response, int]:
        if services.settings.distribution:  # each workspace has its own URL and secret
            return jsonify(error="use the TMS webhook URL of your workspace (/tms/events/{key})"), 404
        secret = services.settings.tms_webhook_secret
        if secret is None or not secret.get_secret_value():
            log.warning("POST /tms/events refused: QBSYNC_TMS_WEBHOOK_SECRET is not set")
            return jsonify(error="TMS events are not set up (no webhook secret configured)"), 503
        return receive(services, secret.get_secret_value())

    @web.post("/tms/events/<key>")
    def tms_workspace_events(key: str) -> tuple[Response, int]:
        """One workspace's TMS events (distribution mode): an unknown key is refused like a wrong
        signature, 401, so that a caller cannot tell a key that exists from one that does not."""
        found = services.registry.by_tms_key(key) if KEY.fullmatch(key) else None
        if found is None:
            limited_body(MAX_BODY)  # read and dropped: nothing of it is looked at
            log.warning("POST /tms/events/{key} refused (401): unknown key")
            return jsonify(error="the signature does not match"), 401
        workspace, secret = found
        return receive(services.for_workspace(workspace), secret)


def receive(services, secret: str) -> tuple[Response, int]:
    """Verify, then write the event into ``services``' workspace and answer with the counts."""
    raw = limited_body(MAX_BODY)
    if raw is None:
        return jsonify(error=f"the body is over {MAX_BODY // (1024 * 1024)} MB"), 413
    try:
        event_at = verify(
            secret,
            raw,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
        )
    except SignatureRefused as exc:
        log.warning("POST /tms/events refused (401): %s", exc.log_reason)
        return jsonify(error=str(exc)), 401
    try:
        summary = accept(services.engine, raw, event_at)
    except DuplicateEventError as exc:
        log.warning("POST /tms/events refused (409): an event_id received before, nothing written")
        return jsonify(error=str(exc)), 409
    except ImportFileError as exc:
        problems = [
            {"record": p.record or None, "field": p.field, "message": p.message} for p in exc.problems
        ]
        return jsonify(error=str(exc).splitlines()[0], problems=problems), 400
    except QbsyncError as exc:  # a concurrent import wrote the same records first: send it again
        return jsonify(error=str(exc)), 409
    answer = jsonify(**summary.as_dict(), syncing=summary.written)
    answer.call_on_close(lambda: _sync_after(services, summary))
    return answer, 202


def _sync_after(services, summary) -> None:
    def run() -> None:
        try:
            sync_written(services.sync, summary)
        except Exception:
            log.exception("syncing the loads of a TMS event failed")

    if summary.written:
        hand_over(run)
