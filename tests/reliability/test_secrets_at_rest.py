"""``qbsync serve`` at ``QBSYNC_LOG_LEVEL=DEBUG``, as a company uses it: connected from the browser
route, Slack commands, a TMS event, a refresh. Afterwards every token and code the emulator issued is
searched for in the database (its rows, and the SQLite file's bytes with its journal), in every log
line serve wrote and in everything it sent to Slack: none is found."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import sqlalchemy as sa
from sqlmodel import SQLModel

from emulator.slack import post_to_app, slash_command_body
from services.tms import events as tms_events
from tests.builders import load as a_load
from tests.builders import tms
from tests.slack.conftest import CHANNEL, CLERK, SECRET, text_of, wait_for
from tests.slack.test_connect_web import authorize, in_browser, seed_company, start
from tests.slack.test_serve import QBSYNC, free_port

pytestmark = pytest.mark.reliability

TMS_SECRET = "tms-webhook-secret-for-serve"


def database_text(engine, url: str) -> bytes:
    """Every row of every table, and for SQLite the raw bytes of the file and its journals."""
    rows = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    found = "\n".join(rows).encode()
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-journal"):
            candidate = path.with_name(path.name + suffix)
            if candidate.exists():
                found += candidate.read_bytes()
    return found


def slack_text(slack) -> str:
    return "\n".join(json.dumps([c.method, c.args, c.response], default=str) for c in slack.calls())


def test_serve_leaves_no_token_in_the_database_the_logs_or_slack(env, slack, emu, engine, svc):
    seed_company(emu)
    tms(engine, [a_load("K-1"), a_load("K-2")])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [QBSYNC, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env={
            **os.environ,
            **env,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "QBO_REDIRECT_URI": f"{url}/qbo/callback",
            "QBSYNC_TMS_WEBHOOK_SECRET": TMS_SECRET,
            "QBSYNC_LOG_LEVEL": "DEBUG",
            "QBSYNC_SCHEDULER": "off",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def command(text: str) -> None:
        body = slash_command_body(
            "/qbsync",
            text,
            user_id=CLERK,
            channel_id=CHANNEL,
            response_url=slack.new_response_url(CHANNEL, CLERK),
        )
        assert post_to_app(f"{url}/slack/events", body, SECRET)[0] == 200

    def said(words: str) -> None:
        wait_for(lambda: any(words in text_of(m) for m in slack.messages(CHANNEL)), what=words)

    try:

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:  # not up yet: refused, or too slow to answer
                return False

        wait_for(healthy, timeout=20, what="qbsync serve to start")
        web = SimpleNamespace(url=url, services=svc)  # connected as `qbsync connect` does it: a CLI ticket
        assert in_browser(authorize(start(web, actor="cli"))).status_code == 200
        command("retry K-1")
        said("*K-1* synced")
        emu.expire_tokens()  # the next command refreshes inside serve
        command("retry K-2")
        said("*K-2* synced")
        command("K-1")
        command("status")
        raw = json.dumps({"loads": [a_load("K-3")]}).encode()
        answer = requests.post(
            f"{url}/tms/events",
            data=raw,
            headers=tms_events.signed_headers(TMS_SECRET, raw),
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        wait_for(lambda: svc.sync.current_result("K-3").state == "synced", what="K-3 synced by the event")
    finally:
        server.send_signal(signal.SIGTERM)
        logs, _ = server.communicate(timeout=20)
    assert server.returncode == 0, logs[-3000:]
    assert "QuickBooks tokens refreshed" in logs and " DEBUG " in logs, logs[-3000:]  # the lines exist

    tokens = emu.emulator.tokens
    issued = {*tokens.access, *tokens.refresh_tokens, *tokens.codes}
    assert len(issued) >= 5  # the code, two access and two refresh tokens at least
    secrets = issued | {env["QBO_CLIENT_SECRET"], env["QBSYNC_SECRET_KEY"], SECRET, TMS_SECRET}
    places = {
        "database": database_text(engine, env["DATABASE_URL"]),
        "logs": logs.encode(),
        "slack": slack_text(slack).encode(),
    }
    leaks = [(where, s[:8]) for s in secrets for where, text in places.items() if s.encode() in text]
    assert leaks == [], leaks
    assert slack.bot_token.encode() not in places["logs"]
    print(
        f"FIGURE secrets-at-rest: {len(secrets)} secrets (tokens, codes, keys) searched in the database, "
        f"{logs.count(chr(10))} log lines and {len(slack.calls())} Slack calls of serve at DEBUG: 0 found"
    )
