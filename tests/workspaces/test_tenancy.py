"""Many workspaces in one deployment: each workspace's data in its own storage (a PostgreSQL schema or a
SQLite file), reached only through its engine; the registry of workspaces; the command line choosing a
workspace; erasing one; and a single-workspace database upgraded in place with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from services.store.models import Customer, FixAudit, Load, SyncAttempt
from services.store.storage import current_revision, make_engine, upgrade
from services.tms.importer import import_data
from services.workspaces.registry import RealmTaken
from tests.builders import CHARGE_CODES, CUSTOMERS
from tests.builders import load as a_load

T1, T2 = "T0AAA0001", "T0BBB0002"


def data(*numbers: str, name: str = "Acme Foods") -> dict:
    customers = [dict(CUSTOMERS[0], name=name), CUSTOMERS[1]]
    return {"customers": customers, "charge_codes": CHARGE_CODES, "loads": [a_load(n) for n in numbers]}


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table.__table__)).scalar_one()


@pytest.fixture
def root(svc):
    """The deployment's services in distribution mode, two workspaces installed."""
    svc.settings = svc.settings.model_copy(
        update={"slack_client_id": "1111.2222", "slack_client_secret": SecretStr("client-secret")}
    )
    svc.registry.installed(T1, name="Acme Drayage", installer="U0ADMIN01")
    svc.registry.installed(T2, name="Harbor Trucking", installer="U0ADMIN02")
    return svc


def test_the_same_load_number_in_two_workspaces_is_two_loads(root):
    one = root.for_workspace(root.registry.get(T1))
    two = root.for_workspace(root.registry.get(T2))
    import_data(one.engine, data("L-1", "L-2", name="Acme of one"))
    import_data(two.engine, data("L-1", name="Acme of two"))

    assert count(one.engine, Load) == 2 and count(two.engine, Load) == 1
    assert count(root.engine, Load) == 0, "nothing lands in the home tables"
    with one.engine.connect() as conn:
        assert conn.execute(
            sa.select(Customer.__table__.c.name).where(Customer.__table__.c.id == "C-100")
        ).scalar() == ("Acme of one")
    with two.engine.connect() as conn:
        assert conn.execute(
            sa.select(Customer.__table__.c.name).where(Customer.__table__.c.id == "C-100")
        ).scalar() == ("Acme of two")
    # the services of a workspace read its data only: the diagnosis of L-2 exists in one, not in two
    assert one.sync.current_result("L-2").state != "not_found"
    assert two.sync.current_result("L-2").state == "not_found"
    # its settings are its own: the installer is its only administrator
    assert one.settings.admins == ("U0ADMIN01",) and two.settings.admins == ("U0ADMIN02",)
    assert one.settings.digest_channel is None, "the deployment's channel belongs to no workspace"


def test_a_quickbooks_company_belongs_to_one_workspace(root, emu):
    from services.quickbooks import TokenSet

    one = root.for_workspace(root.registry.get(T1))
    grant = emu.issue_tokens()
    realm = grant["realm_id"]
    one.connection.store(
        TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, realm), realm, "test"
    )
    root.registry.claim_realm(T1, realm)
    root.registry.claim_realm(T1, realm)  # the same workspace again: fine
    with pytest.raises(RealmTaken, match="another Slack workspace"):
        root.registry.claim_realm(T2, realm)
    assert root.registry.by_realm(realm).team_id == T1

    one.connection.disconnect()  # disconnected there: the company may go to another workspace
    root.registry.claim_realm(T2, realm)
    assert root.registry.by_realm(realm).team_id == T2 and root.registry.get(T1).realm_id is None


def test_uninstall_keeps_the_data_and_a_reinstall_finds_it(root):
    one = root.for_workspace(root.registry.get(T1))
    import_data(one.engine, data("L-7"))
    assert root.registry.uninstalled(T1, "app_uninstalled") is True
    assert root.registry.uninstalled(T1, "tokens_revoked") is False, "either event is enough, once"
    assert root.registry.get(T1).installed is False
    again = root.registry.installed(T1, installer="U0OTHER01")
    assert again.installed and again.storage == one.workspace.storage
    assert count(root.for_workspace(again).engine, Load) == 1
    assert root.for_workspace(again).settings.admins == ("U0ADMIN01",), "the administrators stay"


def test_erasing_a_workspace_leaves_the_others(root):
    from services.workspaces.overview import erase

    one = root.for_workspace(root.registry.get(T1))
    two = root.for_workspace(root.registry.get(T2))
    import_data(one.engine, data("L-1"))
    import_data(two.engine, data("L-1", "L-2"))
    storage = one.workspace.storage
    erase(root, root.registry.get(T1))
    assert root.registry.get(T1) is None
    assert not root.tenancy.exists(storage)
    assert count(two.engine, Load) == 2


def test_storage_names_cannot_be_made_up():
    from services.store.tenancy import storage_name

    for bad in ("", "t1; drop schema public", "T0001/../x", "T" * 40):
        with pytest.raises(ValueError):
            storage_name(bad)


# -- the command line, in a real process ---------------------------------------------------------------


