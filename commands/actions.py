"""Button clicks: fix buttons (``fix.<code>``), Diagnose, Retry all, and the problem list's pages.

Every click is acknowledged at once. A fix that needs a human choice opens its modal before anything
slow (a trigger_id lives 3 s) and fills it when QuickBooks has answered; any other fix first replaces
the message with "Running…" (so no button is left to press twice), runs as the Slack user, and then
replaces it with what it did and the load's fresh diagnosis.

Connect QuickBooks is for administrators: the click of one makes a single-use, ten-minute Connect
link for them and shows it in a modal only they see; anyone else is refused (audited)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import ids
from bot.shape import text_value
from bot.views.blocks import escape, section
from bot.views.connection import disconnected_message
from bot.views.diagnosis import diagnosis_message
from bot.views.home import diagnosis_modal
from bot.views.modals import connect_modal, loading_modal, metadata, notice_modal
from bot.views.results import fix_result_message, notice_message, progress_message, refusal_message
from commands.choices import fill_choice_modal
from commands.common import Deps, actor_of, fill_view, guarded, in_background, refuse, send
from commands.slash import problems_page
from services.access.roles import Refusal, audit_refusal
from services.catalogue import (
    CONNECT_ADMINS_ONLY,
    CONNECT_NO_ADMINS,
    CONNECT_NOT_SERVED,
    STALE_BUTTON,
    fix_label,
)
from services.diagnosis.problems import list_problems
from services.fixes.registry import REGISTRY
from services.store.models import ConnectionState
from services.tms.loadnumbers import clean_load_number

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds at least between progress updates of "Retry all" (chat.update: Tier 3)
FINAL_ATTEMPTS = 10  # tries of the final summary when Slack asks to wait
MAX_RETRY_AFTER = 60.0  # seconds: Slack's longest wait for a Tier 3 method


def acknowledge(ack: Ack) -> None:
    ack()


@guarded
def run_fix(
    body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, deps: Deps
) -> None:
    fix = ids.FIX_ACTION.match(action.get("action_id") or "").group(1)
    actor, user = actor_of(body)
    if fix == "connect":
        _connect(deps, body, respond, client)
        return
    chosen = REGISTRY.get(fix)
    if chosen is None:
        send(respond, notice_message(STALE_BUTTON))
        return
    load = clean_load_number(text_value(action)) if chosen.per_load else text_value(action)
    if refuse(deps, actor, user, fix, lambda m: send(respond, m), load):
        return
    if chosen.choice is not None:
        _open_choice(client, body, fix, load, deps, respond)
        return
    send(respond, _running(fix, load, user))
    result = deps.services.fixer.apply(
        load or "-", fix, actor, admin=deps.access.is_admin(user), pressed_at=_pressed_at(action)
    )
    send(
        respond,
        {**fix_result_message(result, actor, connect_url=deps.connect_url), "replace_original": True},
    )


@guarded
def diagnose(
    body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, deps: Deps
) -> None:
    load = clean_load_number(text_value(action))
    if not body.get("response_url"):  # the App Home: no channel to answer in, a modal instead
        opened = _open_view(client, body, diagnosis_modal(None, load), respond)
        if opened is None:
            return
        diagnosis = deps.services.diagnoser.diagnose(load)
        fill_view(client, opened["view"]["id"], diagnosis_modal(diagnosis))
        return
    diagnosis = deps.services.diagnoser.diagnose(load)
    replace = action.get("block_id") == ids.NEAR  # a near match replaces the "not found" answer
    payload = diagnosis_message(diagnosis, connect_url=deps.connect_url)
    if replace:
        payload["replace_original"] = True
    else:
        payload.update(response_type="in_channel", replace_original=False)
    send(respond, payload)


@guarded
def page(action: dict[str, Any], respond: Respond, deps: Deps) -> None:
    value = text_value(action)
    number = int(value) if value.isdigit() and len(value) < 6 else 1
    send(respond, {**problems_page(deps, number), "replace_original": True})


@guarded
def disconnect(body: dict[str, Any], respond: Respond, client: WebClient, deps: Deps) -> None:
    actor, user = actor_of(body)
    if refuse(deps, actor, user, "disconnect", lambda m: send(respond, m)):
        return
    status = deps.services.connection.status()
    if status.state is ConnectionState.DISCONNECTED:
        send(respond, {**notice_message("QuickBooks was already disconnected."), "replace_original": True})
        return
    revoked = deps.services.connection.disconnect()
    log.warning("QuickBooks disconnected from Slack by %s (revoked at Intuit: %s)", actor, revoked)
    said = disconnected_message(status.realm_id, actor, revoked)
    channel = (body.get("channel") or {}).get("id")
    send(respond, {"delete_original": True})
    posted = False
    if channel:
        try:
            client.chat_postMessage(channel=channel, text=said["text"], blocks=said["blocks"])
            posted = True
        except SlackApiError as exc:
            log.info("disconnect: answering through the response_url (%s)", exc.response.get("error"))
    if not posted:
        send(respond, said)


@guarded
def retry_all(
    body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient, deps: Deps
) -> None:
    actor, user = actor_of(body)
    if refuse(deps, actor, user, "retry", lambda m: send(respond, m)):
        return
    code = text_value(action)
    numbers = [
        p.load_number for p in list_problems(deps.services.engine) if code in {r.code for r in p.reasons}
    ]
    if not numbers:
        send(respond, notice_message("Nothing left to retry: those loads are no longer problems."))
        return
    _retry_all(deps, client, respond, body, code, numbers, actor)


def register(app: App) -> None:
    app.action(ids.FIX_ACTION)(ack=acknowledge, lazy=[in_background(run_fix)])
    app.action(ids.DIAGNOSE_ACTION)(ack=acknowledge, lazy=[in_background(diagnose)])
    app.action(ids.PROBLEMS_PAGE_ACTION)(ack=acknowledge, lazy=[in_background(page)])
    app.action(ids.RETRY_ALL)(ack=acknowledge, lazy=[in_background(retry_all)])
    app.action(ids.DISCONNECT)(ack=acknowledge, lazy=[in_background(disconnect)])
    app.action(ids.CONNECT_CONTINUE)(acknowledge)  # a link button: the browser opens it; Slack still tells


def _connect(deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Connect QuickBooks pressed: an administrator gets a fresh single-use link in a modal; anyone
    else a polite refusal naming the administrators (audited like every refusal)."""
    actor, user = actor_of(body)
    if not deps.access.is_admin(user):
        admins = deps.access.admins
        refusal = Refusal("connect", CONNECT_ADMINS_ONLY if admins else CONNECT_NO_ADMINS, admins)
        audit_refusal(deps.services.engine, actor, None, refusal)
        log.warning("Connect QuickBooks refused to %s: not an administrator", actor)
        _tell(client, body, respond, refusal_message(refusal))
        return
    link = deps.connect_ticket_link(actor)
    if link is None:
        _tell(client, body, respond, notice_message(CONNECT_NOT_SERVED))
        return
    _open_view(client, body, connect_modal(link, user), respond)


