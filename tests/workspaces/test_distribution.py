"""Distribution mode end to end, for two workspaces at once, against the Slack stand-in and the QuickBooks
emulator over HTTP: "Add to Slack" → Connect QuickBooks → TMS events → /qbsync → a fix button → the
digest → uninstall → reinstall. Everything one workspace does stays in it: the other never sees its loads,
its messages, its settings or its company, through any surface."""

from __future__ import annotations

import contextlib
import html
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr
from werkzeug.serving import make_server

from emulator.slack import SlackStandIn, post_to_app
from services.catalogue.workspaces import NOT_INSTALLED
from services.store.models import FixAudit, Load
from services.store.tenants import SlackInstallationRecord
from services.tms.events import signed_headers
from tests.builders import CHARGE_CODES, CUSTOMERS, qb_company
from tests.builders import load as a_load
from tests.waiting import wait_for

SECRET = "qbsync-test-signing-secret"
A, B = "T0AAA0001", "T0BBB0002"
ADMIN = {A: "U0ADMINA1", B: "U0ADMINB2"}
CLERK = {A: "U0CLERKA1", B: "U0CLERKB2"}
CHANNEL = {A: "C0ABILLING", B: "C0BBILLING"}
COOKIE = "qbsync_connect"
VERIFIER = "intuit-verifier-token"


class Deployment:
    """qbsync served over HTTP beside the Slack stand-in; ``channels``, ``clerks`` and ``admins`` are each
    workspace's channel and people (by team id)."""

    def __init__(self, slack: SlackStandIn, url: str, services: Any, emu: Any) -> None:
        self.slack, self.url, self.services, self.emu = slack, url, services, emu
        self.channels, self.clerks, self.admins = dict(CHANNEL), dict(CLERK), dict(ADMIN)

    # -- a person in a workspace ---------------------------------------------------------------------

    def install(self, team: str | None, user: str, *, enterprise: str | None = None) -> requests.Response:
        """ "Add to Slack" by ``user``, for workspace ``team`` or (``enterprise``) a whole organization."""
        where = {"enterprise": enterprise} if enterprise else {"team": team}
        browser = requests.Session()
        page = browser.get(f"{self.url}/slack/install", timeout=10)
        assert page.status_code == 200, page.text
        href = html.unescape(re.search(r'<a href="([^"]+)"', page.text).group(1))
        assert href.startswith(self.slack.authorize_url)
        at_slack = browser.get(
            f"{href}&{urlencode({**where, 'user': user})}", allow_redirects=False, timeout=10
        )
        assert at_slack.status_code == 302, at_slack.text
        # Bolt's state cookie is Secure: requests keeps it off http://127.0.0.1, a browser on localhost not
        name, _, value = page.headers["Set-Cookie"].split(";", 1)[0].partition("=")
        return browser.get(at_slack.headers["Location"], cookies={name: value}, timeout=10)

    def post(self, body: str) -> tuple[int, Any]:
        status, _headers, answer = post_to_app(f"{self.url}/slack/events", body, SECRET)
        return status, answer

    def command(self, team: str, text: str, user: str | None = None) -> tuple[int, Any]:
        room = self.slack.team(team)
        return self.post(
            room.slash_command_body(
                "/qbsync", text, user_id=user or self.clerks[team], channel_id=self.channels[team]
            )
        )

    def click(self, team: str, message: Any, action_id: str, user: str, value: str | None = None) -> int:
        block_id, element = find_action(message.blocks, action_id)
        body = self.slack.team(team).block_actions_body(
            action_id,
            value if value is not None else element.get("value"),
            block_id=block_id,
            user_id=user,
            channel_id=message.channel,
            message_ts=message.ts,
            message_blocks=message.blocks,
        )
        return self.post(body)[0]

    def messages(self, team: str) -> list[Any]:
        return [m for m in self.slack.team(team).messages(self.channels[team]) if not m.deleted]

    def wait_message(self, team: str, contains: str) -> Any:
        def found():
            hits = [m for m in self.messages(team) if contains in words(m)]
            return hits[-1] if hits else None

        return wait_for(found, 20, contains)

    def connect(self, team: str, realm: str, *, tenant: str | None = None) -> requests.Response:
        """An administrator presses Connect QuickBooks in Slack workspace ``team`` and completes Intuit's
        pages in the browser; the link names qbsync's workspace (``tenant``: an organisation's)."""
        admin = self.admins[team]
        self.command(team, "status", user=admin)
        status = self.wait_message(team, "QuickBooks")
        assert self.click(team, status, "fix.connect", admin) == 200
        modal = wait_for(lambda: (self.slack.team(team).views(admin) or [None])[-1], 10, "the connect modal")
        link = next(e["url"] for b in modal["blocks"] if b["type"] == "actions" for e in b["elements"])
        assert parse_qs(urlparse(link).query)["ticket"][0].startswith(f"{tenant or team}."), (
            "the link names its workspace"
        )
        self.slack.team(team).close_views(admin)
        opened = requests.get(link, allow_redirects=False, timeout=10)
        assert opened.status_code == 302, opened.text
        cookie = opened.headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]
        at_intuit = requests.get(
            f"{opened.headers['Location']}&realmId={realm}", allow_redirects=False, timeout=10
        )
        assert at_intuit.status_code == 302
        return requests.get(at_intuit.headers["Location"], cookies={COOKIE: cookie}, timeout=20)

    def tms(self, key: str, secret: str, data: dict[str, Any]) -> requests.Response:
        import json

        raw = json.dumps(data).encode()
        return requests.post(
            f"{self.url}/tms/events/{key}", data=raw, headers=signed_headers(secret, raw), timeout=10
        )

    def scoped(self, team: str) -> Any:
        return self.services.workspace_of(team)


