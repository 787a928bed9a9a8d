"""``qbsync connect`` and ``qbsync disconnect`` end to end, against the emulator's Intuit OAuth server and
QuickBooks API over HTTP: what is stored, what Intuit retires or revokes, and what a person reads when it
goes wrong (one line, the contract's exit code, nothing stored, nothing spent)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import closing
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlmodel import Session

from cli.main import qbsync
from services.quickbooks import NotConnected
from services.store.models import ConnectionState, FixAudit, Load, QboConnection
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms

COMPANY_NAME = "Emulated Trucking Co"


def settings_changed() -> None:
    from services.settings import get_settings

    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(qbsync, list(args))


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result.stdout


def refused(result: Result, code: int, *, waited: bool = False) -> str:
    """Exit ``code`` with one ``qbsync:`` line on stderr and no traceback; nothing on stdout unless the
    command ``waited`` for the browser (then only the authorize URL)."""
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit)  # handled, not an exception escaping the command
    if waited:
        assert (
            result.stdout.startswith("Open this URL to connect QuickBooks")
            and "Connected" not in result.stdout
        )
    else:
        assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qbsync: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    return lines[0]


def stored(engine) -> QboConnection | None:
    with Session(engine) as session:
        row = session.get(QboConnection, 1)
        if row is not None:
            session.expunge(row)
        return row


def stored_refresh_token(svc) -> str:
    return svc.cipher.decrypt(stored(svc.engine).refresh_token)


def still_usable(svc, refresh_token: str) -> bool:
    """Whether Intuit still accepts ``refresh_token`` (using it rotates it)."""
    try:
        svc.auth.refresh(refresh_token)
    except NotConnected as exc:
        assert exc.code == "invalid_grant"
        return False
    return True


def company_info(emu, realm_id: str, access_token: str) -> requests.Response:
    return requests.get(
        f"{emu.api_base}/company/{realm_id}/companyinfo/{realm_id}",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=10,
    )


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- connect --realm-id R --refresh-token T ----------------------------------------------------------


def test_connect_with_a_refresh_token_stores_the_rotated_one(env, svc, emu, engine):
    grant = emu.issue_tokens()
    out = ok(run("connect", "--realm-id", grant["realm_id"], "--refresh-token", grant["refresh_token"]))
    assert out.strip() == f"Connected to QuickBooks company '{COMPANY_NAME}' (realm id {grant['realm_id']})."

    status = svc.connection.status()
    assert (status.state, status.realm_id) == (ConnectionState.CONNECTED, grant["realm_id"])
    assert status.connected_by.startswith("cli")
    row = stored(engine)
    assert grant["refresh_token"] not in (row.refresh_token, row.access_token)  # encrypted at rest
    rotated = stored_refresh_token(svc)
    assert rotated != grant["refresh_token"]
    assert not still_usable(svc, grant["refresh_token"])  # Intuit retired the one we were given

    qb_company(svc.api)  # the stored tokens work: qbsync pushes an invoice with them
    tms(engine, [a_load("L-1")])
    assert ok(run("sync", "L-1")).split()[:2] == ["L-1", "synced"]


def test_a_refused_refresh_token_says_get_a_new_one_and_keeps_the_old_connection(env, connected, emu):
    before = connected.connection.status()
    kept = stored_refresh_token(connected)
    spent = emu.issue_tokens()
    connected.auth.refresh(spent["refresh_token"])  # used once: Intuit has retired it

    message = refused(
        run("connect", "--realm-id", spent["realm_id"], "--refresh-token", spent["refresh_token"]), 2
    )
    assert message.startswith("qbsync: Intuit refused the refresh token (invalid_grant)")
    assert "get a new one" in message and "nothing was changed" in message
    assert spent["refresh_token"] not in message  # secrets are never printed
    assert connected.connection.status() == before
    assert stored_refresh_token(connected) == kept

    nonsense = refused(run("connect", "--realm-id", spent["realm_id"], "--refresh-token", "not-a-token"), 2)
    assert nonsense.startswith("qbsync: Intuit refused the refresh token")


@pytest.mark.parametrize(
    "args",
    [("--realm-id", "9341453050298551"), ("--refresh-token", "AB11")],
    ids=["realm-id alone", "refresh-token alone"],
)
def test_realm_id_and_refresh_token_go_together(env, svc, args):
    message = refused(run("connect", *args), 2)
    assert message == (
        "qbsync: --realm-id and --refresh-token go together (give neither to connect in the browser)"
    )
    assert svc.connection.status().state is ConnectionState.DISCONNECTED


@pytest.mark.parametrize("realm_id", ["acme", "93414-53050", "", "١٢٣"])
def test_a_realm_id_that_is_not_a_number_is_refused_without_spending_the_token(env, svc, emu, realm_id):
    grant = emu.issue_tokens()
    message = refused(run("connect", "--realm-id", realm_id, "--refresh-token", grant["refresh_token"]), 2)
    assert message == f"qbsync: realm id must be the company's number (digits only), got {realm_id!r}"
    assert svc.connection.status().state is ConnectionState.DISCONNECTED
    assert still_usable(svc, grant["refresh_token"])


def test_an_empty_refresh_token_is_refused(env, svc):
    assert refused(run("connect", "--realm-id", "123", "--refresh-token", "  "), 2) == (
        "qbsync: the refresh token is empty"
    )


def test_a_token_of_another_company_is_refused_and_nothing_is_stored(env, connected, emu):
    before = connected.connection.status()
    other = emu.issue_tokens(realm_id="4620816365256711")

    message = refused(
        run("connect", "--realm-id", emu.realm_id, "--refresh-token", other["refresh_token"]), 2
    )
    assert message.startswith(
        f"qbsync: Intuit accepted the refresh token but it does not open QuickBooks company {emu.realm_id}"
    )
    assert "check the realm id" in message and "nothing was stored" in message
    assert connected.connection.status() == before  # the working connection was not replaced

    typo = emu.issue_tokens()
    message = refused(
        run("connect", "--realm-id", "934145305029855", "--refresh-token", typo["refresh_token"]), 2
    )
    assert message == (
        f"qbsync: qbsync is connected to QuickBooks company {emu.realm_id}; company 934145305029855 was "
        "offered. Nothing was changed. To switch companies, an administrator runs "
        "`qbsync connect --switch-company`."
    ), "another company than the connected one: refused before the token is used"
    switching = run(
        "connect",
        "--switch-company",
        "--realm-id",
        "934145305029855",
        "--refresh-token",
        typo["refresh_token"],
    )
    assert switching.exit_code == 2 and "does not open QuickBooks company 934145305029855" in switching.stderr
    assert connected.connection.status() == before


NEW_COMPANY = "4620816365256711"


def test_another_company_is_refused_while_disconnected_and_the_token_is_not_spent(env, connected, emu):
    ok(run("disconnect"))
    before = connected.connection.status()
    other = emu.issue_tokens(realm_id=NEW_COMPANY)
    message = refused(run("connect", "--realm-id", NEW_COMPANY, "--refresh-token", other["refresh_token"]), 2)
    assert f"syncs to QuickBooks company {emu.realm_id} (disconnected now)" in message
    assert f"company {NEW_COMPANY} was offered" in message and "--switch-company" in message
    assert connected.connection.status() == before
    assert still_usable(connected, other["refresh_token"]), "refused before the token was used"


def test_switch_company_says_what_happens_then_forgets_the_old_company_and_syncs_into_the_new(
    env, connected, emu, engine
):
    qb_company(connected.api)
    tms(engine, [a_load("S-1"), a_load("S-2")])
    assert [r.state for r in connected.sync.sync_many(["S-1", "S-2"], trigger="test")] == ["synced"] * 2
    held = connected.connection.footprint()
    assert (held.loads, held.customers, held.items) == (2, 1, 2)
    other = emu.issue_tokens(realm_id=NEW_COMPANY)

    out = ok(
        run(
            "connect",
            "--switch-company",
            "--realm-id",
            NEW_COMPANY,
            "--refresh-token",
            other["refresh_token"],
        )
    ).splitlines()
    assert out[0].startswith(
        f"Switching from QuickBooks company {emu.realm_id}: if another company is chosen"
    )
    assert "the invoice ids of 2 loads, 1 linked customer and 2 mapped charge codes" in out[0]
    assert out[1].startswith("Connected to QuickBooks company") and NEW_COMPANY in out[1]
    assert out[2] == (
        f"Switched from QuickBooks company {emu.realm_id} to {NEW_COMPANY}: forgot the QuickBooks ids of "
        "2 loads, 1 customer and 2 charge codes; those loads are sent to the new company on the next sync."
    )
    with engine.connect() as conn:
        loads = conn.execute(sa.select(Load.qb_invoice_id, Load.state).order_by(Load.load_number)).all()
        audit = conn.execute(sa.select(FixAudit.fix, FixAudit.outcome, FixAudit.changes)).one()
    assert [tuple(row) for row in loads] == [(None, "pending")] * 2
    assert audit[:2] == ("switch_company", "applied")
    assert audit[2]["realm_id"] == {"from": emu.realm_id, "to": NEW_COMPANY} and audit[2]["loads"] == 2

    qb_company(connected.api)  # the new company has the customers and items too
    synced = json.loads(ok(run("sync", "--all", "--json")))
    results = synced["results"] if isinstance(synced, dict) else synced
    assert {r["state"] for r in results} == {"synced"}, "not read as deleted invoices"
    assert "qb_invoice_deleted" not in json.dumps(synced)
    assert connected.connection.status().realm_id == NEW_COMPANY
    assert sorted(i["DocNumber"] for i in qb_invoices(connected.api)) == ["S-1", "S-2"], "in the new company"


def test_switch_company_to_the_same_company_forgets_nothing(env, connected, emu, engine):
    qb_company(connected.api)
    tms(engine, [a_load("S-1")])
    connected.sync.sync_load("S-1", trigger="test")
    same = emu.issue_tokens()
    out = ok(
        run(
            "connect",
            "--switch-company",
            "--realm-id",
            emu.realm_id,
            "--refresh-token",
            same["refresh_token"],
        )
    )
    assert "Switched" not in out and "Choosing company" in out
    assert connected.sync.current_result("S-1").state == "synced"


def test_without_a_secret_key_nothing_is_stored_and_the_token_is_not_spent(env, svc, emu, monkeypatch):
    monkeypatch.delenv("QBSYNC_SECRET_KEY")
    settings_changed()
    grant = emu.issue_tokens()
    message = refused(
        run("connect", "--realm-id", grant["realm_id"], "--refresh-token", grant["refresh_token"]), 2
    )
    assert message.startswith("qbsync: QBSYNC_SECRET_KEY must be set to connect")
    assert message.endswith("nothing was changed")
    assert stored(svc.engine) is None
    assert still_usable(svc, grant["refresh_token"])

    browser = refused(run("connect", "--no-browser", "--port", str(free_port()), "--timeout", "1"), 2)
    assert browser == message  # refused before any URL is printed


@pytest.mark.parametrize("missing", ["QBO_CLIENT_ID", "QBO_CLIENT_SECRET"])
def test_without_the_app_credentials_the_message_names_them(env, svc, emu, monkeypatch, missing):
    monkeypatch.delenv(missing)
    settings_changed()
    grant = emu.issue_tokens()
    expected = "qbsync: QBO_CLIENT_ID and QBO_CLIENT_SECRET must be set to connect QuickBooks"
    assert (
        refused(run("connect", "--realm-id", grant["realm_id"], "--refresh-token", grant["refresh_token"]), 2)
        == expected
    )
    assert refused(run("connect", "--no-browser", "--timeout", "1"), 2) == expected
    assert stored(svc.engine) is None
    assert still_usable(svc, grant["refresh_token"])


def test_wrong_app_credentials_are_named_as_such(env, svc, monkeypatch):
    from emulator.server import EmulatorServer

    with EmulatorServer(port=0, client_id="the-real-app", client_secret="the-real-secret") as strict:
        monkeypatch.setenv("INTUIT_DISCOVERY_URL", strict.discovery_url)
        monkeypatch.setenv("QBO_API_BASE_URL", strict.api_base)
        settings_changed()
        grant = strict.issue_tokens(client_id="the-real-app")
        message = refused(
            run("connect", "--realm-id", grant["realm_id"], "--refresh-token", grant["refresh_token"]), 2
        )
    assert message.startswith(
        "qbsync: Intuit rejected the app's QBO_CLIENT_ID / QBO_CLIENT_SECRET (invalid_client)"
    )
    assert stored(svc.engine) is None


# -- connect in the browser ------------------------------------------------------------------------


def qbsync_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("QBO_", "QBSYNC_", "INTUIT_", "SLACK_"))
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def printed_url(proc: subprocess.Popen[str]) -> str:
    """The authorize URL, read from the command's output while it waits."""
    for line in proc.stdout:
        if line.strip().startswith("http"):
            return line.strip()
    raise AssertionError(f"no URL printed; stderr: {proc.stderr.read()}")


