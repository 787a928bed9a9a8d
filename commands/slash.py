"""``/qbsync``: help, a load's diagnosis, retry, the problem list, status, disconnect (admins).

The command is acknowledged at once; help and malformed input are answered in the acknowledgement,
everything that reads QuickBooks or the database runs after it and answers through ``respond``
("Checking HB-2003…" first when it takes more than a moment)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import ids
from bot.views.blocks import escape, unescape
from bot.views.connection import disconnect_question
from bot.views.diagnosis import diagnosis_message
from bot.views.problems import DISMISSED_SHOWN, problems_message
from bot.views.results import fix_result_message, notice_message
from bot.views.status import help_message, status_message
from commands.common import Deps, actor_of, guarded, in_background, refuse, send
from services.diagnosis.problems import list_dismissed, list_problems, summarize
from services.diagnosis.status import build_status
from services.errors import UserInputError
from services.store.models import ConnectionState
from services.tms.loadnumbers import clean_load_number

SUBCOMMANDS = {"help", "diagnose", "retry", "problems", "status", "disconnect"}
SLOW_AFTER = 0.7  # seconds before "Checking…" is shown


@dataclass
class Request:
    kind: str  # help | diagnose | retry | problems | status | invalid
    load: str | None = None
    page: int = 1
    error: str | None = None


def parse(text: str | None) -> Request:
    """The text after ``/qbsync``. A first word that is no subcommand is a load number."""
    words = unescape(text or "").strip()
    if not words:
        return Request("help")
    head, _, rest = words.partition(" ")
    head_l, rest = head.lower(), rest.strip()
    if head_l not in SUBCOMMANDS:
        return _load("diagnose", words)
    if head_l in ("help", "status", "disconnect"):
        return Request(head_l)
    if head_l == "problems":
        if not rest:
            return Request("problems")
        if not (rest.isdigit() and 0 < int(rest) < 10_000):
            return Request("invalid", error=f"Which page? For example `{ids.COMMAND} problems 2`.")
        return Request("problems", page=int(rest))
    if not rest:
        return Request("invalid", error=f"Which load? For example `{ids.COMMAND} {head_l} HB-2003`.")
    return _load(head_l, rest)


def _load(kind: str, value: str) -> Request:
    try:
        return Request(kind, load=clean_load_number(value))
    except UserInputError as exc:
        return Request("invalid", error=f"That is not a load number: {exc}.")


def acknowledge(ack: Ack, command: dict[str, Any]) -> None:
    request = parse(command.get("text"))
    if request.kind == "help":
        ack(**help_message())
    elif request.kind == "invalid":
        ack(**help_message(request.error))
    else:
        ack()


@guarded
def answer(command: dict[str, Any], respond: Respond, deps: Deps) -> None:
    request = parse(command.get("text"))
    if request.kind == "problems":
        send(respond, problems_page(deps, request.page))
    elif request.kind == "status":
        status = build_status(deps.services.engine, deps.services.connection.status())
        send(respond, status_message(status, connect_url=deps.connect_url))
    elif request.kind == "disconnect":
        ask_disconnect(deps, command, respond)
    elif request.kind == "diagnose":
        with _checking(respond, request.load):
            diagnosis = deps.services.diagnoser.diagnose(request.load)
        send(
            respond,
            diagnosis_message(diagnosis, connect_url=deps.connect_url, response_type=_audience(diagnosis)),
        )
    elif request.kind == "retry":
        actor, user = actor_of(command)
        if refuse(deps, actor, user, "retry", lambda m: send(respond, m), request.load):
            return
        with _checking(respond, request.load, "Retrying"):
            result = deps.services.fixer.apply(request.load, "retry", actor, admin=deps.access.is_admin(user))
        if result.diagnosis is None and result.outcome == "refused":
            send(respond, notice_message(result.message))
            return
        send(
            respond,
            {
                **fix_result_message(result, actor, connect_url=deps.connect_url),
                "response_type": "in_channel",
            },
        )


def register(app: App) -> None:
    app.command(ids.COMMAND)(ack=acknowledge, lazy=[in_background(answer)])


def problems_page(deps: Deps, page: int) -> dict[str, Any]:
    """The problem list, with the Connect banner while QuickBooks is not connected."""
    state = deps.services.connection.status().state.value
    engine = deps.services.engine
    problems = list_problems(engine)
    summary = summarize(engine)
    latest = list_dismissed(engine, limit=DISMISSED_SHOWN) if summary.dismissed else []
    return problems_message(
        problems,
        page,
        dismissed=summary.dismissed,
        dismissed_amount=summary.dismissed_amount,
        dismissed_loads=latest,
        connection=state,
        connect_url=deps.connect_url,
    )


def ask_disconnect(deps: Deps, command: dict[str, Any], respond: Respond) -> None:
    """``/qbsync disconnect``: administrators get the confirmed danger button, others a refusal."""
    actor, user = actor_of(command)
    if refuse(deps, actor, user, "disconnect", lambda m: send(respond, m)):
        return
    status = deps.services.connection.status()
    if status.state is ConnectionState.DISCONNECTED:
        send(respond, notice_message("QuickBooks is not connected; there is nothing to disconnect."))
        return
    send(respond, disconnect_question(status.realm_id))


def _audience(diagnosis) -> str:
    """A diagnosis is for the channel; "no such load" (a typo) only for the person who typed it."""
    return "ephemeral" if diagnosis.state == "not_found" else "in_channel"


class _checking:
    """Shows "Checking HB-2003…" (only to the user) when the work takes more than a moment."""

    def __init__(self, respond: Respond, load: str | None, verb: str = "Checking") -> None:
        self.respond = respond
        self.text = f"⏳ {verb} {escape(load)}…"
        self.lock = threading.Lock()
        self.done = False
        self.timer = threading.Timer(SLOW_AFTER, self._show)
        self.timer.daemon = True

    def _show(self) -> None:
        with self.lock:
            if not self.done:
                send(self.respond, {"text": self.text, "response_type": "ephemeral"})

    def __enter__(self) -> _checking:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()
        with self.lock:
            self.done = True