def words(message: Any) -> str:
    out: list[str] = [message.text or ""]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    out.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message.blocks)
    return " ".join(out)


def find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise AssertionError(f"no {action_id} in the message")


def loads_of(engine, number: str | None = None) -> int:
    table = Load.__table__
    query = sa.select(sa.func.count()).select_from(table)
    if number:
        query = query.where(table.c.load_number == number)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


@pytest.fixture
def deployment(settings, engine, emu) -> Iterator[Deployment]:
    with SlackStandIn(port=0) as slack:
        for team in (A, B):
            slack.add_team(team, name=f"Drayage {team[-1]}", installed=False)
        with serving(slack, settings, engine, emu) as served:
            yield served


def digests_posted(d, teams) -> None:
    """One tick of the scheduler's rounds, and each of ``teams`` shown its digest (the workspaces' digest
    settings made due already)."""
    from services.scheduler.workspaces import WorkspaceRounds
    from wiring.slack import workspace_chat

    rounds = WorkspaceRounds(d.services, workspace_chat, threads=2)
    try:
        rounds.tick()
        for team in teams:
            wait_for(
                lambda team=team: any("digest" in words(m).lower() for m in d.messages(team)),
                30,
                f"{team}'s digest",
            )
    finally:
        rounds.close()


@contextlib.contextmanager
def serving(slack: SlackStandIn, settings: Any, engine: Any, emu: Any) -> Iterator[Deployment]:
    """qbsync in distribution mode (``qbsync serve``'s web app with the Bolt app qbsync builds) on a local
    port, installed from ``slack``'s OAuth and talking to its Web API."""
    from services.quickbooks import RetryPolicy
    from web.app import create_web_app
    from wiring.services import bootstrap
    from wiring.slack import create_app

    holder: dict[str, Any] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    web_settings = settings.model_copy(
        update={
            "slack_client_id": slack.client_id,
            "slack_client_secret": SecretStr(slack.client_secret),
            "slack_authorize_url": slack.authorize_url,
            "slack_api_url": slack.api_url,
            "slack_signing_secret": SecretStr(SECRET),
            "public_url": url,
            "qbo_redirect_uri": f"{url}/qbo/callback",
            "qbo_webhook_verifier_token": SecretStr(VERIFIER),
        }
    )
    services = bootstrap(
        web_settings, engine=engine, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
    )
    holder["app"] = create_web_app(create_app(web_settings, services), services)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Deployment(slack, url, services, emu)
    finally:
        from services.background import wait_for_work

        wait_for_work(timeout=30)
        server.shutdown()