def test_connect_in_the_browser_refuses_a_forged_answer_then_completes(env, svc, emu):
    port = free_port()
    proc = qbsync_process(env, "connect", "--no-browser", "--port", str(port), "--timeout", "20")
    try:
        url = printed_url(proc)
        query = parse_qs(urlparse(url).query)
        assert url.startswith(f"{emu.url}/authorize?")
        assert query["redirect_uri"] == [f"http://localhost:{port}/callback"]
        assert query["client_id"] == [env["QBO_CLIENT_ID"]] and len(query["state"][0]) >= 24

        code_for_someone_else = {"code": "stolen", "state": "forged", "realmId": emu.realm_id}
        forged = requests.get(f"http://127.0.0.1:{port}/callback", params=code_for_someone_else, timeout=5)
        assert forged.status_code == 400
        assert "does not belong" in forged.text
        odd = requests.get(
            f"http://127.0.0.1:{port}/callback", params={"state": "état", "code": "x"}, timeout=5
        )
        assert odd.status_code == 400
        assert requests.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=5).status_code == 400
        assert proc.poll() is None  # still waiting for the real answer

        answer = requests.get(url, timeout=10)  # the emulator approves at once and redirects back
        assert answer.url.startswith(f"http://localhost:{port}/callback?")
        assert answer.status_code == 200 and "the terminal shows the result" in answer.text
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, err) == (0, "")
    assert out.strip().endswith(
        f"Connected to QuickBooks company '{COMPANY_NAME}' (realm id {emu.realm_id})."
    )
    status = svc.connection.status()
    assert (status.state, status.realm_id) == (ConnectionState.CONNECTED, emu.realm_id)
    realm, access = svc.connection.current()
    assert company_info(emu, realm, access).status_code == 200


