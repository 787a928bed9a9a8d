"""Taking over the QuickBooks connection from outside, over real HTTP against ``qbsync serve``'s routes,
the real Bolt app, the Slack stand-in and the Intuit/QuickBooks emulator: ``/qbo/connect`` without a
ticket (none, forged, tampered, reused, expired, the old ``?by=`` link), a callback in another browser
(no cookie, another cookie), Connect pressed by someone who is not an administrator, and a callback
for another QuickBooks company than the one qbsync syncs to. Each is refused and changes nothing; the
administrator's own flow works end to end and is announced with their name."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import sqlalchemy as sa

from emulator.slack import block_actions_body, post_to_app
from services.connect.states import issue_ticket
from services.store.models import ConnectTicket, FixAudit, Load, OAuthState, QboConnection, utcnow
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import ADMIN, CHANNEL, CLERK, SECRET, TEAM, Bot, find_action, text_of, wait_for

pytestmark = pytest.mark.reliability

COOKIE = "qbsync_connect"
DIGEST = "C0DIGEST01"
OTHER_REALM = "4620816365999999999"
HOW = ("Connect QuickBooks in Slack", "qbsync connect")


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def connection_row(engine) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(QboConnection.__table__)).mappings().first()
    return dict(row) if row else None


def loads_row(engine) -> str:
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(Load.__table__).order_by(Load.id))]
    return json.dumps(rows, default=str)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def open_connect(url: str) -> tuple[str, str]:
    """``GET /qbo/connect?ticket=…`` as the browser does: Intuit's URL and the cookie it was given."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    cookie = answer.cookies.get(COOKIE) or _cookie_from(answer.headers.get("Set-Cookie", ""))
    assert cookie, answer.headers
    return answer.headers["Location"], cookie


def _cookie_from(header: str) -> str:
    """``requests``' cookie jar keeps a ``Secure`` cookie off http://127.0.0.1; a browser on localhost
    keeps it: read it from the header as the browser would."""
    first = header.split(";", 1)[0]
    name, _, value = first.partition("=")
    return value if name.strip() == COOKIE else ""


def consent(authorize_url: str, realm: str | None = None) -> str:
    """The emulator's consent, granted at once (for ``realm`` when given): Intuit's callback URL."""
    if realm:
        authorize_url += "&" + urlencode({"realmId": realm})
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def callback(url: str, cookie: str | None) -> requests.Response:
    cookies = {COOKIE: cookie} if cookie is not None else None
    return requests.get(url, cookies=cookies, allow_redirects=False, timeout=5)


def ticket_link(web, actor: str = f"slack:{TEAM}:{ADMIN}") -> str:
    return f"{web.url}/qbo/connect?" + urlencode({"ticket": issue_ticket(web.services.engine, actor)})


def refused_page(answer: requests.Response) -> None:
    assert answer.status_code in (400, 403), (answer.status_code, answer.text)
    assert "text/html" in answer.headers["Content-Type"]
    assert all(words in answer.text for words in HOW), answer.text
    assert COOKIE not in answer.headers.get("Set-Cookie", "") or "Max-Age=0" in answer.headers["Set-Cookie"]


# -- /qbo/connect without a ticket ----------------------------------------------------------------------


def test_connect_without_a_valid_ticket_is_refused_and_issues_no_state(make_web, engine, emu):
    web = make_web()
    key = web.services.settings.secret_key.get_secret_value()
    used = ticket_link(web)
    open_connect(used)  # the administrator's own use of it
    states_before = count(engine, OAuthState.__table__)
    expired = issue_ticket(
        engine, f"slack:{TEAM}:{ADMIN}", now=utcnow() - dt.timedelta(minutes=10, seconds=1)
    )
    fresh = query_of(ticket_link(web))["ticket"]
    attempts = {
        "no ticket": "",
        "empty ticket": "?ticket=",
        "forged ticket": "?ticket=" + "A" * 32,
        "tampered ticket": "?" + urlencode({"ticket": fresh[:-2] + ("xy" if fresh[-2:] != "xy" else "zz")}),
        "reused ticket": "?" + urlencode({"ticket": query_of(used)["ticket"]}),
        "expired ticket": "?" + urlencode({"ticket": expired}),
        "old signed link": "?" + urlencode({"by": f"slack:{TEAM}:{ADMIN}~" + key[:32]}),
        "huge ticket": "?ticket=" + "z" * 5000,
    }
    refused = 0
    for what, query in attempts.items():
        answer = requests.get(f"{web.url}/qbo/connect{query}", allow_redirects=False, timeout=5)
        refused_page(answer)
        assert "Location" not in answer.headers, what
        refused += 1
    assert count(engine, OAuthState.__table__) == states_before, "no state issued by a refused attempt"
    assert connection_row(engine) is None
    print(f"FIGURE connect-tickets: connect attempts refused: {refused} of {len(attempts)}; 0 states issued")


def test_a_ticket_for_someone_no_longer_an_administrator_is_refused(make_web, engine, emu):
    web = make_web(admins=(ADMIN,))
    link = ticket_link(web, f"slack:{TEAM}:{CLERK}")  # e.g. made before CLERK left QBSYNC_ADMINS
    refused_page(requests.get(link, allow_redirects=False, timeout=5))
    assert count(engine, OAuthState.__table__) == 0


# -- the callback in another browser ---------------------------------------------------------------------


def test_a_callback_in_another_browser_is_refused(make_web, engine, emu):
    web = make_web()
    cases = {"no cookie": None, "another cookie": "another-browser-" + "x" * 20, "empty cookie": ""}
    refused = 0
    for what, cookie in cases.items():
        authorize_url, _own = open_connect(ticket_link(web))
        answer = callback(consent(authorize_url), cookie)
        assert answer.status_code == 403, (what, answer.text)
        assert "started in another browser" in answer.text
        refused += 1
    assert connection_row(engine) is None, "nothing stored"
    print(f"FIGURE connect-browser: callbacks from another browser refused: {refused} of {len(cases)}")