def test_two_workspaces_from_install_to_reinstall(deployment, emu):
    d = deployment
    # -- "Add to Slack" in both ----------------------------------------------------------------------
    for team in (A, B):
        page = d.install(team, ADMIN[team])
        assert page.status_code == 200 and "qbsync is installed" in page.text, page.text
    registry = d.services.registry
    assert {w.team_id for w in registry.all()} == {A, B}
    assert registry.get(A).storage != registry.get(B).storage
    with d.services.engine.connect() as conn:  # the bot tokens are kept encrypted
        stored = conn.execute(sa.select(SlackInstallationRecord.__table__.c.bot_token)).scalars().all()
    assert len(stored) == 2 and not any(token.startswith("xoxb-") for token in stored)

    # -- Connect QuickBooks: each workspace its own company; another's company is refused ---------------
    realm_a, realm_b = "9130000000000001", "9130000000000002"
    assert "Connected to" in d.connect(A, realm_a).text
    taken = d.connect(B, realm_a)
    assert taken.status_code == 409 and "another Slack workspace" in taken.text
    assert "Connected to" in d.connect(B, realm_b).text
    assert registry.get(A).realm_id == realm_a and registry.get(B).realm_id == realm_b
    for team in (A, B):
        qb_company(d.scoped(team).api)

    # -- TMS events, each workspace on its own URL and secret --------------------------------------------
    keys = {team: registry.rotate_tms_secret(team) for team in (A, B)}
    both = {"customers": CUSTOMERS, "charge_codes": CHARGE_CODES}
    sent_a = d.tms(
        *keys[A], {**both, "loads": [a_load("L-1", charges=[("BASE", "111.00")]), a_load("L-ONLY-A")]}
    )
    mystery = {"code": "MYSTERY", "name": "Mystery charge"}  # B's L-1 uses a code QuickBooks lacks
    sent_b = d.tms(
        *keys[B],
        {
            **both,
            "charge_codes": [*CHARGE_CODES, mystery],
            "loads": [a_load("L-1", charges=[("MYSTERY", "222.00")])],
        },
    )
    assert sent_a.status_code == 202 and sent_b.status_code == 202, (sent_a.text, sent_b.text)
    crossed = d.tms(keys[B][0], keys[A][1], {**both, "loads": [a_load("L-X")]})  # A's secret on B's URL
    unknown = d.tms("x" * 24, keys[A][1], {**both, "loads": [a_load("L-X")]})
    assert crossed.status_code == 401 and unknown.status_code == 401
    assert loads_of(d.scoped(A).engine) == 2 and loads_of(d.scoped(B).engine) == 1
    assert loads_of(d.scoped(B).engine, "L-X") == 0 and loads_of(d.services.engine) == 0

    # -- /qbsync L-1: each workspace sees its own load ------------------------------------------------
    wait_for(lambda: d.scoped(A).sync.current_result("L-1").state == "synced", 20, "A's L-1 synced")
    wait_for(lambda: d.scoped(B).sync.current_result("L-1").state == "problem", 20, "B's L-1 a problem")
    for team, said in ((A, "invoice matches the load"), (B, "charge codes are not synced")):
        status, _ = d.command(team, "L-1")
        assert status == 200
        assert said.lower() in words(d.wait_message(team, "L-1")).lower()
    assert not any("invoice matches" in words(m) for m in d.messages(B)), "A's answer never reaches B"

    # -- B asks for A's load, by command and by a forged button value ---------------------------------
    d.command(B, "L-ONLY-A")
    assert "not found" in words(d.wait_message(B, "L-ONLY-A")).lower()
    audits_before = _count(d.scoped(A).engine, FixAudit)
    answer = d.wait_message(B, "L-1")
    clicked = d.click(B, answer, next(iter(_fix_ids(answer))), CLERK[B], value="L-ONLY-A")
    assert clicked == 200
    wait_for(lambda: _count(d.scoped(B).engine, FixAudit) >= 1, 20, "B's click audited in B")
    assert _count(d.scoped(A).engine, FixAudit) == audits_before, "nothing written in A"

    # -- the digest: each workspace's channel, its own numbers --------------------------------------------
    for team in (A, B):
        registry.update_settings(team, digest_channel=CHANNEL[team], digest_time="00:00", timezone="UTC")
    digests_posted(d, (A, B))

    # -- uninstall A: its Slack stops, its data stays; B goes on ----------------------------------------
    statuses = d.slack.team(A).uninstall(f"{d.url}/slack/events", SECRET)
    assert all(s == 200 for s in statuses)
    wait_for(lambda: not registry.get(A).installed, 10, "A marked uninstalled")
    assert loads_of(d.scoped(A).engine) == 2, "A's data is kept for a reinstall"
    since = {m.ts for t in (A, B) for m in d.messages(t)}
    gone_status, gone_answer = d.command(A, "L-1")  # A's people get no answer from its data now
    assert gone_status in (200, 401) and "invoice matches" not in str(gone_answer)
    assert d.command(B, "L-1")[0] == 200
    wait_for(lambda: any(newer(m, since) for m in d.messages(B)), 20, "B answers while A is gone")
    posted = [words(m) for m in d.messages(A) if newer(m, since)]
    assert all(text == NOT_INSTALLED for text in posted), f"only qbsync's refusal in A: {posted}"

    # -- reinstall A: a new token, the same data ------------------------------------------------------
    page = d.install(A, ADMIN[A])
    assert page.status_code == 200 and "qbsync is installed" in page.text
    assert registry.get(A).installed
    since = {m.ts for m in d.messages(A)}
    assert d.command(A, "L-1")[0] == 200
    wait_for(
        lambda: any(newer(m, since) and "invoice matches" in words(m) for m in d.messages(A)), 20, "A again"
    )


