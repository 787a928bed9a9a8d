"""The settings object: read from the contract's variables, validated at start, secrets never shown."""

from __future__ import annotations

import pytest

from services.settings import SettingsError, load_settings

SECRETS = {
    "QBO_CLIENT_SECRET": "client-secret-value",
    "QBSYNC_SECRET_KEY": "secret-key-value",
    "SLACK_BOT_TOKEN": "xoxb-token-value",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "QBSYNC_TMS_WEBHOOK_SECRET": "webhook-secret-value",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(("QBO_", "SLACK_", "QBSYNC_", "INTUIT_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def test_secrets_never_appear_in_the_printed_settings():
    settings = load_settings(**SECRETS)
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for value in SECRETS.values():
        assert value not in shown
    assert settings.secret_key.get_secret_value() == "secret-key-value"


def test_defaults_follow_the_contract():
    settings = load_settings()
    assert settings.database_url == "sqlite:///qbsync.db"
    assert (settings.digest_time, settings.timezone, settings.qbo_environment) == ("08:00", "UTC", "sandbox")
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.qbo_api_base == "https://sandbox-quickbooks.api.intuit.com/v3"
    assert settings.is_fixer("U1") and not settings.is_admin("U1")


def test_lists_urls_and_overrides():
    settings = load_settings(
        QBSYNC_FIXERS="U1, U2,",
        QBSYNC_ADMINS="U2",
        DATABASE_URL="postgres://u:p@db/qbsync",
        QBO_API_BASE_URL="http://127.0.0.1:8089/v3/",
        QBSYNC_DIGEST_TIME="7:05",
    )
    assert settings.fixers == ("U1", "U2") and settings.is_admin("U2") and not settings.is_fixer("U3")
    assert settings.database_url == "postgresql+psycopg://u:p@db/qbsync"
    assert settings.qbo_api_base == "http://127.0.0.1:8089/v3"
    assert settings.digest_time == "07:05"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_URL", "sqlite:///"),
        ("DATABASE_URL", "sqlite:///:memory:"),
        ("QBSYNC_DIGEST_TIME", "25:00"),
        ("QBSYNC_TIMEZONE", "Mars/Olympus"),
        ("QBO_ENVIRONMENT", "staging"),
        ("SLACK_API_URL", "slack.com/api"),
    ],
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(SettingsError) as caught:
        load_settings(**{name: value})
    message = str(caught.value)
    assert name in message
    assert "Value error" not in message and message.count(name) == 1, message


def test_a_bad_value_reads_as_one_plain_sentence():
    with pytest.raises(SettingsError) as caught:
        load_settings(QBSYNC_DIGEST_TIME="25:00", SLACK_API_URL="slack.com/api")
    assert str(caught.value) == (
        "invalid configuration: SLACK_API_URL: must be an http:// or https:// URL; "
        "QBSYNC_DIGEST_TIME must be HH:MM (24-hour clock)"
    )


@pytest.mark.parametrize("name", ["QBO_API_BASE_URL", "INTUIT_DISCOVERY_URL"])
def test_plain_http_to_quickbooks_is_refused_at_start_unless_loopback(name):
    with pytest.raises(SettingsError) as refused:
        load_settings(**{name: "http://quickbooks.example.com/v3"})
    assert name in str(refused.value) and "plain http" in str(refused.value)
    assert load_settings(**{name: "http://127.0.0.1:8089/v3"})


# -- list settings as a deployment sets them: comma-separated, in the environment of a real process -----


def test_list_settings_are_read_from_the_environment_comma_separated(monkeypatch):
    monkeypatch.setenv("QBSYNC_ADMINS", "U0123ABCD")
    monkeypatch.setenv("QBSYNC_FIXERS", " U0123ABCD, W0456EFGH ,")
    settings = load_settings()
    assert settings.admins == ("U0123ABCD",)
    assert settings.fixers == ("U0123ABCD", "W0456EFGH")
    monkeypatch.setenv("QBSYNC_ADMINS", "")
    assert load_settings().admins == ()


def _qbsync(tmp_path, **environment: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QBO_", "SLACK_", "QBSYNC_", "INTUIT_")) and key != "DATABASE_URL"
    }
    args = environment.pop("_args", "problems --json").split()
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'qbsync.db'}", **environment)
    script = Path(sys.executable).with_name("qbsync")
    return subprocess.run(
        [str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_deployment_names_its_administrators_in_the_documented_form(tmp_path):
    assert _qbsync(tmp_path, _args="db upgrade").returncode == 0
    ran = _qbsync(tmp_path, QBSYNC_ADMINS="U0123ABCD", QBSYNC_FIXERS="U0123ABCD,U0456EFGH")
    assert ran.returncode == 0, ran.stderr
    assert '"problems"' in ran.stdout


@pytest.mark.parametrize("name", ["QBSYNC_ADMINS", "QBSYNC_FIXERS"])
@pytest.mark.parametrize("value", ["alice", '["U0123ABCD"]', "U0123ABCD;U0456EFGH"])
def test_a_list_setting_that_is_not_slack_ids_exits_2_naming_its_variable(tmp_path, name, value):
    ran = _qbsync(tmp_path, **{name: value})
    assert ran.returncode == 2, ran.stderr
    assert name in ran.stderr and "Traceback" not in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr


def test_how_often_quickbooks_changes_are_read_comes_from_the_environment(monkeypatch):
    assert load_settings().changes_interval == 60, "webhooks off: every minute"
    monkeypatch.setenv("QBO_WEBHOOK_VERIFIER_TOKEN", "verifier")
    assert load_settings().changes_interval == 900, "webhooks on: a 15-minute safety net"
    monkeypatch.setenv("QBSYNC_CHANGES_EVERY", "90s")
    assert load_settings().changes_interval == 90


@pytest.mark.parametrize("value", ["5", "2d", "soon"])
def test_a_bad_changes_interval_exits_2_naming_its_variable(tmp_path, value):
    ran = _qbsync(tmp_path, QBSYNC_CHANGES_EVERY=value)
    assert ran.returncode == 2, ran.stderr
    assert "QBSYNC_CHANGES_EVERY" in ran.stderr and "Traceback" not in ran.stderr
