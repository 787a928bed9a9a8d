"""``POST /qbo/webhooks``: Intuit's change notifications (``services.changes.webhooks``), verified
with ``QBO_WEBHOOK_VERIFIER_TOKEN``. Answers at once: the companies named are marked due, and the
changes job reads what changed (change data capture) within its next tick."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request

from services.changes.receive import receive
from services.changes.webhooks import MAX_BODY, SIGNATURE_HEADER, BodyRefused, SignatureRefused, parse, verify
from services.workspaces.routing import services_for_realm
from web.bodies import limited_body

log = logging.getLogger(__name__)


def register(web: Flask, services) -> None:
    @web.post("/qbo/webhooks")
    def qbo_webhooks() -> tuple[Response, int]:
        token = services.settings.qbo_webhook_verifier_token
        if token is None or not token.get_secret_value():
            log.warning("POST /qbo/webhooks refused: QBO_WEBHOOK_VERIFIER_TOKEN is not set")
            return jsonify(error="QuickBooks webhooks are not set up (no verifier token configured)"), 503
        raw = limited_body(MAX_BODY)
        if raw is None:
            return jsonify(error=f"the body is over {MAX_BODY // 1024} KB"), 413
        try:
            verify(token.get_secret_value(), raw, request.headers.get(SIGNATURE_HEADER))
        except SignatureRefused as exc:
            log.warning("POST /qbo/webhooks refused (401): %s", exc)
            return jsonify(error="the intuit-signature does not verify"), 401
        try:
            notifications = parse(raw)
        except BodyRefused as exc:
            log.warning("POST /qbo/webhooks refused (400): %s", exc)
            return jsonify(error=f"not a QuickBooks notification: {exc}"), 400
        new = repeated = 0
        for realm in sorted({n.realm_id for n in notifications}):  # each company's to its own workspace
            scoped = services_for_realm(services, realm)
            if scoped is not None:
                mine = [n for n in notifications if n.realm_id == realm]
                received = receive(scoped.engine, mine, {realm}, scoped.changes)
                new, repeated = new + received.new, repeated + received.repeated
        ignored = len(notifications) - new - repeated
        if ignored:
            log.info("QuickBooks webhook: %d notifications of companies qbsync does not follow", ignored)
        return jsonify(received=new, repeated=repeated, ignored=ignored), 200