def newer(message: Any, since: set[str]) -> bool:
    """Whether ``message`` came after ``since`` (the timestamps of the messages there were then)."""
    return message.ts not in since


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table.__table__)).scalar_one()


def _fix_ids(message: Any) -> list[str]:
    return [
        e["action_id"]
        for b in message.blocks
        if b.get("type") == "actions"
        for e in b.get("elements", [])
        if e.get("action_id", "").startswith("fix.")
    ] or ["fix.retry"]


def test_intuit_app_urls_change_nothing_by_themselves(deployment):
    d = deployment
    d.install(A, ADMIN[A])
    launch = requests.get(f"{d.url}/qbo/launch", timeout=10)
    assert launch.status_code == 200 and "/slack/install" in launch.text
    reconnect = requests.get(f"{d.url}/qbo/reconnect", timeout=10)
    assert reconnect.status_code == 200 and "Connect QuickBooks" in reconnect.text
    for realm in ("9130000000000001", "not-a-realm", "<script>", "9" * 40):
        page = requests.get(f"{d.url}/qbo/disconnect", params={"realmId": realm}, timeout=10)
        assert page.status_code == 200 and "<script>" not in page.text
    assert d.services.registry.get(A).installed, "nothing was changed"


def test_a_request_from_a_workspace_that_never_installed_is_refused(deployment):
    d = deployment
    d.install(A, ADMIN[A])
    stranger = d.slack.add_team("T0CCC0003", name="Stranger")
    status, answer = d.post(
        stranger.slash_command_body("/qbsync", "L-1", user_id="U0STRANGE1", channel_id="C0CCC")
    )
    assert status in (200, 401)
    assert "invoice" not in str(answer).lower()
    assert d.services.registry.get("T0CCC0003") is None