class FakeBrowser:
    """Stands in for ``webbrowser.open``: visits the authorize URL's callback the way Intuit would
    send a person back, here with an answer of our choosing."""

    def __init__(self, visits: int = 1, **answer: str) -> None:
        self.visits = visits
        self.answer = answer
        self.responses: list[requests.Response] = []

    def __call__(self, url: str) -> bool:
        query = parse_qs(urlparse(url).query)
        callback = query["redirect_uri"][0]
        params = {"state": query["state"][0], **self.answer}
        for _ in range(self.visits):  # a second visit is a reload of the page
            self.responses.append(requests.get(callback, params=params, timeout=5))
        return True


def test_a_denied_authorization_is_reported_and_nothing_is_stored(env, svc, monkeypatch):
    browser = FakeBrowser(error="access_denied", visits=2)
    monkeypatch.setattr("cli.connecting.webbrowser.open", browser)
    message = refused(run("connect", "--port", str(free_port()), "--timeout", "5"), 1, waited=True)
    assert message == "qbsync: Intuit did not authorize the connection (access_denied); nothing was changed"
    page, reload = browser.responses
    assert page.status_code == 400 and "Not connected: access_denied" in page.text
    assert reload.status_code == 409  # the first answer counts
    assert stored(svc.engine) is None