def _tell(client: WebClient, body: dict[str, Any], respond: Respond, payload: dict[str, Any]) -> None:
    """Answer a click: through its response_url, or in a modal where there is none (the App Home)."""
    if body.get("response_url"):
        send(respond, payload)
        return
    modal = notice_modal("connect", payload["text"], "{}")
    _open_view(client, body, modal, respond)


def _pressed_at(action: dict[str, Any]) -> dt.datetime | None:
    """When the button was pressed: Slack's ``action_ts`` (seconds, as text), or None."""
    try:
        return dt.datetime.fromtimestamp(float(action.get("action_ts") or ""), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _running(fix: str, load: str, user: str) -> dict[str, Any]:
    """What the clicked message shows while the fix runs (no button left to press twice). The load
    number came from the TMS: escaped, so it can mention no one and link nowhere."""
    text = f"⏳ {escape(fix_label(fix))} on {escape(load) if load else 'QuickBooks'}, started by <@{user}>…"
    return {"text": text, "blocks": [section(text)], "replace_original": True}


def _open_choice(
    client: WebClient, body: dict[str, Any], fix: str, load: str, deps: Deps, respond: Respond
) -> None:
    """Open the modal first (the trigger_id expires), then look up the choices and fill it."""
    container = body.get("container") or {}
    meta = metadata(
        load=load,
        fix=fix,
        channel=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        url=body.get("response_url"),
    )
    opened = _open_view(client, body, loading_modal(fix, load, meta), respond)
    if opened is None:
        return
    view_id = opened["view"]["id"]
    fill_choice_modal(client, deps, view_id, fix, load, meta)


def _open_view(client: WebClient, body: dict[str, Any], view: dict[str, Any], respond: Respond):
    """``views.open``, or None when Slack refused it (the click's trigger_id expired or is not valid):
    the person is told to press the button again."""
    try:
        return client.views_open(trigger_id=body.get("trigger_id"), view=view)
    except SlackApiError as exc:
        log.info("views.open refused: %s", exc.response.get("error"))
        send(respond, notice_message("Slack did not open the dialog in time. Press the button again."))
        return None


def _retry_all(deps, client, respond, body, code, numbers, actor) -> None:
    """Retry every load of one reason, showing progress in a channel message. The sync only counts its
    results (under its own lock, no I/O); a ticker thread shows the latest counts at most every
    ``PROGRESS_EVERY`` seconds, skipping an update Slack rate-limits; the final summary is sent once
    the sync is done, again after ``Retry-After`` when Slack asks to wait."""
    channel = (body.get("channel") or {}).get("id")
    _, user = actor_of(body)
    progress = _Progress(len(numbers))
    slack = _progress_client(client)
    posted = None
    if channel:
        try:
            posted = slack.chat_postMessage(channel=channel, **progress.message(code, actor))
        except SlackApiError as exc:  # not in the channel: show progress in the clicked message instead
            log.info("retry all: progress in the original message (%s)", exc.response.get("error"))
    ticker = None
    if posted is not None:
        ticker = threading.Thread(
            target=_tick, args=(slack, posted, progress, code, actor), name="qbsync-progress", daemon=True
        )
        ticker.start()
    try:
        deps.services.sync.sync_many(numbers, trigger=f"slack:retry_all:{user}", progress=progress.record)
    finally:
        progress.finished.set()
        if ticker is not None:
            ticker.join()
    summary = progress.message(code, actor, finished=True)
    if posted is not None:
        _final_update(slack, posted, summary)
    else:  # a response_url takes 5 answers: only the summary goes through it
        send(respond, {**summary, "replace_original": False, "response_type": "ephemeral"})


class _Progress:
    """The counts of a Retry all, recorded by the sync (cheap) and read by the ticker."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.lock = threading.Lock()
        self.done = self.synced = self.still = 0
        self.finished = threading.Event()

    def record(self, result: Any) -> None:
        with self.lock:
            self.done += 1
            if result.state == "synced":
                self.synced += 1
            else:
                self.still += 1

    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            return self.done, self.synced, self.still

    def message(self, code: str, actor: str, finished: bool = False) -> dict[str, Any]:
        done, synced, still = self.counts()
        return progress_message(code, done, self.total, synced, still, actor, finished)


def _progress_client(client: WebClient) -> WebClient:
    """The click's client without its rate-limit retries: a progress update Slack refuses for now is
    skipped, never waited for."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)],
    )


