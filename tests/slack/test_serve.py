"""``qbsync serve`` as a person runs it: a real gunicorn process answering Slack's signed requests and
the health check; start-up refusing what is missing in one line; the manifest importable as is."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import yaml

from emulator.slack import post_to_app, slash_command_body
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CLERK, SECRET, text_of, wait_for

ROOT = Path(__file__).resolve().parents[2]
QBSYNC = str(Path(sys.executable).with_name("qbsync"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve_env(env, slack):
    return {
        **os.environ,
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "QBSYNC_FIXERS": CLERK,
        "QBSYNC_SCHEDULER": "off",
    }


def test_serve_answers_slack_and_the_health_check(serve_env, slack, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("G-1")])
    port = free_port()
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env=serve_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:  # not up yet: refused, or too slow to answer
                return False

        wait_for(healthy, timeout=20, what="qbsync serve to start")
        response_url = slack.new_response_url("C0BILLING1", CLERK)
        body = slash_command_body(
            "/qbsync", "G-1", user_id=CLERK, channel_id="C0BILLING1", response_url=response_url
        )
        status, _headers, _answer = post_to_app(f"{url}/slack/events", body, SECRET)
        assert status == 200
        # on a busy machine "⏳ Checking G-1…" comes first and the diagnosis replaces it
        diagnosed = wait_for(
            lambda: [
                m
                for m in slack.messages("C0BILLING1")
                if "G-1" in text_of(m) and "Checking" not in text_of(m)
            ]
        )
        assert "not synced yet" in text_of(diagnosed[-1])
        forged = requests.post(f"{url}/slack/events", data=body, timeout=5)
        assert forged.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert "Traceback" not in output


def test_serve_starts_its_scheduler_again_when_it_dies(serve_env, slack):
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(free_port()), "--host", "127.0.0.1"],
        env={**serve_env, "QBSYNC_SCHEDULER": "on", "QBSYNC_LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()

    def clocks() -> list[int]:
        started = re.compile(r"scheduler started \(process (\d+)\)")
        return [int(m) for line in list(lines) for m in started.findall(line)]

    try:
        [first] = wait_for(clocks, timeout=30, what="the scheduler to start")
        wait_for(lambda: any("clock running" in line for line in list(lines)), timeout=30, what="the clock")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: clocks()[1:], timeout=30, what="the scheduler to start again")[0]
        assert second != first
        os.kill(second, 0)  # running
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        reader.join(5)
    output = "".join(lines)
    assert server.returncode == 0, output
    assert f"the scheduler (process {first}) ended; starting it again" in output
    assert "Traceback" not in output
    assert len(clocks()) == 2, output  # stopping the server is not a death to restart from

    def gone() -> bool:
        try:
            os.kill(second, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, timeout=10, what="the second scheduler to stop with the server")


def test_serve_says_what_is_missing(env):
    answer = subprocess.run(
        [QBSYNC, "serve"], env={**os.environ, **env}, capture_output=True, text=True, timeout=30
    )
    assert answer.returncode == 2
    assert answer.stderr.strip().count("\n") == 0 and "SLACK_BOT_TOKEN" in answer.stderr


def test_serve_refuses_a_token_slack_refuses(serve_env):
    answer = subprocess.run(
        [QBSYNC, "serve", "--port", str(free_port())],
        env={**serve_env, "SLACK_BOT_TOKEN": "xoxb-wrong"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 2 and "invalid_auth" in answer.stderr


def test_manifest_imports_as_is():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert manifest["_metadata"]["major_version"] == 1
    info = manifest["display_information"]
    assert len(info["name"]) <= 35 and len(info["description"]) <= 140
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/qbsync" and command["url"].endswith("/slack/events")
    settings = manifest["settings"]
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert {"commands", "chat:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_procfile_runs_serve_and_clock():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert lines["web"] == "qbsync serve" and lines["clock"] == "qbsync clock"


def test_the_app_starts_without_a_warning_about_its_own_token(serve_env, slack, engine, caplog, monkeypatch):
    from services.settings import load_settings
    from wiring.services import bootstrap
    from wiring.slack import create_app

    for name, value in serve_env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    with caplog.at_level("WARNING"):
        create_app(settings, bootstrap(settings, engine=engine))
    assert not [r for r in caplog.records if "token" in r.getMessage()], caplog.text


def test_serve_verifies_quickbooks_webhooks_with_the_token_from_the_environment(serve_env, connected, engine):
    import base64
    import hashlib
    import hmac
    import json

    port = free_port()
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env={**serve_env, "QBO_WEBHOOK_VERIFIER_TOKEN": "verifier-from-env"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, timeout=20, what="qbsync serve to start")
        realm = connected.connection.status().realm_id
        raw = json.dumps(
            [
                {
                    "specversion": "1.0",
                    "id": "env-1",
                    "type": "qbo.invoice.deleted.v1",
                    "intuitentityid": "1",
                    "intuitaccountid": realm,
                    "time": "2026-12-03T10:00:00Z",
                }
            ]
        ).encode()
        signed = base64.b64encode(hmac.new(b"verifier-from-env", raw, hashlib.sha256).digest()).decode()
        answer = requests.post(
            f"{url}/qbo/webhooks", data=raw, headers={"intuit-signature": signed}, timeout=5
        )
        assert answer.status_code == 200 and answer.json()["received"] == 1, answer.text
        other = base64.b64encode(hmac.new(b"another", raw, hashlib.sha256).digest()).decode()
        assert (
            requests.post(f"{url}/qbo/webhooks", data=raw, headers={"intuit-signature": other}).status_code
            == 401
        )
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert "Traceback" not in output
