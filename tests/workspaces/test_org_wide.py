"""An Enterprise Grid organisation installs qbsync once for all its workspaces (an org-wide install),
end to end against the Slack stand-in and the QuickBooks emulator over HTTP, beside a regular workspace:
"Add to Slack" by an org admin → one qbsync workspace for the organisation (``qbsync workspaces``) →
Connect QuickBooks from a member workspace → TMS loads → ``/qbsync`` from two member workspaces answered
from the organisation's data, with the organisation's one token → fix clicks audited with the member
workspace → the App Home and the digest through the organisation's token → the regular workspace and the
organisation never see each other's loads → the organisation removes the app (its Slack work stops, its
data stays) → it installs again.

Slack's shapes for an org-wide install are the stand-in's (``emulator.slack.enterprise``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from emulator.slack import SlackStandIn
from services.catalogue.workspaces import NOT_INSTALLED
from services.store.models import FixAudit
from services.store.tenants import SlackInstallationRecord
from tests.builders import CHARGE_CODES, CUSTOMERS, qb_company
from tests.builders import load as a_load
from tests.waiting import wait_for
from tests.workspaces.test_distribution import (
    SECRET,
    Deployment,
    digests_posted,
    loads_of,
    newer,
    serving,
    words,
)
from tests.workspaces.test_tenancy import qbsync

ORG, ORG_NAME = "E0ACME001", "Acme Holdings"
WEST, EAST = "T0WEST001", "T0EAST002"  # two workspaces of the organisation
REGULAR = "T0HARBOR3"  # a workspace of its own, outside any organisation
ORG_ADMIN = "W0ORGADM1"  # an org admin, a member of WEST
CLERK = {WEST: "W0CLERKW1", EAST: "W0CLERKE2", REGULAR: "U0CLERKR3"}
ADMIN = {WEST: ORG_ADMIN, EAST: ORG_ADMIN, REGULAR: "U0ADMINR3"}
CHANNEL = {WEST: "C0WBILLING", EAST: "C0EBILLING", REGULAR: "C0RBILLING"}
MYSTERY = {"code": "MYSTERY", "name": "Mystery charge"}  # a charge code QuickBooks lacks: a problem


@pytest.fixture
def grid(settings, engine, emu) -> Iterator[Deployment]:
    with SlackStandIn(port=0) as slack:
        slack.add_enterprise(ORG, name=ORG_NAME, domain="acme-holdings")
        for team, name in ((WEST, "Acme West"), (EAST, "Acme East")):
            slack.add_team(team, name=name, enterprise_id=ORG, installed=False)
        slack.add_team(REGULAR, name="Harbor Trucking", installed=False)
        for team in (WEST, EAST, REGULAR):
            room = slack.team(team)
            room.add_channel(CHANNEL[team])
            room.add_user(CLERK[team])
        slack.team(WEST).add_user(ORG_ADMIN)
        slack.team(REGULAR).add_user(ADMIN[REGULAR])
        with serving(slack, settings, engine, emu) as d:
            d.channels, d.clerks, d.admins = dict(CHANNEL), dict(CLERK), dict(ADMIN)
            yield d


@pytest.fixture
def operator_env(env, grid) -> dict[str, str]:
    """The environment of ``qbsync`` run by the operator of the deployment (distribution mode)."""
    return {**env, "SLACK_CLIENT_ID": grid.slack.client_id, "SLACK_CLIENT_SECRET": grid.slack.client_secret}


def tms_loads(d: Deployment, tenant: str, loads: list[dict[str, Any]]) -> None:
    key, secret = d.services.registry.rotate_tms_secret(tenant)
    sent = d.tms(
        key, secret, {"customers": CUSTOMERS, "charge_codes": [*CHARGE_CODES, MYSTERY], "loads": loads}
    )
    assert sent.status_code == 202, sent.text


def test_an_organisation_installs_once_for_all_its_workspaces(grid, operator_env, emu):
    d = grid
    org = d.slack.enterprise(ORG)
    registry = d.services.registry

    # -- "Add to Slack" by an org admin, for the whole organisation; a regular workspace beside it -------
    page = d.install(None, ORG_ADMIN, enterprise=ORG)
    assert page.status_code == 200 and "qbsync is installed" in page.text and ORG_NAME in page.text, page.text
    assert org.installed and d.slack.team(WEST).org_wide and d.slack.team(EAST).org_wide
    [workspace] = registry.all()
    assert (workspace.team_id, workspace.enterprise_id, workspace.name) == (ORG, ORG, ORG_NAME)
    assert workspace.org_wide and workspace.installed and workspace.settings["admins"] == [ORG_ADMIN]
    assert d.install(REGULAR, ADMIN[REGULAR]).status_code == 200
    assert {w.team_id for w in registry.all()} == {ORG, REGULAR}
    assert registry.get(WEST) is None and registry.get(EAST) is None, "no workspace per member"
    table = SlackInstallationRecord.__table__
    with d.services.engine.connect() as conn:
        keys = conn.execute(
            sa.select(table.c.enterprise_id, table.c.team_id, table.c.is_enterprise_install)
        ).all()
    assert sorted(map(tuple, keys)) == [("", REGULAR, False), (ORG, "", True)]
    listed = qbsync(operator_env, "workspaces", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["team_id"]: row for row in json.loads(listed.stdout)["workspaces"]}
    assert rows[ORG]["enterprise_id"] == ORG and rows[ORG]["name"] == ORG_NAME and rows[ORG]["installed"]
    shown = qbsync(operator_env, "workspaces")
    assert ORG in shown.stdout and ORG_NAME in shown.stdout, shown.stdout

    # -- Connect QuickBooks from a member workspace: the organisation's company ---------------------------
    realm_org, realm_harbor = "9130000000000011", "9130000000000012"
    assert "Connected to" in d.connect(WEST, realm_org, tenant=ORG).text
    assert "Connected to" in d.connect(REGULAR, realm_harbor).text
    assert registry.get(ORG).realm_id == realm_org and registry.get(REGULAR).realm_id == realm_harbor
    for tenant in (ORG, REGULAR):
        qb_company(d.scoped(tenant).api)

    # -- TMS loads for each; the operator reads the organisation's with --workspace E… ------------------
    tms_loads(
        d,
        ORG,
        [
            a_load("L-1", charges=[("BASE", "111.00")]),
            a_load("L-2", charges=[("MYSTERY", "5.00")]),
            a_load("L-ORG"),
        ],
    )
    tms_loads(d, REGULAR, [a_load("L-1", charges=[("MYSTERY", "222.00")]), a_load("L-HARBOR")])
    assert loads_of(d.scoped(ORG).engine) == 3 and loads_of(d.scoped(REGULAR).engine) == 2
    wait_for(lambda: d.scoped(ORG).sync.current_result("L-1").state == "synced", 20, "the org's L-1 synced")
    wait_for(
        lambda: d.scoped(ORG).sync.current_result("L-2").state == "problem", 20, "the org's L-2 a problem"
    )
    wait_for(lambda: d.scoped(REGULAR).sync.current_result("L-1").state == "problem", 20, "Harbor's L-1")
    problems = qbsync(operator_env, "problems", "--workspace", ORG, "--json")
    assert problems.returncode == 0, problems.stderr
    assert "L-2" in problems.stdout and "L-HARBOR" not in problems.stdout

    # -- /qbsync L-1 from both member workspaces: the organisation's load, the organisation's token -----
    for team in (WEST, EAST):
        status, _ = d.command(team, "L-1")
        assert status == 200
        assert "invoice matches the load" in words(d.wait_message(team, "L-1")).lower(), team
    status, _ = d.command(REGULAR, "L-1")
    assert "charge codes are not synced" in words(d.wait_message(REGULAR, "L-1")).lower()
    d.command(REGULAR, "L-ORG")
    assert "not found" in words(d.wait_message(REGULAR, "L-ORG")).lower(), "Harbor never sees the org's loads"
    d.command(EAST, "L-HARBOR")
    assert "not found" in words(d.wait_message(EAST, "L-HARBOR")).lower(), "nor the org Harbor's"
    assert not any("invoice matches" in words(m) for m in d.messages(REGULAR))

    # -- a fix button in a member workspace: done in the organisation's data, the member team audited ----
    d.command(EAST, "L-2")
    answer = d.wait_message(EAST, "L-2")
    fix = next(
        e["action_id"]
        for b in answer.blocks
        if b.get("type") == "actions"
        for e in b.get("elements", [])
        if e.get("action_id", "").startswith("fix.")
    )
    harbor_audits = _audits(d.scoped(REGULAR).engine)
    assert d.click(EAST, answer, fix, CLERK[EAST]) == 200
    audits = wait_for(lambda: _audits(d.scoped(ORG).engine) or None, 20, "the click audited")
    assert {a.actor for a in audits} == {f"slack:{EAST}:{CLERK[EAST]}"}, audits
    assert _audits(d.scoped(REGULAR).engine) == harbor_audits

    # -- the App Home, in a member workspace: the organisation's counts, the Settings for its admin -------
    d.post(d.slack.team(EAST).app_home_opened_body(CLERK[EAST]))
    d.post(d.slack.team(WEST).app_home_opened_body(ORG_ADMIN))
    d.post(d.slack.team(REGULAR).app_home_opened_body(CLERK[REGULAR]))
    clerk_home = json.dumps(wait_for(lambda: d.slack.team(EAST).home(CLERK[EAST]), 10, "the clerk's home"))
    admin_home = json.dumps(wait_for(lambda: d.slack.team(WEST).home(ORG_ADMIN), 10, "the admin's home"))
    wait_for(lambda: d.slack.team(REGULAR).home(CLERK[REGULAR]), 10, "Harbor's home")
    assert "Settings" in admin_home and "Settings" not in clerk_home
    assert "Connected" in clerk_home or realm_org in clerk_home or "QuickBooks" in clerk_home
    assert {c.token for c in d.slack.team(EAST).calls("views.publish")} == {org.bot_token}

    # -- the org admin saves the Settings from a member workspace: the organisation's ----------------------
    view = {"type": "modal", "callback_id": "qbsync.settings", "private_metadata": "", "blocks": []}
    values = {
        "digest_time": {"value": {"type": "timepicker", "selected_time": "06:30"}},
        "timezone": {"value": {"type": "plain_text_input", "value": "UTC"}},
        "admins": {"value": {"type": "multi_users_select", "selected_users": [ORG_ADMIN, CLERK[EAST]]}},
    }
    status, answer = d.post(d.slack.team(EAST).view_submission_body(view, values, user_id=CLERK[EAST]))
    assert status == 200 and json.loads(answer)["response_action"] == "errors", "a clerk may not"
    status, answer = d.post(d.slack.team(WEST).view_submission_body(view, values, user_id=ORG_ADMIN))
    assert status == 200 and not answer, answer
    saved = registry.get(ORG).settings
    assert (saved["digest_time"], saved["admins"]) == ("06:30", [ORG_ADMIN, CLERK[EAST]])
    assert "digest_time" not in registry.get(REGULAR).settings

    # -- the digest of the organisation, posted with its token in a member workspace's channel ------------
    registry.update_settings(ORG, digest_channel=CHANNEL[EAST], digest_time="00:00", timezone="UTC")
    registry.update_settings(REGULAR, digest_channel=CHANNEL[REGULAR], digest_time="00:00", timezone="UTC")
    digests_posted(d, (EAST, REGULAR))
    posted = [
        c for c in d.slack.team(EAST).calls("chat.postMessage") if c.args.get("channel") == CHANNEL[EAST]
    ]
    assert posted and {c.token for c in posted} == {org.bot_token}

    # -- the organisation removes the app: its Slack work stops, its data stays; Harbor goes on -----------
    statuses = org.uninstall(f"{d.url}/slack/events", SECRET)
    assert statuses == [200, 200]
    wait_for(lambda: not registry.get(ORG).installed, 10, "the organisation marked uninstalled")
    assert loads_of(d.scoped(ORG).engine) == 3, "its data is kept for a reinstall"
    from wiring.slack import workspace_client

    assert workspace_client(d.scoped(ORG)) is None, "no token left for its Slack jobs"
    since = {m.ts for t in (WEST, EAST, REGULAR) for m in d.messages(t)}
    gone_status, gone_answer = d.command(WEST, "L-1")
    assert gone_status in (200, 401) and "invoice matches" not in str(gone_answer)
    assert d.command(REGULAR, "L-HARBOR")[0] == 200
    wait_for(lambda: any(newer(m, since) for m in d.messages(REGULAR)), 20, "Harbor answers meanwhile")
    posted = [words(m) for m in d.messages(WEST) if newer(m, since)]
    assert all(text == NOT_INSTALLED for text in posted), f"only qbsync's refusal: {posted}"

    # -- the org admin installs again: a new token, the same data ----------------------------------------
    old = org.bot_token
    page = d.install(None, ORG_ADMIN, enterprise=ORG)
    assert page.status_code == 200 and "qbsync is installed" in page.text
    assert registry.get(ORG).installed and org.bot_token != old
    assert [w.team_id for w in registry.all()] == sorted([ORG, REGULAR])
    since = {m.ts for m in d.messages(EAST)}
    assert d.command(EAST, "L-1")[0] == 200
    wait_for(
        lambda: any(newer(m, since) and "invoice matches" in words(m) for m in d.messages(EAST)), 20, "again"
    )


def _audits(engine) -> list[Any]:
    table = FixAudit.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(table.c.actor, table.c.fix, table.c.outcome)).all()
