"""Setting up a workspace of ``qbsync playground --workspaces 2`` the way a company would, over HTTP to the
playground's own server (the app, as ``qbsync serve`` runs it in distribution mode):

* :func:`install` — "Add to Slack": ``/slack/install``, the stand-in's authorize page (approved by the
  workspace's administrator), back to ``/slack/oauth_redirect``; qbsync registers the workspace and makes
  its own storage;
* :func:`connect` — Connect QuickBooks: a single-use ``/qbo/connect`` link for that administrator, the
  emulator's authorize page choosing the workspace's own company (``realmId``), ``/qbo/callback``;
* :func:`send_tms` — the workspace's TMS posts its data to its own webhook URL, signed with its own
  secret (``/tms/events/{key}``); qbsync syncs what it wrote once it has answered, and
  :func:`wait_synced` waits for that.

And later, when a person presses Connect QuickBooks on the page, :func:`choose_company` picks that
workspace's own company on the emulator's authorize page, as the person would on Intuit's.
"""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import requests

from playground.workspace import Seat
from services.errors import QbsyncError

TIMEOUT = 30
CONNECT_COOKIE = "qbsync_connect"


class SetupFailed(QbsyncError):
    """A workspace of the playground could not be set up; the message says which step and why."""


def _refused(seat: Seat, step: str, answer: requests.Response) -> SetupFailed:
    return SetupFailed(f"{step} in {seat.team_name} did not complete (HTTP {answer.status_code})")


def install(url: str, authorize_url: str, seat: Seat) -> None:
    """Install qbsync in ``seat``'s workspace through Slack's OAuth flow, as its administrator."""
    browser = requests.Session()
    page = browser.get(f"{url}slack/install", timeout=TIMEOUT)
    link = re.search(r'<a href="([^"]+)"', page.text) if page.status_code == 200 else None
    href = html.unescape(link.group(1)) if link else ""
    if not href.startswith(authorize_url):
        raise _refused(seat, "Add to Slack", page)
    approved = browser.get(
        f"{href}&{urlencode({'team': seat.team, 'user': seat.user})}", allow_redirects=False, timeout=TIMEOUT
    )
    if approved.status_code != 302:
        raise _refused(seat, "Add to Slack", approved)
    # Bolt's state cookie is Secure: a browser keeps it on http://127.0.0.1, requests does not by itself
    name, _, value = page.headers.get("Set-Cookie", "").split(";", 1)[0].partition("=")
    done = browser.get(approved.headers["Location"], cookies={name: value}, timeout=TIMEOUT)
    if done.status_code != 200:
        raise _refused(seat, "Add to Slack", done)


def connect(url: str, services: Any, seat: Seat, realm_id: str) -> None:
    """Connect ``seat``'s workspace (``services``: its scoped services) to QuickBooks company
    ``realm_id``, as its administrator does from Connect QuickBooks."""
    from services.connect.states import issue_ticket
    from services.workspaces.routing import tagged

    ticket = tagged(services, issue_ticket(services.engine, f"slack:{seat.team}:{seat.user}"))
    opened = requests.get(
        f"{url}qbo/connect?{urlencode({'ticket': ticket})}", allow_redirects=False, timeout=TIMEOUT
    )
    if opened.status_code != 302:
        raise _refused(seat, "Connect QuickBooks", opened)
    cookie = opened.headers.get("Set-Cookie", "").split(";", 1)[0].partition("=")[2]
    authorize = opened.headers["Location"]
    if "realmId=" not in authorize:  # its own company (chosen already when choose_company is on)
        authorize += f"&{urlencode({'realmId': realm_id})}"
    at_intuit = requests.get(authorize, allow_redirects=False, timeout=TIMEOUT)
    if at_intuit.status_code != 302:
        raise _refused(seat, "Connect QuickBooks", at_intuit)
    done = requests.get(at_intuit.headers["Location"], cookies={CONNECT_COOKIE: cookie}, timeout=TIMEOUT)
    if done.status_code != 200:
        raise _refused(seat, "Connect QuickBooks", done)


def send_tms(url: str, registry: Any, seat: Seat, data: dict[str, Any]) -> None:
    """Post ``data`` (the import format) to ``seat``'s workspace's own TMS webhook URL, signed with its
    own secret (made now, as the administrator's New TMS webhook secret does)."""
    from services.tms.events import signed_headers

    key, secret = registry.rotate_tms_secret(seat.team)
    raw = json.dumps(data).encode()
    headers = signed_headers(secret, raw)
    sent = requests.post(f"{url}tms/events/{key}", data=raw, headers=headers, timeout=TIMEOUT)
    if sent.status_code != 202:
        raise _refused(seat, "The TMS event", sent)


def wait_synced(engine: Any, seat: Seat, timeout: float = 60.0) -> None:
    """Wait until every load of the workspace (``engine``: its storage) was pushed: synced, or a
    problem."""
    import sqlalchemy as sa

    from services.store.models import Load, LoadState

    table = Load.__table__  # type: ignore[attr-defined]
    count = sa.select(sa.func.count()).select_from(table)
    waiting = count.where(table.c.state == LoadState.PENDING)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(count).scalar_one() and not conn.execute(waiting).scalar_one():
                return
        time.sleep(0.1)
    raise SetupFailed(f"the loads of {seat.team_name} were not synced within {timeout:.0f} s")


def choose_company(web: Any, emulator_url: str, realms: dict[str, str]) -> None:
    """On the way from ``/qbo/connect`` to the emulator's authorize page, choose the company of the
    workspace the Connect link is for (``realms``: team id to realm id), as a person picks their company
    on Intuit's page; the emulator would otherwise offer its first company to everyone."""
    from flask import request

    @web.after_request
    def with_company(response: Any) -> Any:
        location = response.headers.get("Location", "")
        if request.path != "/qbo/connect" or response.status_code != 302:
            return response
        if not location.startswith(emulator_url + "/") or "realmId=" in location:
            return response
        team = (request.args.get("ticket") or "").split(".", 1)[0]
        if team in realms:
            response.headers["Location"] = f"{location}&{urlencode({'realmId': realms[team]})}"
        return response