def test_modals_options_and_the_app_home_stay_in_their_workspace(deployment):
    """B's people, with A's load numbers in a modal's metadata, an options request and a home tab: B's
    data only; A's rows unchanged."""
    import json

    from services.tms.importer import import_data

    d = deployment
    for team in (A, B):
        d.install(team, ADMIN[team])
    both = {"customers": CUSTOMERS, "charge_codes": CHARGE_CODES}
    import_data(d.scoped(A).engine, {**both, "loads": [a_load("L-ONLY-A")]})
    import_data(d.scoped(B).engine, {**both, "loads": [a_load("L-B1"), a_load("L-B2")]})
    a_before = (_count(d.scoped(A).engine, FixAudit), loads_of(d.scoped(A).engine))

    # a choice modal submitted in B naming A's load
    room = d.slack.team(B)
    view = {
        "type": "modal",
        "callback_id": "qbsync.choice",
        "private_metadata": json.dumps({"fix": "update_customer_email", "load": "L-ONLY-A"}),
        "blocks": [],
    }
    values = {"email": {"email": {"type": "plain_text_input", "value": "ap@evil.example"}}}
    status, _ = d.post(room.view_submission_body(view, values, user_id=ADMIN[B]))
    assert status == 200
    # an options request in B for A's load
    suggest = {
        **view,
        "id": "V0FORGED01",
        "private_metadata": json.dumps({"fix": "link_customer", "load": "L-ONLY-A"}),
    }
    status, answer = d.post(
        room.block_suggestion_body("customer_id", "Acme", block_id="customer", view=suggest, user_id=ADMIN[B])
    )
    assert status == 200 and "Acme" not in str(answer), answer
    # the App Home of each: its own counts; the Settings for its administrator only
    for team, user in ((A, ADMIN[A]), (B, ADMIN[B]), (B, CLERK[B])):
        d.post(d.slack.team(team).app_home_opened_body(user))
    home_b = wait_for(lambda: d.slack.team(B).home(ADMIN[B]), 10, "B's home")
    home_clerk = wait_for(lambda: d.slack.team(B).home(CLERK[B]), 10, "the clerk's home")
    text_b = json.dumps(home_b)
    assert "Settings" in text_b and "Settings" not in json.dumps(home_clerk)
    assert "L-ONLY-A" not in text_b and d.slack.team(A).home(ADMIN[B]) is None
    from services.workspaces.overview import counts

    assert counts(d.scoped(B).engine)[0] == 2
    from services.background import wait_for_work

    assert wait_for_work(timeout=20)
    assert (_count(d.scoped(A).engine, FixAudit), loads_of(d.scoped(A).engine)) == a_before, "nothing in A"
    assert d.scoped(A).sync.current_result("L-ONLY-A").state != "not_found"


