"""``qbsync serve`` in distribution mode as an operator runs it: environment variables, a real gunicorn
process, "Add to Slack" through the Slack stand-in, and the refusals of a missing setting."""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from emulator.slack import SlackStandIn
from tests.waiting import wait_for

QBSYNC = str(Path(sys.executable).with_name("qbsync"))
SECRET = "qbsync-test-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def standin():
    with SlackStandIn(port=0) as slack:
        yield slack


@pytest.fixture
def distribution_env(env, standin):
    return {
        **os.environ,
        **env,
        "SLACK_CLIENT_ID": standin.client_id,
        "SLACK_CLIENT_SECRET": standin.client_secret,
        "SLACK_AUTHORIZE_URL": standin.authorize_url,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.api_url,
        "QBSYNC_SCHEDULER": "off",
    }


def test_serve_installs_workspaces_from_its_environment(distribution_env, standin, svc):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    standin.add_team("T0SRV0001", name="Served Drayage", installed=False)
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env={**distribution_env, "QBSYNC_PUBLIC_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def healthy():
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, 30, "qbsync serve")
        browser = requests.Session()
        page = browser.get(f"{url}/slack/install", timeout=10)
        href = html.unescape(re.search(r'<a href="([^"]+)"', page.text).group(1))
        assert href.startswith(standin.authorize_url), "SLACK_AUTHORIZE_URL is where Add to Slack goes"
        assert href.endswith(f"redirect_uri={url}/slack/oauth_redirect"), "Slack answers at QBSYNC_PUBLIC_URL"
        at_slack = browser.get(
            f"{href}&{urlencode({'team': 'T0SRV0001', 'user': 'U0OWNER01'})}", allow_redirects=False
        )
        name, _, value = page.headers["Set-Cookie"].split(";", 1)[0].partition("=")
        done = browser.get(at_slack.headers["Location"], cookies={name: value}, timeout=10)
        assert done.status_code == 200 and "qbsync is installed" in done.text
        workspace = svc.registry.get("T0SRV0001")
        assert workspace is not None and workspace.installed and workspace.settings["admins"] == ["U0OWNER01"]

        assert requests.post(f"{url}/tms/events", data=b"{}", timeout=10).status_code == 404
        assert requests.post(f"{url}/tms/events/{'k' * 24}", data=b"{}", timeout=10).status_code == 401
        replay = browser.get(at_slack.headers["Location"], cookies={name: value}, timeout=10)
        assert replay.status_code >= 400 and "qbsync was not installed" in replay.text, (
            "a state is single-use"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output


def test_serve_for_many_workspaces_says_what_is_missing(distribution_env):
    env = {k: v for k, v in distribution_env.items() if k != "QBSYNC_SECRET_KEY"}
    answer = subprocess.run([QBSYNC, "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert answer.returncode == 2
    assert answer.stderr.strip().count("\n") == 0 and "QBSYNC_SECRET_KEY" in answer.stderr


def test_clock_syncs_each_workspace_from_its_environment(distribution_env, svc, emu):
    """``qbsync clock`` in distribution mode, as the Procfile runs it: each installed workspace's loads
    are pushed to its own company; SIGTERM stops it with exit 0."""
    from services.quickbooks import TokenSet
    from services.tms.importer import import_data
    from tests.builders import CHARGE_CODES, CUSTOMERS, qb_company
    from tests.builders import load as a_load

    scoped = {}
    for n, team in enumerate(("T0CLK0001", "T0CLK0002")):
        workspace = svc.registry.installed(team)
        services = svc.for_workspace(workspace)
        grant = emu.issue_tokens(realm_id=str(9130000000000100 + n))
        tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, grant["realm_id"])
        services.connection.store(tokens, grant["realm_id"], "test")
        qb_company(services.api)
        data = {
            "customers": CUSTOMERS,
            "charge_codes": CHARGE_CODES,
            "loads": [a_load(f"K-{i}") for i in range(3)],
        }
        import_data(services.engine, data)
        scoped[team] = services
    clock = subprocess.Popen(
        [QBSYNC, "clock"], env=distribution_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for team, services in scoped.items():
            wait_for(
                lambda services=services: all(
                    services.sync.current_result(f"K-{i}").state == "synced" for i in range(3)
                ),
                60,
                f"{team}'s loads synced by the clock",
            )
    finally:
        clock.send_signal(signal.SIGTERM)
        output, _ = clock.communicate(timeout=60)
    assert clock.returncode == 0, output
    assert "Traceback" not in output
