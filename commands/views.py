"""View submissions: a choice modal is checked when submitted (errors shown on the field, nothing run),
then the fix runs as the user and the original message is replaced by its outcome and the load's fresh
diagnosis."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.webhook import WebhookClient

from bot import ids
from bot.shape import origin_of, response_url_allowed
from bot.views import modals
from bot.views.results import error_message, fix_result_message, notice_message
from commands.choices import choice_of, read_choice
from commands.common import Deps, actor_of, in_background, refuse
from services.errors import QbsyncError
from services.fixes import choices

log = logging.getLogger(__name__)


def check(ack: Ack, view: dict[str, Any], deps: Deps) -> None:
    meta = modals.read_metadata(view)
    fix = meta.get("fix")
    if choice_of(fix) is None:
        ack()
        return
    runs, errors = read_choice(fix, (view.get("state") or {}).get("values") or {})
    errors = errors or _inactive_choices(deps, view.get("id"), fix, runs)
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def apply(body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    meta = modals.read_metadata(view)
    fix, load = meta.get("fix"), meta.get("load")
    answer = _answerer(meta.get("url"))
    try:
        if choice_of(fix) is None or not load:
            return
        runs, errors = read_choice(fix, (view.get("state") or {}).get("values") or {})
        if errors or _inactive_choices(deps, view.get("id"), fix, runs):
            return  # refused in the acknowledgement; the modal still shows why
        actor, user = actor_of(body)
        if refuse(deps, actor, user, fix, answer, load):
            return
        result = None
        for options in runs:
            result = deps.services.fixer.apply(load, fix, actor, admin=deps.access.is_admin(user), **options)
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


def _inactive_choices(deps: Deps, view_id: Any, fix: str, runs: list[dict[str, str]]) -> dict[str, str]:
    """Errors for chosen customers or items that the modal's list shows as inactive (QuickBooks
    refuses them on an invoice); nothing when the list is not kept in this process."""
    choice = choice_of(fix)
    if choice is None or not choice.searched:
        return {}
    errors = {}
    for run in runs:
        entry = choices.kept_entry(
            deps.services.sync, view_id if isinstance(view_id, str) else None, run.get(choice.option)
        )
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


def register(app: App) -> None:
    app.view(ids.CHOICE_VIEW)(ack=check, lazy=[in_background(apply)])