def test_the_cookie_is_secure_http_only_lax_and_scoped_to_qbo(make_web, emu):
    web = make_web()
    answer = requests.get(ticket_link(web), allow_redirects=False, timeout=5)
    header = answer.headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path", "max-age"} <= attributes, header
    assert "SameSite=Lax" in header and "Path=/qbo" in header and "Max-Age=600" in header


# -- Connect pressed by someone who is not an administrator ------------------------------------------------


def status_message(bot: Bot, user: str):
    bot.command("status", user=user)
    return wait_for(
        lambda: bot.last_message(lambda m: "qbsync status" in text_of(m) and m.ephemeral_for == user),
        what="the status",
    )


def test_connect_pressed_by_a_non_administrator_is_refused_audited_and_makes_no_ticket(
    make_web, slack, engine, emu
):
    web = make_web(admins=(ADMIN,))
    bot = Bot(slack, web.url, web.app, web.services)
    message = status_message(bot, CLERK)
    _block, button = find_action(message.blocks, "fix.connect")
    assert "url" not in button and button.get("value"), "an action button, no link in the message"
    assert bot.click(message, "fix.connect", user=CLERK) == 200
    refusal = bot.wait_message("for administrators only")
    assert refusal.ephemeral_for == CLERK and f"<@{ADMIN}>" in text_of(refusal)
    home = block_actions_body(  # the same button on the App Home: no response_url
        "fix.connect",
        "connect",
        "connect",
        user_id=CLERK,
        team_id=TEAM,
        trigger_id=bot.slack.new_trigger_id(CLERK),
    )
    assert post_to_app(f"{bot.url}/slack/events", home, SECRET)[0] == 200
    modal = wait_for(lambda: bot.open_view(CLERK), what="the refusal on the Home")
    assert "for administrators only" in json.dumps(modal) and "/qbo/connect" not in json.dumps(modal)
    with engine.connect() as conn:
        audits = conn.execute(sa.select(FixAudit.fix, FixAudit.outcome, FixAudit.actor)).all()
    assert audits == [("connect", "refused", f"slack:{TEAM}:{CLERK}")] * 2
    assert count(engine, ConnectTicket.__table__) == 0, "no ticket made for a non-administrator"
    print("FIGURE connect-non-admin: Connect presses by a non-administrator refused: 2 of 2; 0 tickets made")


# -- another QuickBooks company -------------------------------------------------------------------------


def test_a_callback_for_another_company_is_refused_connected_or_disconnected(make_web, engine, emu):
    web = make_web()
    authorize_url, cookie = open_connect(ticket_link(web))
    assert callback(consent(authorize_url), cookie).status_code == 200  # the company qbsync syncs to
    qb_company(web.services.api)
    tms(engine, [a_load("R-1"), a_load("R-2")])
    assert {r.state for r in web.services.sync.sync_many(["R-1", "R-2"], trigger="test")} == {"synced"}
    before_connection, before_loads = connection_row(engine), loads_row(engine)

    refused = 0
    for connected in (True, False):
        if not connected:
            web.services.connection.disconnect()
            before_connection = connection_row(engine)
        authorize_url, cookie = open_connect(ticket_link(web))
        answer = callback(consent(authorize_url, OTHER_REALM), cookie)
        assert answer.status_code == 409, answer.text
        assert (
            f"company {emu.realm_id}" in answer.text and f"company {OTHER_REALM} was offered" in answer.text
        )
        assert "qbsync connect --switch-company" in answer.text
        assert connection_row(engine) == before_connection and loads_row(engine) == before_loads
        refused += 1
    assert web.services.connection.status().realm_id == emu.realm_id
    print(f"FIGURE connect-other-company: callbacks for another company refused: {refused} of 2")


# -- the administrator's own flow -----------------------------------------------------------------------


def test_the_administrators_flow_end_to_end_announces_the_administrator(make_web, slack, engine, emu):
    web = make_web(digest_channel=DIGEST)
    bot = Bot(slack, web.url, web.app, web.services)
    message = status_message(bot, ADMIN)
    assert bot.click(message, "fix.connect", user=ADMIN) == 200
    modal = wait_for(lambda: bot.open_view(ADMIN), what="the connect modal")
    _block, button = find_action(modal["blocks"], "qbsync.connect_continue")
    assert button["url"].startswith(f"{web.url}/qbo/connect?ticket=")
    assert "works once, for 10 minutes" in json.dumps(modal)
    assert count(engine, ConnectTicket.__table__) == 1

    authorize_url, cookie = open_connect(button["url"])
    answer = callback(consent(authorize_url), cookie)
    assert answer.status_code == 200 and "Connected to" in answer.text, answer.text
    assert f"{COOKIE}=;" in answer.headers["Set-Cookie"], "the cookie is cleared after the callback"
    row = connection_row(engine)
    assert row["state"] == "connected" and row["connected_by"] == f"slack:{TEAM}:{ADMIN}"
    posted = wait_for(lambda: bot.slack.messages(DIGEST), what="the announcement")
    assert posted[0].text.endswith(f"by <@{ADMIN}>") and "browser" not in posted[0].text
    again = requests.get(button["url"], allow_redirects=False, timeout=5)
    refused_page(again)
    assert "already used" in again.text
    assert all("/qbo/connect" not in json.dumps(m.blocks) for m in bot.slack.messages(CHANNEL))
    print("FIGURE connect-admin: administrator's connection: 1 of 1 connected, announced with a mention")
