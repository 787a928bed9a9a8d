"""``GET /qbo/connect`` and ``GET /qbo/callback``: connecting QuickBooks in the browser.

``/qbo/connect`` opens only with a Connect ticket (``?ticket=…``, single-use, made for an
administrator or ``qbsync connect``); it sets the cookie that binds the connection to this browser
(``Secure``, ``HttpOnly``, ``SameSite=Lax``, ``Path=/qbo``, ten minutes) and redirects to Intuit. The
callback accepts Intuit's answer only in the browser holding that cookie, and clears it.

The pages are built from ``bot/templates/page.html`` with autoescaping; they never show a token or a
code. After a connection the answer leaves first; then a thread posts "QuickBooks connected to … by …"
to the digest channel (when one is set) and retries every load that only waited for the connection."""

from __future__ import annotations

import logging

from flask import Flask, Response, redirect, request
from jinja2 import Environment, PackageLoader
from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.views.connection import connected_message
from services.background import hand_over
from services.connect.states import LIFETIME
from services.connect.web import ConnectRefused, WebConnected, finish, retry_blocked, start
from services.workspaces.routing import route, services_for_realm
from wiring.slack import workspace_client

log = logging.getLogger(__name__)

_pages = Environment(loader=PackageLoader("web", "templates"), autoescape=True)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
BROWSER_COOKIE = "qbsync_connect"
COOKIE_PATH = "/qbo"


def page(status: int, *, ok: bool, heading: str, message: str) -> Response:
    body = _pages.get_template("page.html").render(ok=ok, title=heading, heading=heading, message=message)
    return Response(body, status, headers=NO_STORE, mimetype="text/html")


def refused(exc: ConnectRefused) -> Response:
    return page(exc.status, ok=False, heading=exc.title, message=exc.message)


def register(web: Flask, slack_app: App, services) -> None:
    @web.get("/qbo/connect")
    def qbo_connect() -> Response:
        scoped, ticket = route(services, request.args.get("ticket"))
        try:
            started = start(scoped.browser_connect, ticket)
        except ConnectRefused as exc:
            return refused(exc)
        answer = redirect(started.authorize_url, 302)
        answer.headers.update(NO_STORE)
        answer.set_cookie(
            BROWSER_COOKIE,
            started.browser,
            max_age=int(LIFETIME.total_seconds()),
            path=COOKIE_PATH,
            secure=True,
            httponly=True,
            samesite="Lax",
        )
        return answer

    @web.get("/qbo/callback")
    def qbo_callback() -> Response:
        params = {key: request.args.get(key, "") for key in ("state", "code", "realmId", "error")}
        scoped, params["state"] = route(services, params["state"])
        try:
            connected = finish(scoped.browser_connect, params, request.cookies.get(BROWSER_COOKIE))
        except ConnectRefused as exc:
            return _forget_browser(refused(exc))
        said = "qbsync can now sync invoices to this QuickBooks company."
        if connected.switched is not None:
            said = connected.switched.words
        answer = page(
            200,
            ok=True,
            heading=f"Connected to {connected.company}",
            message=f"{said} Invoices that waited for the connection are being sent now.",
        )
        answer.call_on_close(lambda: _after_connect(slack_app, scoped, connected))
        return _forget_browser(answer)


def register_app_urls(web: Flask, services) -> None:
    """The app URLs Intuit asks of a QuickBooks app listed in its App Store: where QuickBooks sends a
    person who opens the app (launch), who disconnected it there (disconnect), or who wants to connect
    again (reconnect). None of them changes anything by itself: connecting starts in Slack, from an
    administrator's single-use link, and a disconnection only makes qbsync look at that company now
    (the address carries nothing Intuit signs)."""
    from services.catalogue import workspaces as words

    @web.get("/qbo/launch")
    def qbo_launch() -> Response:
        message = words.LAUNCH_SINGLE
        if services.settings.distribution:
            public = (services.settings.public_url or "").rstrip("/")
            message = f"{words.LAUNCH} {words.ADD_TO_SLACK}: {public}/slack/install"
        return page(200, ok=True, heading=words.LAUNCH_TITLE, message=message)

    @web.get("/qbo/disconnect")
    def qbo_disconnect() -> Response:
        realm = request.args.get("realmId", "")
        if realm.isdigit() and len(realm) <= 32:
            hand_over(_look_now, services, realm)
        return page(200, ok=False, heading=words.DISCONNECTED_TITLE, message=words.DISCONNECTED)

    @web.get("/qbo/reconnect")
    def qbo_reconnect() -> Response:
        return page(200, ok=True, heading=words.RECONNECT_TITLE, message=words.RECONNECT)


def _look_now(services, realm: str) -> None:
    """The company's change feed reads QuickBooks at its next tick: a grant revoked there is found then
    (Intuit refuses the token, and the connection is marked broken, as for any refused token)."""
    scoped = services_for_realm(services, realm)
    if scoped is None:
        return
    scoped.changes.mark_due({realm})
    log.info("QuickBooks says company %s was disconnected: it is read at the next tick", realm)


def _forget_browser(answer: Response) -> Response:
    answer.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="Lax")
    return answer


def _after_connect(slack_app: App, services, connected: WebConnected) -> None:
    hand_over(_announce_and_retry, slack_app, services, connected)


def _announce_and_retry(slack_app: App, services, connected: WebConnected) -> None:
    channel = services.settings.digest_channel
    client = workspace_client(services) if services.settings.distribution else slack_app.client
    if channel and client is not None:
        try:
            client.chat_postMessage(
                channel=channel,
                **connected_message(
                    connected.company,
                    connected.actor,
                    switched=connected.switched.words if connected.switched else None,
                ),
            )
        except SlackApiError as exc:
            log.warning("could not post the connection to %s: %s", channel, exc.response.get("error"))
        except Exception:
            log.warning("could not post the connection to %s", channel, exc_info=True)
    try:
        retry_blocked(services.browser_connect)
    except Exception:
        log.exception("retrying the loads blocked by the connection failed")
