"""What every listener shares: the dependencies it calls, the Slack user as an actor, answering
through ``respond`` with its result checked, and one guard that turns any failure into a short answer
(with an error id in the log for the unexpected ones) — never a stack trace, never silence."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from slack_sdk.errors import SlackApiError

from bot.response_urls import origin_of, response_url_allowed
from bot.views.results import error_message, notice_message, refusal_message
from services.access.roles import Access, audit_refusal
from services.background import hand_over, waiting
from services.connect.states import issue_ticket
from services.errors import QbsyncError, UserInputError
from services.quickbooks import QboError
from services.workspaces.routing import tagged

log = logging.getLogger("commands")

SLACK_ID = re.compile(r"^[A-Z0-9]{2,30}$")


class SeenEvents:
    """The ids of the last events handled in this process."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self.ids: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        with self.lock:
            if event_id in self.ids:
                return False
            self.ids[event_id] = None
            while len(self.ids) > self.size:
                self.ids.popitem(last=False)
            return True


@dataclass
class Deps:
    """What every listener is given. ``services`` is the composition root's ``wiring.services.Services``
    (settings, engine, connection, diagnoser, fixer, sync), handed in by ``wiring.slack``."""

    services: Any
    access: Access
    connect_url: str | None = None  # {QBSYNC_PUBLIC_URL}/qbo/connect: connecting goes through serve
    seen_events: SeenEvents = field(default_factory=SeenEvents)  # Slack's retries of an event

    def __deepcopy__(self, memo: dict) -> Deps:
        return self  # Bolt copies a request's context for its lazy listeners: the app's parts stay shared

    def for_request(self, context: Any) -> Deps | None:
        """The dependencies of the workspace a request comes from. In single-workspace mode, these; in
        distribution mode, a copy whose services are that workspace's (built on its own storage, so
        that nothing a listener does can read or write another workspace's data), or None when the
        workspace is not installed. An org-wide install's workspace is its organisation's: requests from
        its member workspaces say ``is_enterprise_install``, and an event about the whole organisation
        (the org-wide install removed) names the organisation and no team."""
        if not getattr(self.services.settings, "distribution", False) or self.services.workspace is not None:
            return self
        enterprise, team = context.get("enterprise_id"), context.get("team_id")
        org_wide = context.get("is_enterprise_install") or (enterprise and not team)
        tenant = enterprise if org_wide else team
        return self.of_workspace(tenant) if tenant else None

    def of_workspace(self, team_id: str) -> Deps | None:
        """The dependencies of workspace ``team_id`` as the registry has it now (its settings as last
        saved), or None when it is not installed."""
        root = self.services.root or self.services
        scoped = root.workspace_of(team_id, recent=True)
        if scoped is None or not scoped.workspace.installed:  # removed: its Slack requests are refused
            return None
        return Deps(
            services=scoped,
            access=Access.from_settings(scoped.settings),
            connect_url=self.connect_url,
            seen_events=self.seen_events,
        )

    def connect_ticket_link(self, actor: str) -> str | None:
        """A fresh Connect link for ``actor``, an administrator who just pressed Connect QuickBooks
        (the caller checks): ``/qbo/connect?ticket=…``, single-use, for ten minutes. None when
        connecting through ``qbsync serve`` is not set up (no ``QBSYNC_PUBLIC_URL``)."""
        if not self.connect_url:
            return None
        ticket = tagged(self.services, issue_ticket(self.services.engine, actor))
        return f"{self.connect_url}?{urlencode({'ticket': ticket})}"


def actor_of(body: dict[str, Any]) -> tuple[str, str]:
    """(actor for the audit, Slack user id) of a command, click or submission. For an interaction
    (``block_actions``, ``view_submission``, …) the person is the verified payload's ``user.id`` and
    the team ``team.id``; ``user_id`` and ``team_id`` are read only from a slash command, the one form
    in which Slack sends them. Anything not shaped as a Slack id is "unknown"."""
    if "type" not in body and isinstance(body.get("command"), str):  # a slash command's form
        user, team = body.get("user_id"), body.get("team_id")
    else:
        person = body.get("user") if isinstance(body.get("user"), dict) else {}
        org = body.get("team") if isinstance(body.get("team"), dict) else {}
        user, team = person.get("id"), org.get("id") or person.get("team_id")
    user = user if isinstance(user, str) and SLACK_ID.fullmatch(user) else "unknown"
    team = team if isinstance(team, str) and SLACK_ID.fullmatch(team) else "unknown"
    return f"slack:{team}:{user}", user


def send(respond: Callable[..., Any] | None, payload: dict[str, Any]) -> bool:
    """Answer through a response_url, only Slack's (``bot.shape.response_url_allowed``); Slack's
    refusals are logged, not raised (respond does not raise)."""
    if respond is None:
        return False
    url = getattr(respond, "response_url", None)
    if not url:
        log.info("no response_url to answer through")
        return False
    if not response_url_allowed(url):
        log.warning("an answer was not sent: the response_url is not Slack's (%s)", origin_of(url))
        return False
    try:
        with waiting():
            answer = respond(**payload)
    except Exception:  # the network to Slack: nothing more to tell the user through it
        log.warning("could not answer through the response_url", exc_info=True)
        return False
    status = getattr(answer, "status_code", 200)
    if status >= 400:
        log.warning("Slack refused a response_url answer: HTTP %s %s", status, getattr(answer, "body", ""))
        return False
    return True


def refuse(
    deps: Deps,
    actor: str,
    user: str,
    fix: str,
    answer: Callable[[dict[str, Any]], Any],
    load: str | None = None,
) -> bool:
    """True (after answering the person politely and auditing it) when ``user`` may not run ``fix``."""
    refusal = deps.access.check(user, fix)
    if refusal is None:
        return False
    audit_refusal(deps.services.engine, actor, load or None, refusal)
    answer(refusal_message(refusal))
    return True


def fill_view(client, view_id: str, view: dict[str, Any]) -> bool:
    """Replace a modal opened a moment ago ("Looking up…") with its content. The person may have closed
    it meanwhile (Slack answers ``not_found``): nothing to show then, and nothing went wrong."""
    try:
        with waiting():
            client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        if exc.response.get("error") != "not_found":
            raise
        log.info("the modal %s was closed before it was filled", view_id)
        return False
    return True


def in_background(func: Callable[..., Any]) -> Callable[..., Any]:
    """A lazy listener whose work runs on qbsync's own pool. Bolt runs acknowledgements and lazy
    listeners on one pool: slow work holding its threads (fixes of one load waiting their turn, syncs
    waiting for QuickBooks' budget) would keep the next request's ``ack()`` past Slack's 3 s, and Slack
    would show an error although the work goes on. Handed over, Bolt's thread is free at once. (Bolt
    reads the listener's parameters through ``functools.wraps``.)"""

    @wraps(func)
    def handed_over(**kwargs: Any) -> None:
        hand_over(func, **kwargs)

    return handed_over


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a listener's slow part; bad input and QuickBooks refusals become a short ephemeral answer,
    anything unexpected an answer with an error id that is in the log."""

    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        respond = kwargs.get("respond")
        try:
            return func(*args, **kwargs)
        except UserInputError as exc:
            send(respond, notice_message(str(exc)))
        except QboError as exc:
            send(respond, notice_message(f"QuickBooks did not take it: {exc}. Nothing was changed here."))
        except QbsyncError as exc:
            send(respond, notice_message(str(exc)))
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("error %s in %s", error_id, func.__name__)
            send(respond, error_message(error_id))
        return None

    return run
