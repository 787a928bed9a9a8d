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
from services.catalogue import FIX
from services.errors import QbsyncError
from services.fixes import choices
from services.tms.importer import clean_email

log = logging.getLogger(__name__)


def fill_choice_modal(client: WebClient, deps: Deps, view_id: str, fix: str, load: str, meta: str) -> None:
    sync = deps.services.sync
    try:
        view = _choice_view(sync, fix, load, meta, view_id)
    except QbsyncError as exc:
        view = modals.notice_modal(fix, f"Could not look that up: {exc}", meta)
    fill_view(client, view_id, view)


def _choice_view(sync, fix: str, load: str, meta: str, view_id: str | None = None) -> dict[str, Any]:
    if fix == "link_customer":
        customers = choices.customer_list(sync, load)
        if not customers.has_active():
            return modals.notice_modal(
                fix, "QuickBooks has no active customer to link. Create the customer instead.", meta
            )
        choices.remember(view_id, customers)  # before the modal shows its menu: it asks at once
        customer = sync.read_view(load).customer
        likely, _ = customers.answer()
        return modals.customer_modal(load, customer.name, likely, meta)
    if fix == "update_customer_email":
        customer = sync.read_view(load).customer
        current, options = choices.email_options(sync, load)
        return modals.email_modal(load, customer.name, current, options, meta)
    if fix == "map_charge_code":
        items, questions = choices.item_list(sync, load)
        choices.remember(view_id, items)
        return modals.item_modal(load, questions, meta)
    if fix == "set_doc_number":
        return modals.doc_number_modal(load, choices.suggested_doc_number(sync, load), meta)
    if fix == "dismiss":
        return modals.dismiss_modal(load, meta)
    raise QbsyncError(f"{fix} needs no choice")


def read_choice(fix: str, values: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The options each run of the fix takes, and errors by block id (empty when the input is fine)."""
    if fix == "link_customer":
        chosen = modals.selected(values, *ids.CUSTOMER_INPUT)
        if not chosen:
            return [], {ids.CUSTOMER_INPUT[0]: "Choose a QuickBooks customer."}
        return [{"customer_id": chosen}], {}
    if fix == "update_customer_email":
        raw = modals.selected(values, *ids.EMAIL_INPUT) or ""
        try:
            return [{"email": clean_email(raw)}], {}
        except QbsyncError as exc:
            return [], {ids.EMAIL_INPUT[0]: str(exc)[:150]}
    if fix == "map_charge_code":
        runs = []
        for block_id in values or {}:
            if block_id.startswith(ids.ITEM_INPUT_PREFIX):
                item = modals.selected(values, block_id, ids.ITEM_ACTION)
                if item:
                    runs.append({"code": block_id[len(ids.ITEM_INPUT_PREFIX) :], "item_id": item})
        if not runs:
            first = next(iter(values or {}), ids.ITEM_INPUT_PREFIX)
            return [], {first: "Choose an item for at least one charge code."}
        return runs, {}
    if fix == "set_doc_number":
        number = modals.selected(values, *ids.DOC_NUMBER_INPUT) or ""
        if not number or len(number) > modals.DOC_NUMBER_MAX or not number.isprintable():
            return [], {ids.DOC_NUMBER_INPUT[0]: "1 to 21 printable characters."}
        return [{"doc_number": number}], {}
    if fix == "dismiss":
        reason = modals.selected(values, *ids.DISMISS_INPUT) or ""
        if not reason:
            return [], {ids.DISMISS_INPUT[0]: "Say why, in a few words."}
        return [{"reason": reason}], {}
    return [], {}


def register(app: App, deps: Deps) -> None:
    def check(ack: Ack, view: dict[str, Any]) -> None:
        meta = modals.read_metadata(view)
        fix = meta.get("fix")
        if fix not in FIX or not FIX[fix].choice:
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
            found = choices.list_for(deps.services.sync, view.get("id"), fix, load)
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
            if fix not in FIX or not FIX[fix].choice or not load:
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
    if fix == "link_customer" and action_id == ids.CUSTOMER_INPUT[1]:
        return ""
    prefix = ids.ITEM_INPUT_PREFIX
    if (
        fix == "map_charge_code"
        and action_id == ids.ITEM_ACTION
        and isinstance(block_id, str)
        and block_id.startswith(prefix)
        and len(block_id) > len(prefix)
    ):
        return block_id[len(prefix) :]
    return None


def _inactive_choices(view_id: Any, fix: str, runs: list[dict[str, str]]) -> dict[str, str]:
    """Errors for chosen customers or items that the modal's list shows as inactive (QuickBooks
    refuses them on an invoice); nothing when the list is not kept in this process."""
    errors = {}
    for run in runs:
        if fix == "link_customer":
            block_id, value = ids.CUSTOMER_INPUT[0], run.get("customer_id")
        elif fix == "map_charge_code":
            block_id, value = f"{ids.ITEM_INPUT_PREFIX}{run.get('code')}", run.get("item_id")
        else:
            continue
        entry = choices.kept_entry(view_id if isinstance(view_id, str) else None, value)
        if entry is not None and not entry.active:
            text = f"{entry.label} is inactive in QuickBooks: make it active there, or choose another."
            errors[block_id] = text[:150]
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
