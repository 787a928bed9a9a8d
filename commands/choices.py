"""Modals that carry a fix's human choice: filled once QuickBooks has answered, checked when
submitted (errors shown on the field, nothing run), then the fix runs as the user and the original
message is replaced by its outcome and the load's fresh diagnosis.

The customer and item pickers are searched as the person types: Slack asks for their options
(``block_suggestion``, answered within 3 s by :func:`register`'s options listener) and each answer
comes from the company's list kept for that modal (:mod:`services.fixes.choices`), not from QuickBooks."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot import ids
from bot.shape import origin_of, response_url_allowed
from bot.views import modals
from bot.views.results import error_message, fix_result_message, notice_message
from commands.common import Deps, actor_of, fill_view, in_background, refuse
from services.errors import QbsyncError
from services.fixes import choices
from services.fixes.choice import Choice
from services.fixes.registry import REGISTRY

log = logging.getLogger(__name__)


def fill_choice_modal(client: WebClient, deps: Deps, view_id: str, fix: str, load: str, meta: str) -> None:
    sync = deps.services.sync
    try:
        view = _choice_view(sync, fix, load, meta, view_id)
    except QbsyncError as exc:
        view = modals.notice_modal(fix, f"Could not look that up: {exc}", meta)
    fill_view(client, view_id, view)


def _choice_view(sync, fix: str, load: str, meta: str, view_id: str | None = None) -> dict[str, Any]:
    """The modal that asks ``fix``'s choice for the load, filled with what its offer looked up."""
    choice = _choice_of(fix)
    if choice is None:
        raise QbsyncError(f"{fix} needs no choice")
    offer = choice.offer(sync, load)
    if offer.notice is not None:
        return modals.notice_modal(fix, offer.notice, meta)
    if offer.searched is not None:
        choices.remember(view_id, offer.searched)  # before the modal shows its menu: it asks at once
    return modals.MODALS[choice.kind](load, offer, meta)


def read_choice(fix: str, values: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The options each run of the fix takes, and errors by block id (empty when the input is fine)."""
    choice = _choice_of(fix)
    if choice is None:
        return [], {}
    runs, errors = choice.read(modals.answers(choice.kind, values))
    return runs, {modals.input_block(choice.kind, question): text for question, text in errors.items()}


def _choice_of(fix: Any) -> Choice | None:
    """The choice ``fix`` needs (None for a fix that needs none, or no fix at all)."""
    found = REGISTRY.get(fix) if isinstance(fix, str) else None
    return found.choice if found is not None else None


def register(app: App, deps: Deps) -> None:
    def check(ack: Ack, view: dict[str, Any]) -> None:
        meta = modals.read_metadata(view)
        fix = meta.get("fix")
        if _choice_of(fix) is None:
            ack()
            return
        runs, errors = read_choice(fix, (view.get("state") or {}).get("values") or {})
        errors = errors or _inactive_choices(view.get("id"), fix, runs)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def suggest(ack: Ack, body: dict[str, Any]) -> None:
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

    def apply(body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = modals.read_metadata(view)
        fix, load = meta.get("fix"), meta.get("load")
        answer = _answerer(meta.get("url"))
        try:
            if _choice_of(fix) is None or not load:
                return
            runs, errors = read_choice(fix, (view.get("state") or {}).get("values") or {})
            if errors or _inactive_choices(view.get("id"), fix, runs):
                return  # refused in the acknowledgement; the modal still shows why
            actor, user = actor_of(body)
            if refuse(deps, actor, user, fix, answer, load):
                return
            result = None
            for options in runs:
                result = deps.services.fixer.apply(
                    load, fix, actor, admin=deps.access.is_admin(user), **options
                )
                if result.outcome in ("refused", "failed"):
                    break
            payload = fix_result_message(result, actor, connect_url=deps.connect_url)
            answer({**payload, "replace_original": True})
        except QbsyncError as exc:
            answer(notice_message(str(exc)))
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("error %s applying %s to %s", error_id, fix, load)
            answer(error_message(error_id))

    app.view(ids.CHOICE_VIEW)(ack=check, lazy=[in_background(apply)])
    app.options(ids.CUSTOMER_INPUT[1])(suggest)
    app.options(ids.ITEM_ACTION)(suggest)


def _question(fix: Any, action_id: Any, block_id: Any) -> str | None:
    """Which question of a choice modal an options request is for: ``""`` for the customer, the charge
    code for an item; None when the request fits no picker of that modal."""
    choice = _choice_of(fix)
    if choice is None or not choice.searched:
        return None
    return modals.picker_question(choice.kind, action_id, block_id)


def _inactive_choices(view_id: Any, fix: str, runs: list[dict[str, str]]) -> dict[str, str]:
    """Errors for chosen customers or items that the modal's list shows as inactive (QuickBooks
    refuses them on an invoice); nothing when the list is not kept in this process."""
    choice = _choice_of(fix)
    if choice is None or not choice.searched:
        return {}
    errors = {}
    for run in runs:
        entry = choices.kept_entry(view_id if isinstance(view_id, str) else None, run.get(choice.option))
        if entry is not None and not entry.active:
            text = f"{entry.label} is inactive in QuickBooks: make it active there, or choose another."
            errors[modals.input_block(choice.kind, choice.question(run))] = text[:150]
    return errors


def _answerer(url: str | None):
    def answer(payload: dict[str, Any]) -> None:
        if not url:
            return
        if not response_url_allowed(url):
            log.warning("an answer was not sent: the response_url is not Slack's (%s)", origin_of(url))
            return
        try:
            response = WebhookClient(url).send_dict(payload)
        except Exception:
            log.warning("could not answer through the response_url", exc_info=True)
            return
        if response.status_code >= 400:
            log.warning("Slack refused the answer: HTTP %s %s", response.status_code, response.body)

    return answer
