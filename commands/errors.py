"""The one error handler: an unexpected failure in an acknowledgement is logged with an id, and the
user gets the id in a short answer when Slack gave a way to answer. Only a verified request of a
checked shape reaches it (``bot.app.QbsyncApp``), and the answer goes only to Slack's response URL
(``commands.common.send``)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse

from bot.response_urls import response_url_of
from bot.shape import well_formed
from bot.views.results import error_message
from commands.common import send

log = logging.getLogger(__name__)


def handle(error: Exception, body: dict[str, Any], respond: Any = None) -> BoltResponse:
    error_id = uuid.uuid4().hex[:8]
    log.error("error %s handling a Slack request: %s", error_id, error, exc_info=error)
    if isinstance(body, dict) and well_formed(body) and response_url_of(body):
        send(respond, error_message(error_id))
    return BoltResponse(status=200, body="")


def register(app: App) -> None:
    app.error(handle)
