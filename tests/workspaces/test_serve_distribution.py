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
