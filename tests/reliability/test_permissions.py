"""Who may run what, tried as an outsider and as a clerk would (real HTTP, signed as Slack signs): a fix
by someone outside ``QBSYNC_FIXERS``, an administrators' fix by a fixer, a modal submitted by someone
else, a fix of a load that does not exist — each refused, nothing changed, and each in the fix audit
with the Slack user and team."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from emulator.slack import block_actions_body, post_to_app, view_submission_body
from services.store.models import FixAudit, Load
from tests.builders import CUSTOMERS, qb_company, qb_invoices, tms
from tests.builders import load as a_load
from tests.slack.conftest import ADMIN, CHANNEL, CLERK, OUTSIDER, SECRET, TEAM, wait_for
from tests.slack.test_fix_flows import diagnosed

pytestmark = pytest.mark.reliability

NOBODY = {"id": "C-999", "name": "Nobody Inc", "qb_email": "nobody@nowhere.example"}


def audits(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(FixAudit.__table__)).mappings()]


def state(bot, engine) -> str:
    """What a refused attempt must leave as it was: the loads, the invoices, the company settings."""
    with engine.connect() as conn:
        loads = [tuple(r) for r in conn.execute(sa.select(Load.__table__).order_by(Load.id))]
    prefs = bot.services.api.query("SELECT * FROM Preferences")["Preferences"][0]["SalesFormsPrefs"]
    return json.dumps([loads, qb_invoices(bot.services.api), prefs], default=str, sort_keys=True)


def click(bot, action_id: str, value: str, user: str) -> None:
    """A click as Slack sends it, on a message in the channel (any message: the app checks who)."""
    body = block_actions_body(
        action_id,
        value,
        user_id=user,
        team_id=TEAM,
        channel_id=CHANNEL,
        message_ts="1700000000.000100",
        response_url=bot.slack.new_response_url(CHANNEL, user, message_ts="1700000000.000100"),
        trigger_id=bot.slack.new_trigger_id(user),
    )
    assert post_to_app(f"{bot.url}/slack/events", body, SECRET)[0] == 200


def test_refused_and_not_found_fixes_change_nothing_and_are_audited(make_bot, connected, engine):
    bot = make_bot(connected, fixers=(CLERK,), admins=(ADMIN,))
    qb_company(connected.api)
    tms(
        engine,
        [a_load("P-1"), a_load("P-2"), a_load("P-3", customer="C-999")],
        customers=[*CUSTOMERS, NOBODY],
    )
    connected.sync.sync_many(["P-2", "P-3"], trigger="test")  # P-2 synced, P-3 needs a customer
    message = diagnosed(bot, "P-3")
    assert bot.click(message, "fix.link_customer", CLERK) == 200  # the clerk's modal opens
    modal = wait_for(lambda: (v := bot.open_view(CLERK)) and v.get("submit") and v, what="the modal")
    before = state(bot, engine)
    audited = len(audits(engine))

    attempts = [
        ("outsider clicks Retry", lambda: click(bot, "fix.retry", "P-1", OUTSIDER), OUTSIDER, "retry"),
        ("outsider types retry", lambda: bot.command("retry P-1", user=OUTSIDER), OUTSIDER, "retry"),
        ("clerk clicks Clear", lambda: click(bot, "fix.clear_qb_id", "P-2", CLERK), CLERK, "clear_qb_id"),
        (
            "clerk turns on custom numbers",
            lambda: click(bot, "fix.enable_custom_txn_numbers", "P-1", CLERK),
            CLERK,
            "enable_custom_txn_numbers",
        ),
        (
            "outsider submits the clerk's modal",
            lambda: post_to_app(
                f"{bot.url}/slack/events",
                view_submission_body(
                    modal,
                    {
                        "customer": {
                            "customer_id": {"type": "static_select", "selected_option": {"value": "1"}}
                        }
                    },
                    user_id=OUTSIDER,
                    team_id=TEAM,
                ),
                SECRET,
            ),
            OUTSIDER,
            "link_customer",
        ),
        (
            "admin fixes a load that does not exist",
            lambda: click(bot, "fix.retry", "NOPE-404", ADMIN),
            ADMIN,
            "retry",
        ),
    ]
    refused = 0
    for what, attempt, user, fix in attempts:
        count = len(audits(engine))
        attempt()
        row = wait_for(lambda n=count: len(audits(engine)) > n and audits(engine)[-1], what=f"{what}: audit")
        assert row["outcome"] == "refused", (what, row)
        assert row["actor"] == f"slack:{TEAM}:{user}" and row["fix"] == fix, (what, row)
        assert state(bot, engine) == before, f"{what} changed something"
        refused += 1
    assert len(audits(engine)) == audited + len(attempts)
    assert audits(engine)[-1]["load_number"] == "NOPE-404" and "No load" in audits(engine)[-1]["detail"]
    print(f"FIGURE permissions: {refused} of {len(attempts)} refused or not-found fixes audited, 0 changed")


def test_a_fix_of_a_missing_load_is_audited_from_the_command_line_too(connected, engine):
    result = connected.fixer.apply("NOPE-1", "retry", "cli")
    assert result.outcome == "refused"
    (row,) = audits(engine)
    assert (row["actor"], row["load_number"], row["fix"], row["outcome"]) == (
        "cli",
        "NOPE-1",
        "retry",
        "refused",
    )
