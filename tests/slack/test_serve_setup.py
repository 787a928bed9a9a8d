"""``qbsync serve`` says at start what the installation lacks — the scopes its token does not hold and a
digest channel it cannot reach, one line each — and starts anyway; the scopes it expects are
manifest.yml's."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import requests
import yaml

from bot.scopes import BOT_SCOPES, granted_scopes, missing_scopes
from services.digest import posts as digest_posts
from tests.slack.conftest import SECRET, wait_for
from tests.slack.test_serve import QBSYNC, free_port

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = "G0SERVEPR1"


def test_the_scopes_qbsync_checks_are_the_manifests():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert list(BOT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    assert granted_scopes({"x-oauth-scopes": "commands, chat:write"}) == {"commands", "chat:write"}
    assert granted_scopes({}) is None
    assert missing_scopes(BOT_SCOPES) == []


def test_serve_reports_a_missing_scope_and_an_unreachable_digest_channel_and_still_starts(env, slack, engine):
    slack.set_scopes(slack.scopes - {"files:write"})
    slack.add_channel(PRIVATE, name="finance", private=True, members=["U0CLERK01"])
    port = free_port()
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env={
            **os.environ,
            **env,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "QBSYNC_DIGEST_CHANNEL": PRIVATE,
            "QBSYNC_SCHEDULER": "off",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except requests.RequestException:  # not up yet: refused, or too slow to answer
                return False

        wait_for(healthy, timeout=30, what="qbsync serve to start")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        reader.join(5)
        slack.set_scopes(None)
        slack.remove_channel(PRIVATE)
    output = "".join(lines)
    assert server.returncode == 0, output
    [scopes] = [line for line in lines if "lacks the scope" in line]
    assert "SLACK_BOT_TOKEN lacks the scope files:write" in scopes and "reinstall" in scopes
    [channel] = [line for line in lines if "invite @qbsync" in line]
    assert f"invite @qbsync to channel {PRIVATE}" in channel and "channel_not_found" in channel
    assert "Traceback" not in output
    state = digest_posts.channel_state(engine, PRIVATE)
    assert state is not None and state.problem == "channel_not_found"


def test_the_install_steps_come_in_an_order_a_person_can_follow():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Install in your workspace") :]
    section = section[: section.index("\n## ")]
    steps = [
        "From an app manifest",
        "Install to Workspace",
        "Bot User OAuth Token",
        "Start `qbsync serve`",
        "press **Retry**",
        "/invite @qbsync",
        "/qbsync help",
    ]
    where = [section.index(step) for step in steps]
    assert where == sorted(where), dict(zip(steps, where, strict=True))