def _tick(slack: WebClient, posted: Any, progress: _Progress, code: str, actor: str) -> None:
    """Show the latest counts every ``PROGRESS_EVERY`` seconds until the sync is finished."""
    shown = progress.counts()
    while not progress.finished.wait(PROGRESS_EVERY):
        counts = progress.counts()
        if counts == shown:
            continue
        try:
            slack.chat_update(channel=posted["channel"], ts=posted["ts"], **progress.message(code, actor))
            shown = counts
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "ratelimited":
                log.info("retry all: Slack asked to slow down; this progress update is skipped")
                continue
            log.warning("retry all: progress updates stop (%s)", error)
            return


def _final_update(slack: WebClient, posted: Any, summary: dict[str, Any]) -> None:
    """The summary replaces the progress message, after Slack's ``Retry-After`` when it asks to wait."""
    for _attempt in range(FINAL_ATTEMPTS):
        try:
            slack.chat_update(channel=posted["channel"], ts=posted["ts"], **summary)
            return
        except SlackApiError as exc:
            if exc.response.get("error") != "ratelimited":
                log.warning("retry all: the summary could not be shown (%s)", exc.response.get("error"))
                return
            wait = _retry_after(exc)
            log.info("retry all: Slack asked to wait %s s before the summary", wait)
            time.sleep(wait)
    log.warning("retry all: the summary could not be shown (Slack kept asking to wait)")


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and str(value).strip().isdigit():
            return min(float(value), MAX_RETRY_AFTER)
    return 1.0
