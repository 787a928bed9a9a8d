"""No secret reaches a log at any level: access and refresh tokens, authorization headers, the app's
client secret and the encryption key, whatever QBSYNC_LOG_LEVEL says."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

import pytest

from services.logsafe import RedactSecrets, redact
from tests.builders import load as a_load
from tests.builders import qb_company, tms

pytestmark = pytest.mark.reliability


def qbsync(level: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env={**os.environ, "QBSYNC_LOG_LEVEL": level},
        capture_output=True,
        text=True,
        timeout=60,
    )


def issued_secrets(emu) -> set[str]:
    """Every token the emulator has handed out, and every code."""
    tokens = emu.emulator.tokens
    return {*tokens.access, *tokens.refresh_tokens, *tokens.codes}


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING"])
def test_no_token_or_secret_in_the_logs_of_any_command(level, env, connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1"), a_load("L-2")])
    grant = emu.issue_tokens()  # handed to connect, as if from Intuit's OAuth Playground
    runs = []
    emu.expire_tokens()  # every command below starts with a refresh
    runs.append(qbsync(level, "sync", "L-1"))
    emu.expire_tokens()
    runs.append(qbsync(level, "retry", "L-2"))
    emu.expire_tokens()
    runs.append(qbsync(level, "diagnose", "L-1"))
    emu.expire_tokens()
    runs.append(qbsync(level, "reconcile"))
    runs.append(
        qbsync(level, "connect", "--realm-id", grant["realm_id"], "--refresh-token", grant["refresh_token"])
    )
    for run in runs:
        assert run.returncode == 0, (run.args, run.stderr[-2000:])
    logged = "\n".join(run.stderr for run in runs)
    if level != "WARNING":  # the refreshes happened and were logged: the check below means something
        assert logged.count("QuickBooks tokens refreshed") >= 4, logged
    secrets = issued_secrets(emu) | {env["QBO_CLIENT_SECRET"], env["QBSYNC_SECRET_KEY"]}
    assert len(secrets) > 10
    leaked = sorted(s for s in secrets if s in logged)
    assert leaked == [], leaked
    assert "Bearer ey" not in logged


def test_redaction_covers_headers_bodies_urls_and_reprs_but_keeps_fault_codes():
    samples = {
        "headers {'Accept': 'application/json', 'Authorization': 'Bearer eyJ.abc-DEF_1'} and data": (
            "headers {'Accept': 'application/json', 'Authorization': '[redacted]'} and data"
        ),
        "Authorization: Basic cWJzeW5jOnNlY3JldA==": "Authorization: [redacted]",
        "sent Bearer eyJ.abc-DEF_1 along": "sent Bearer [redacted] along",
        "Adding token {'access_token': 'eyJ.x', 'refresh_token': None} to request.": (
            "Adding token {'access_token': '[redacted]', 'refresh_token': None} to request."
        ),
        'body {"access_token": "eyJ.x", "refresh_token": "AB11f00", "expires_in": 3600}': (
            'body {"access_token": "[redacted]", "refresh_token": "[redacted]", "expires_in": 3600}'
        ),
        "grant_type=refresh_token&refresh_token=AB11f00&client_secret=s3cret": (
            "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]"
        ),
        "GET /callback?code=AB11xyz&state=s&realmId=123": "GET /callback?code=[redacted]&state=s&realmId=123",
        "{'grant_type': 'authorization_code', 'code': 'AB11xyz'}": (
            "{'grant_type': 'authorization_code', 'code': '[redacted]'}"
        ),
        '{"Fault": {"Error": [{"code": "6140", "Message": "Duplicate"}]}}': (
            '{"Fault": {"Error": [{"code": "6140", "Message": "Duplicate"}]}}'
        ),
        "QuickBooks auth code 3200: AuthenticationFailed": "QuickBooks auth code 3200: AuthenticationFailed",
        "x_refresh_token_expires_in=8726400": "x_refresh_token_expires_in=8726400",
        "token xoxb-1234-5678-AbCd and xapp-1-A02-99-ff": "token xoxb-[redacted] and xapp-[redacted]",
    }
    for text, expected in samples.items():
        assert redact(text) == expected


def test_the_filter_redacts_arguments_and_tracebacks_of_any_logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("refresh answered %s", {"access_token": "eyJ.secret1", "refresh_token": "AB11secret2"})
        try:
            raise RuntimeError("refused Bearer eyJ.secret3")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "secret1" not in text and "secret2" not in text and "secret3" not in text, text
    assert "'access_token': '[redacted]'" in text and "RuntimeError: refused Bearer [redacted]" in text
