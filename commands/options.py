"""Options requests: the customer and item pickers of a choice modal are searched as the person types.
Slack asks for their options (``block_suggestion``, answered within 3 s) and each answer comes from
the company's list kept for that modal (:mod:`services.fixes.choices`), not from QuickBooks."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.views import modals
from commands.choices import choice_of
from commands.common import Deps
from services.errors import QbsyncError
from services.fixes import choices
from services.fixes.registry import REGISTRY

log = logging.getLogger(__name__)


def suggest(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """An options request of a picker: the likely ones, then what matches the typed text, from the
    modal's kept list. Anything unexpected answers no options (the menu says so), never an error."""
    started = time.monotonic()
    view = body.get("view") or {}
    meta = modals.read_metadata(view)
    fix, load = meta.get("fix"), meta.get("load")
    key = _question(fix, body.get("action_id"), body.get("block_id"))
    user = (body.get("user") or {}).get("id") or ""
    if key is None or not isinstance(load, str) or deps.access.check(user, fix) is not None:
        ack(options=[])
        return
    try:
        kind = REGISTRY[fix].choice.kind
        found = choices.list_for(deps.services.sync, view.get("id"), kind, load)
        likely, others = found.answer(key, body.get("value") or "")
    except QbsyncError as exc:
        log.info("options for %s of %s: %s", fix, load, exc)
        ack(options=[])
        return
    except Exception:
        log.exception("options for %s of %s failed", fix, load)
        ack(options=[])
        return
    ack(**modals.options_answer(likely, others))
    log.debug("options for %s of %s in %.0f ms", fix, load, (time.monotonic() - started) * 1000)


def _question(fix: Any, action_id: Any, block_id: Any) -> str | None:
    """Which question of a choice modal an options request is for: ``""`` for the customer, the charge
    code for an item; None when the request fits no picker of that modal."""
    choice = choice_of(fix)
    if choice is None or not choice.searched:
        return None
    return modals.picker_question(choice.kind, action_id, block_id)


def register(app: App) -> None:
    app.options(ids.CUSTOMER_INPUT[1])(suggest)
    app.options(ids.ITEM_ACTION)(suggest)