def qbsync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def distribution_env(root, env):
    return {**env, "SLACK_CLIENT_ID": "1111.2222", "SLACK_CLIENT_SECRET": "client-secret"}


def test_the_command_line_refuses_to_guess_between_workspaces(root, distribution_env, tmp_path):
    one = root.for_workspace(root.registry.get(T1))
    import_data(one.engine, data("L-1"))

    guessed = qbsync(distribution_env, "problems")
    assert guessed.returncode == 2
    assert T1 in guessed.stderr and T2 in guessed.stderr and "--workspace" in guessed.stderr

    file = tmp_path / "tms.json"
    file.write_text(json.dumps(data("L-9")))
    named = qbsync(distribution_env, "import", str(file), "--workspace", T2)
    assert named.returncode == 0, named.stderr
    assert count(root.for_workspace(root.registry.get(T2)).engine, Load) == 1
    assert count(one.engine, Load) == 1, "the other workspace is untouched"

    by_env = qbsync({**distribution_env, "QBSYNC_WORKSPACE": T1}, "diagnose", "L-1", "--json")
    assert by_env.returncode == 0, by_env.stderr
    assert json.loads(by_env.stdout)["load_number"] == "L-1"
    other = qbsync({**distribution_env, "QBSYNC_WORKSPACE": T2}, "diagnose", "L-1", "--json")
    assert json.loads(other.stdout)["state"] == "not_found", "T2 cannot see T1's load"

    unknown = qbsync(distribution_env, "problems", "--workspace", "T0NOPE999")
    assert unknown.returncode == 2 and "No workspace T0NOPE999" in unknown.stderr
    malformed = qbsync(distribution_env, "problems", "--workspace", "'; drop table load; --")
    assert malformed.returncode == 2 and "not a Slack team id" in malformed.stderr


def test_workspaces_lists_and_erases(root, distribution_env):
    import_data(root.for_workspace(root.registry.get(T1)).engine, data("L-1", "L-2"))
    root.registry.claim_realm(T1, "9130000001")  # nothing holds it yet
    listed = qbsync(distribution_env, "workspaces", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["team_id"]: row for row in json.loads(listed.stdout)["workspaces"]}
    assert rows[T1]["loads"] == 2 and rows[T1]["realm_id"] == "9130000001" and rows[T1]["installed"]
    assert rows[T2]["loads"] == 0 and rows[T2]["name"] == "Harbor Trucking"

    kept = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "workspaces", "delete", T1],
        env={**os.environ, **distribution_env},
        input="n\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert kept.returncode != 0 and root.registry.get(T1) is not None, "no confirmation, nothing erased"
    rotated = qbsync(
        {**distribution_env, "QBSYNC_PUBLIC_URL": "https://qbsync.example.com"},
        "workspaces",
        "tms-secret",
        T2,
    )
    assert rotated.returncode == 0, rotated.stderr
    key = root.registry.get(T2).tms_key
    assert f"https://qbsync.example.com/tms/events/{key}" in rotated.stdout
    assert root.registry.by_tms_key(key)[1] in rotated.stdout, "the secret is shown once"
    assert qbsync(distribution_env, "workspaces", "tms-secret", "T0NOPE999").returncode == 2
    erased = qbsync(distribution_env, "workspaces", "delete", T1, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert root.registry.get(T1) is None and root.registry.get(T2) is not None


@pytest.fixture
def old_url(tmp_path):
    """A database of its own for the in-place upgrade: a SQLite file, or a new PostgreSQL database."""
    from tests.conftest import PG_URL

    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import uuid

    from sqlalchemy.engine import make_url

    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"qbsync_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_a_single_workspace_database_upgrades_in_place(old_url):
    upgrade(old_url, "0009")  # a deployment of one workspace, before many workspaces existed
    engine = make_engine(old_url)
    import_data(engine, data("L-1", "L-2"))
    with engine.begin() as conn:
        conn.execute(
            sa.insert(FixAudit.__table__).values(
                actor="slack:T1:U1", fix="retry", outcome="applied", at=sa.func.now(), changes={}
            )
        )
    before = {table: count(engine, table) for table in (Load, Customer, FixAudit, SyncAttempt)}

    done = qbsync({"DATABASE_URL": old_url}, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "h001" in current_revision(engine)
    assert {table: count(engine, table) for table in before} == before, "nothing lost"
    # the same commands as before, no workspace to name
    diagnosed = qbsync({"DATABASE_URL": old_url}, "diagnose", "L-1", "--json")
    assert diagnosed.returncode == 0 and json.loads(diagnosed.stdout)["load_number"] == "L-1"
    # and when this workspace installs from "Add to Slack", it finds its data where it was
    from services.store.secrets import TokenCipher
    from services.store.tenancy import Tenancy
    from services.workspaces.registry import WorkspaceRegistry

    registry = WorkspaceRegistry(Tenancy(engine, old_url), TokenCipher("k" * 32))
    assert registry.adopt_home("T0OLD0001", "Old Drayage").storage is None
    again = registry.installed("T0OLD0001", installer="U0ADMIN01")
    assert again.storage is None and count(engine, Load) == 2
    assert not registry.tenancy.exists("ws_t0old0001"), "no empty storage was made beside it"
    engine.dispose()