def test_a_spent_authorization_code_is_refused(env, svc, emu, monkeypatch):
    monkeypatch.setattr(
        "cli.connecting.webbrowser.open", FakeBrowser(code="used-or-made-up", realmId=emu.realm_id)
    )
    message = refused(run("connect", "--port", str(free_port()), "--timeout", "5"), 1, waited=True)
    assert message.startswith("qbsync: Intuit refused the authorization code (invalid_grant)")
    assert stored(svc.engine) is None


def test_no_answer_from_the_browser_times_out_and_frees_the_port(env, svc):
    port = free_port()
    message = refused(run("connect", "--no-browser", "--port", str(port), "--timeout", "1"), 1, waited=True)
    assert message == "qbsync: no answer from Intuit within 1 s; run qbsync connect again"
    assert stored(svc.engine) is None
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", port))  # the callback server is gone


def test_a_busy_callback_port_is_named(env, svc):
    with closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = refused(run("connect", "--no-browser", "--port", str(port), "--timeout", "1"), 1)
    assert message.startswith(f"qbsync: cannot listen on port {port} for the callback")


@pytest.mark.parametrize(("option", "value"), [("--port", "70000"), ("--port", "0"), ("--timeout", "0")])
def test_out_of_range_port_or_timeout_is_a_usage_error(env, option, value):
    result = run("connect", "--no-browser", option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr and "Traceback" not in result.stderr


# -- disconnect --------------------------------------------------------------------------------------


def test_disconnect_revokes_the_grant_and_forgets_the_tokens(env, connected, emu, engine):
    realm, access = connected.connection.current()
    refresh = stored_refresh_token(connected)
    assert company_info(emu, realm, access).status_code == 200

    out = ok(run("disconnect"))
    assert out.strip() == (
        f"Disconnected from QuickBooks company {realm}: "
        "Intuit revoked the grant and the tokens are forgotten."
    )
    assert company_info(emu, realm, access).status_code == 401  # revoked at Intuit
    assert not still_usable(connected, refresh)
    row = stored(engine)
    assert row.state == ConnectionState.DISCONNECTED
    assert (row.access_token, row.refresh_token) == (None, None)

    assert ok(run("disconnect")).strip() == "QuickBooks was not connected."
    tms(engine, [a_load("L-1")])
    assert json.loads(ok(run("sync", "L-1", "--json")))["results"][0]["reasons"] == ["qb_not_connected"]


def test_disconnect_when_never_connected(env, svc, emu):
    before = emu.stats()["total_requests"]
    assert ok(run("disconnect")).strip() == "QuickBooks was not connected."
    assert stored(svc.engine) is None
    assert emu.stats()["total_requests"] == before


def test_disconnect_forgets_the_tokens_even_when_intuit_cannot_be_reached(env, connected, emu, monkeypatch):
    realm, access = connected.connection.current()
    monkeypatch.setenv(
        "INTUIT_DISCOVERY_URL", f"http://127.0.0.1:{free_port()}/.well-known/openid_configuration"
    )
    settings_changed()
    out = ok(run("disconnect"))
    assert out.strip() == (
        f"Disconnected from QuickBooks company {realm}: the tokens are forgotten, but Intuit did not "
        "confirm revoking the grant (already revoked, or Intuit could not be reached)."
    )
    assert connected.connection.status().state is ConnectionState.DISCONNECTED
    assert company_info(emu, realm, access).status_code == 200  # as said: the grant itself still lives


def test_disconnect_of_a_broken_connection(env, connected, emu):
    realm, access = connected.connection.current()
    connected.auth.revoke(access)  # revoked elsewhere (e.g. in QuickBooks' app settings)
    connected.connection.broken("Intuit refused the token (invalid_grant)")
    ok(run("disconnect"))
    assert connected.connection.status().state is ConnectionState.DISCONNECTED
    assert ok(run("disconnect")).strip() == "QuickBooks was not connected."


def test_disconnect_without_the_secret_key_says_so_and_forgets_nothing(env, connected, monkeypatch):
    monkeypatch.delenv("QBSYNC_SECRET_KEY")
    settings_changed()
    message = refused(run("disconnect"), 2)
    assert message == "qbsync: QBSYNC_SECRET_KEY must be set to read the stored QuickBooks tokens"
    assert connected.connection.status().connected
