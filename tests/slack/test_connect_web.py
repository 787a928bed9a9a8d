"""Connecting QuickBooks through ``qbsync serve`` without a browser: ``GET /qbo/connect?ticket=…`` and
``GET /qbo/callback`` driven with requests against the Intuit OAuth emulator — states (unknown, used,
expired), access denied, a code used twice, the company confirmed, the digest channel told, blocked
loads retried, and no token anywhere but encrypted in the database. The callback is sent with the
cookie ``/qbo/connect`` set, as the browser that started it would (``requests`` keeps a ``Secure``
cookie off http://127.0.0.1; a browser on localhost does not)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner

from cli.main import qbsync
from services.connect.states import digest, issue, issue_ticket
from services.store.models import ConnectionState, ConnectTicket, OAuthState, QboConnection, utcnow
from tests.builders import CHARGE_CODES, CUSTOMERS, tms
from tests.builders import load as a_load
from tests.slack.conftest import ADMIN, TEAM, wait_for

DIGEST = "C0DIGEST01"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


COOKIE = "qbsync_connect"
_browser: dict[str, str] = {}  # state -> the cookie of the browser that started it


def start(web, actor: str = f"slack:{TEAM}:{ADMIN}") -> str:
    """``GET /qbo/connect`` with a fresh ticket made for ``actor`` (an administrator pressed Connect):
    the authorize URL it redirects to. The browser's cookie is kept for its callback."""
    ticket = issue_ticket(web.services.engine, actor)
    answer = requests.get(
        f"{web.url}/qbo/connect", params={"ticket": ticket}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302, answer.text
    cookie = answer.headers["Set-Cookie"].split(";", 1)[0].partition("=")
    assert cookie[0] == COOKIE and cookie[2]
    _browser[query_of(answer.headers["Location"])["state"]] = cookie[2]
    return answer.headers["Location"]


def in_browser(url: str, **kwargs) -> requests.Response:
    """``GET`` a callback URL in the browser that started it (its cookie sent)."""
    cookie = _browser.get(query_of(url).get("state", ""))
    return requests.get(url, cookies={COOKIE: cookie} if cookie else None, timeout=5, **kwargs)


def authorize(url: str) -> str:
    """The emulator's consent (granted at once): the callback URL Intuit sends the browser to."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"]


def stored(engine) -> dict:
    table = QboConnection.__table__
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(table)).mappings().one())


def issued_tokens(emu) -> set[str]:
    tokens = emu.emulator.tokens
    return set(tokens.access) | set(tokens.refresh_tokens)


def test_connect_redirects_to_intuit_with_a_stored_single_use_state(make_web, engine, emu):
    web = make_web()
    url = start(web)
    assert url.startswith(f"{emu.url}/authorize?")
    query = query_of(url)
    assert query["scope"] == "com.intuit.quickbooks.accounting"
    assert query["redirect_uri"] == f"{web.url}/qbo/callback"
    assert len(query["state"]) >= 22  # 24 random bytes: 192 bits
    with engine.connect() as conn:
        rows = conn.execute(sa.select(OAuthState.__table__)).mappings().all()
    assert [row["digest"] for row in rows] == [digest(query["state"])], "only a digest is stored"
    assert rows[0]["expires_at"] - rows[0]["created_at"] == dt.timedelta(minutes=10)
    assert query_of(start(web))["state"] != query["state"]


def seed_company(emu, name: str = "Emulated Trucking Co") -> None:
    """The standard company (tests.builders.CUSTOMERS and CHARGE_CODES), seeded before connecting."""
    emu.seed(
        {
            "company_info": {"CompanyName": name},
            "customers": [
                {"DisplayName": c["name"], "PrimaryEmailAddr": {"Address": c["qb_email"]}} for c in CUSTOMERS
            ],
            "items": [{"Name": c["name"], "Type": "Service"} for c in CHARGE_CODES],
        }
    )


def database_bytes(web) -> bytes:
    url = web.services.settings.database_url
    if not url.startswith("sqlite"):
        return b""  # PostgreSQL: the columns are checked instead
    path = Path(urlparse(url).path)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # with the WAL


def assert_no_token_in(tokens, *texts) -> None:
    for token in tokens:
        for text in texts:
            assert (token.encode() if isinstance(text, bytes) else token) not in text


def test_the_round_trip_connects_tells_the_channel_and_retries_blocked_loads(
    make_web, engine, emu, slack, qbsync_logs
):
    seed_company(emu, "Smith <b>&</b> Sons Hauling")
    web = make_web(digest_channel=DIGEST)
    tms(engine, [a_load("L-1"), a_load("L-2")])
    web.services.sync.sync_many(["L-1", "L-2"], trigger="test")
    assert [r.code for r in web.services.sync.current_result("L-1").reasons] == ["qb_not_connected"]

    answer = in_browser(authorize(start(web)))
    assert answer.status_code == 200
    assert "Connected to Smith &lt;b&gt;&amp;&lt;/b&gt; Sons Hauling" in answer.text, "escaped"
    assert "<b>&" not in answer.text
    row = stored(engine)
    assert row["state"] == ConnectionState.CONNECTED.value
    assert row["connected_by"] == f"slack:{TEAM}:{ADMIN}"
    posted = wait_for(lambda: slack.messages(DIGEST), what="the post in the digest channel")
    assert (
        posted[0].text == f"QuickBooks connected to Smith &lt;b&gt;&amp;&lt;/b&gt; Sons Hauling by <@{ADMIN}>"
    )
    wait_for(
        lambda: all(web.services.sync.current_result(n).state == "synced" for n in ("L-1", "L-2")),
        what="the blocked loads synced by themselves",
    )

    tokens = issued_tokens(emu)
    assert len(tokens) >= 2
    logs = "\n".join(record.getMessage() for record in qbsync_logs.records)
    assert "QuickBooks connected in the browser" in logs and "load L-1: synced" in logs, "DEBUG lines seen"
    assert_no_token_in(tokens, database_bytes(web), logs, answer.text, str(row))
    assert web.services.cipher.decrypt(row["refresh_token"]) in tokens, "stored, encrypted"


def test_the_old_by_link_and_no_ticket_start_nothing(make_web, engine, emu):
    web = make_web()
    for query in ("", "?by=" + f"slack:{TEAM}:{ADMIN}~" + "0" * 32):
        answer = requests.get(f"{web.url}/qbo/connect{query}", allow_redirects=False, timeout=5)
        assert answer.status_code == 403 and "Connect QuickBooks in Slack" in answer.text
        assert "qbsync connect" in answer.text and "Set-Cookie" not in answer.headers
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OAuthState.__table__)).scalar() == 0
    assert stored_or_none(engine) is None


@pytest.mark.parametrize(
    ("state", "words"),
    [("nothing-we-issued", "not one qbsync started"), ("", "not one qbsync started"), ("é" * 300, "not one")],
)
def test_an_unknown_state_is_refused(make_web, engine, state, words):
    web = make_web()
    answer = requests.get(
        f"{web.url}/qbo/callback?" + urlencode({"state": state, "code": "AB11x", "realmId": "1"}), timeout=5
    )
    assert answer.status_code == 400 and words in answer.text
    assert "text/html" in answer.headers["Content-Type"]


def test_a_state_is_single_use_and_a_code_used_twice_changes_nothing(make_web, engine, emu):
    web = make_web()
    callback = authorize(start(web))
    assert in_browser(callback).status_code == 200
    before = stored(engine)

    again = in_browser(callback)  # reloaded, or replayed by someone else
    assert again.status_code == 400 and "already used" in again.text

    fresh = query_of(start(web))["state"]  # the same code with a valid state: Intuit refuses it
    code = query_of(callback)
    replay = in_browser(f"{web.url}/qbo/callback?" + urlencode({**code, "state": fresh}))
    assert replay.status_code == 400 and "already used or has expired" in replay.text
    assert code["code"] not in replay.text
    assert stored(engine) == before, "the stored connection is left as it was"


def test_a_state_expires_after_ten_minutes(make_web, engine, emu):
    web = make_web()
    old = issue(engine, now=utcnow() - dt.timedelta(minutes=10, seconds=1))
    answer = requests.get(f"{web.url}/qbo/callback?" + urlencode({"state": old, "code": "x", "realmId": "1"}))
    assert answer.status_code == 400 and "expired" in answer.text
    assert stored_or_none(engine) is None


def test_access_denied_stores_nothing(make_web, engine, emu):
    web = make_web()
    state = query_of(start(web))["state"]
    answer = in_browser(f"{web.url}/qbo/callback?" + urlencode({"state": state, "error": "access_denied"}))
    assert answer.status_code == 400 and "You did not allow qbsync" in answer.text
    assert stored_or_none(engine) is None


def test_without_a_secret_key_connect_says_what_is_missing(make_web, engine):
    web = make_web(secret_key=None)
    ticket = issue_ticket(engine, f"slack:{TEAM}:{ADMIN}")
    answer = requests.get(f"{web.url}/qbo/connect?ticket={ticket}", allow_redirects=False, timeout=5)
    assert answer.status_code == 503 and "QBSYNC_SECRET_KEY" in answer.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OAuthState.__table__)).scalar() == 0
        unspent = conn.execute(sa.select(ConnectTicket.used_at)).scalar_one()
    assert unspent is None, "the ticket still works once the setting is fixed"


def stored_or_none(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(QboConnection.__table__)).first()


def test_qbsync_connect_leads_to_the_served_connect_page(make_web, env, engine, emu):
    web = make_web()
    cli = subprocess.Popen(
        [str(Path(sys.executable).with_name("qbsync")), "connect", "--no-browser", "--timeout", "20"],
        env={**os.environ, "QBO_REDIRECT_URI": f"{web.url}/qbo/callback"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any("/qbo/connect" in line for line in lines):
            lines.append(cli.stdout.readline())
            assert lines[-1] or cli.poll() is None, "".join(lines)
        link = lines[-1].strip()
        assert link.startswith(f"{web.url}/qbo/connect?ticket="), link
        opened = requests.get(link, allow_redirects=False, timeout=5)
        assert opened.status_code == 302, opened.text
        cookie = opened.headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]
        assert (
            requests.get(authorize(opened.headers["Location"]), cookies={COOKIE: cookie}).status_code == 200
        )
        output = "".join(lines) + cli.communicate(timeout=20)[0]
    finally:
        cli.kill()
    assert cli.returncode == 0, output
    assert "Connected to QuickBooks company 'Emulated Trucking Co'" in output


def test_json_outputs_and_error_messages_carry_no_token(make_web, env, engine, emu, qbsync_logs):
    seed_company(emu)
    web = make_web()
    tms(engine, [a_load("L-1"), a_load("L-2", customer="C-200")])
    assert in_browser(authorize(start(web))).status_code == 200
    runner = CliRunner()
    outputs = []
    for args in (
        ["sync", "--all", "--json"],
        ["diagnose", "L-1", "--json"],
        ["problems", "--json"],
        ["digest", "--json"],
    ):
        done = runner.invoke(qbsync, args)
        assert done.exit_code == 0, done.output
        outputs.append(done.output)
    emu.expire_tokens()
    with engine.connect() as conn:  # Intuit revokes the grant: every refusal is said without a token
        connection = conn.execute(sa.select(QboConnection.refresh_token)).scalar()
    web.services.auth.revoke(web.services.cipher.decrypt(connection))
    for args in (
        ["retry", "L-1", "--json"],
        ["connect", "--realm-id", emu.realm_id, "--refresh-token", "AB11" + "9" * 40],
    ):
        outputs.append(runner.invoke(qbsync, args).output)
    assert "qb_not_connected" in "".join(outputs) and "Intuit refused" in outputs[-1]
    logs = "\n".join(record.getMessage() for record in qbsync_logs.records)
    assert_no_token_in(issued_tokens(emu), logs, *outputs)


def test_a_realm_id_changed_on_the_way_stores_nothing(make_web, engine, emu):
    web = make_web()
    query = query_of(authorize(start(web)))
    answer = in_browser(f"{web.url}/qbo/callback?" + urlencode({**query, "realmId": "4620816365000000000"}))
    assert answer.status_code == 400 and "do not open QuickBooks company 4620816365000000000" in answer.text
    assert stored_or_none(engine) is None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "state=%00&code=%00",
        "state=a&state=b",
        "error=access_denied",
        "state=x&realmId=abc&code=" + "c" * 5000,
        "by=%FF%FE",
        "by=slack:T1:U1~" + "z" * 500,
        "ticket=%FF%FE",
        "ticket=" + "t" * 5000,
    ],
)
def test_no_input_makes_a_server_error(make_web, query):
    web = make_web()
    for path in ("/qbo/connect", "/qbo/callback"):
        for method in ("GET", "HEAD", "POST"):
            answer = requests.request(method, f"{web.url}{path}?{query}", allow_redirects=False, timeout=5)
            assert answer.status_code < 500, (method, path, query, answer.text)
            assert "Traceback" not in answer.text
