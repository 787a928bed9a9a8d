"""The two home lookups every Slack request makes (its installation, its workspace) answered from what
was read a moment ago: a change made in this process is seen at once, one made by another process within
``FRESH_FOR`` seconds, and nothing that was not found is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from services.store.tenants import SlackInstallationRecord, WorkspaceRecord
from services.workspaces import recent
from services.workspaces.installations import InstallationRows

T1 = "T0AAA0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    tick = Clock()
    monkeypatch.setattr(recent, "_now", tick)
    return tick


@pytest.fixture
def root(svc, clock):
    svc.settings = svc.settings.model_copy(
        update={"slack_client_id": "1111.2222", "slack_client_secret": SecretStr("client-secret")}
    )
    svc.registry.installed(T1, name="Acme Drayage", installer="U0ADMIN01")
    return svc


def another_process_writes(engine, statement) -> None:
    """A write as another process makes it: straight to the database, nothing forgotten here."""
    with engine.begin() as conn:
        conn.execute(statement)


def test_a_workspace_changed_elsewhere_is_seen_within_the_freshness(root, clock):
    table = WorkspaceRecord.__table__
    assert root.registry.get(T1, recent=True).settings["admins"] == ["U0ADMIN01"]
    another_process_writes(root.engine, sa.update(table).values(admins=["U0OTHER01"]))

    assert root.registry.get(T1, recent=True).settings["admins"] == ["U0ADMIN01"]  # a moment ago
    assert root.registry.get(T1).settings["admins"] == ["U0OTHER01"]  # asked fresh
    clock.now += recent.FRESH_FOR + 0.1
    assert root.registry.get(T1, recent=True).settings["admins"] == ["U0OTHER01"]


def test_a_change_made_here_is_seen_at_once(root):
    assert root.registry.get(T1, recent=True).settings.get("digest_channel") is None
    root.registry.update_settings(T1, digest_channel="C0DIGEST1")
    assert root.registry.get(T1, recent=True).settings.get("digest_channel") == "C0DIGEST1"

    root.registry.uninstalled(T1, "app_uninstalled")
    assert root.registry.get(T1, recent=True).installed is False


def test_a_workspace_not_found_is_not_kept(root):
    assert root.registry.get("T0NEW0003", recent=True) is None
    another_process_writes(
        root.engine,
        sa.insert(WorkspaceRecord.__table__).values(
            team_id="T0NEW0003", storage="ws_t0new0003", installed=True
        ),
    )
    assert root.registry.get("T0NEW0003", recent=True).team_id == "T0NEW0003"


def test_an_installation_removed_here_is_gone_at_once_and_a_new_token_seen(root, clock):
    rows = InstallationRows(root.engine, root.cipher)
    rows.save({"team_id": T1, "bot_token": "xoxb-first", "bot_user_id": "U0BOT", "user_id": "U0ADMIN01"})
    assert rows.find(None, T1, recent=True)["bot_token"] == "xoxb-first"

    rows.delete(None, T1)
    assert rows.find(None, T1, recent=True) is None

    rows.save({"team_id": T1, "bot_token": "xoxb-second", "bot_user_id": "U0BOT", "user_id": "U0ADMIN01"})
    assert rows.find(None, T1, recent=True)["bot_token"] == "xoxb-second"
    table = SlackInstallationRecord.__table__
    another_process_writes(root.engine, sa.update(table).values(bot_token=root.cipher.encrypt("xoxb-third")))
    assert rows.find(None, T1, recent=True)["bot_token"] == "xoxb-second"
    clock.now += recent.FRESH_FOR + 0.1
    assert rows.find(None, T1, recent=True)["bot_token"] == "xoxb-third"


def test_what_was_read_while_something_changed_here_is_not_kept(root):
    """A lookup that read the old row while this process wrote the new one keeps nothing."""

    def read_then_changed_meanwhile():
        old = root.registry.get(T1)
        root.registry.update_settings(T1, digest_channel="C0DIGEST1")
        return old

    old = recent.recall(root.engine, ("workspace", T1), read_then_changed_meanwhile)
    assert old.settings.get("digest_channel") is None
    assert root.registry.get(T1, recent=True).settings.get("digest_channel") == "C0DIGEST1"