def test_quickbooks_notifications_go_to_the_workspace_of_their_company(deployment):
    import base64
    import hashlib
    import hmac
    import json

    from services.store.changes import QboChangeEvent

    d = deployment
    for team in (A, B):
        d.install(team, ADMIN[team])
    d.services.registry.claim_realm(A, "9130000000000001")
    d.services.registry.claim_realm(B, "9130000000000002")
    events = [
        {"specversion": "1.0", "id": f"ev-{realm}", "source": "intuit", "type": "qbo.invoice.deleted.v1",
         "time": "2026-12-03T10:00:00.000Z", "intuitentityid": "7", "intuitaccountid": realm, "data": {}}
        for realm in ("9130000000000001", "9130000000000002", "9130000000000099")
    ]  # fmt: skip
    raw = json.dumps(events).encode()
    sign = base64.b64encode(hmac.new(VERIFIER.encode(), raw, hashlib.sha256).digest()).decode()
    answer = requests.post(
        f"{d.url}/qbo/webhooks",
        data=raw,
        headers={"intuit-signature": sign, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200 and answer.json() == {"received": 2, "repeated": 0, "ignored": 1}
    table = QboChangeEvent.__table__
    for team, realm in ((A, "9130000000000001"), (B, "9130000000000002")):
        with d.scoped(team).engine.connect() as conn:
            assert conn.execute(sa.select(table.c.realm_id)).scalars().all() == [realm], team


def test_the_new_doors_refuse_what_is_forged(deployment):
    """As an attacker: Slack's OAuth answer forged, a TMS key guessed or oversized, a Connect link moved to
    another workspace, the Settings submitted by someone who is not an administrator."""
    import json

    d = deployment
    for team in (A, B):
        d.install(team, ADMIN[team])
    for params in (
        {},
        {"code": "x", "state": "forged"},
        {"error": "<script>alert(1)</script>", "state": "s"},
        {"code": "x" * 5000, "state": "y" * 5000},
    ):
        page = requests.get(f"{d.url}/slack/oauth_redirect", params=params, timeout=10)
        assert page.status_code < 500 and "qbsync was not installed" in page.text, (
            page.text
        )  # Slack's error: 200
        assert "<script>" not in page.text and "Traceback" not in page.text
    for key in ("k" * 15, "k" * 65, "../../etc/passwd", "%00", "k" * 2000):
        assert requests.post(f"{d.url}/tms/events/{key}", data=b"{}", timeout=10).status_code in (401, 404)
    key, secret = d.services.registry.rotate_tms_secret(A)
    from services.tms.events import MAX_BODY

    big = b"{" + b" " * (MAX_BODY + 10) + b"}"
    assert requests.post(f"{d.url}/tms/events/{key}", data=big, timeout=10).status_code == 413

    # A's Connect link with B's team in front: B never issued it; A's link still works afterwards
    scoped_a = d.scoped(A)
    from commands.common import Deps
    from services.access.roles import Access

    link = Deps(
        services=scoped_a, access=Access.from_settings(scoped_a.settings), connect_url=f"{d.url}/qbo/connect"
    )
    genuine = link.connect_ticket_link(f"slack:{A}:{ADMIN[A]}")
    moved = genuine.replace(f"ticket={A}.", f"ticket={B}.")
    assert requests.get(moved, allow_redirects=False, timeout=10).status_code == 403
    assert requests.get(genuine, allow_redirects=False, timeout=10).status_code == 302

    # the Settings submitted by a clerk: refused on the form, nothing saved
    view = {"type": "modal", "callback_id": "qbsync.settings", "private_metadata": "", "blocks": []}
    values = {
        "digest_time": {"value": {"type": "timepicker", "selected_time": "06:00"}},
        "timezone": {"value": {"type": "plain_text_input", "value": "UTC"}},
        "admins": {"value": {"type": "multi_users_select", "selected_users": [CLERK[A]]}},
    }
    status, answer = d.post(d.slack.team(A).view_submission_body(view, values, user_id=CLERK[A]))
    assert status == 200 and json.loads(answer)["response_action"] == "errors"
    assert d.services.registry.get(A).settings["admins"] == [ADMIN[A]]
    status, answer = d.post(
        d.slack.team(A).view_submission_body(
            view,
            values | {"timezone": {"value": {"type": "plain_text_input", "value": "Mars/Olympus"}}},
            user_id=ADMIN[A],
        )
    )
    assert json.loads(answer)["response_action"] == "errors" and "time zone" in answer
    status, answer = d.post(d.slack.team(A).view_submission_body(view, values, user_id=ADMIN[A]))
    assert status == 200 and not answer
    assert d.services.registry.get(A).settings["digest_time"] == "06:00"
