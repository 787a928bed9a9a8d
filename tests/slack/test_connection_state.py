"""The QuickBooks connection in Slack: the Connect button exactly where QuickBooks is not connected
(and nowhere else), a broken connection as one state that spends no request, and ``/qbsync
disconnect`` for administrators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bot.views.diagnosis import diagnosis_message
from bot.views.home import home_view
from bot.views.problems import problems_message
from bot.views.status import status_message
from emulator.slack import validate_blocks, validate_view
from services.connect.connection import ConnectionStatus
from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.problems import Problem
from services.diagnosis.reasons import Reason
from services.diagnosis.status import Status
from services.store.models import ConnectionState, ConnectTicket, FixAudit, QboConnection
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import ADMIN, CHANNEL, CLERK, TEAM, Bot, action_ids, find_action, text_of, wait_for

URL = "https://qbsync.example.com/qbo/connect"
NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def status_of(state: ConnectionState) -> Status:
    connection = ConnectionStatus(
        state, "123", None, None, "Intuit refused the token (invalid_grant)", None, None
    )
    return Status(connection, None, None, 3, 1, 2, Decimal("10.00"), {"customer_not_synced": 2})


def connect_buttons(blocks) -> list[dict]:
    return [find_action(blocks, a)[1] for a in action_ids(blocks) if a == "fix.connect"]


@pytest.mark.parametrize("state", list(ConnectionState))
def test_status_and_home_offer_connect_only_when_not_connected(state):
    for blocks in (
        status_message(status_of(state), connect_url=URL)["blocks"],
        home_view(status_of(state), connect_url=URL)["blocks"],
    ):
        buttons = connect_buttons(blocks)
        if state is ConnectionState.CONNECTED:
            assert buttons == []
        else:
            assert [("url" in b, b["value"]) for b in buttons] == [(False, "connect")], "no link in it"
    assert validate_view(home_view(status_of(state), connect_url=URL)) == []


@pytest.mark.parametrize("state", list(ConnectionState))
def test_the_problem_list_leads_with_connect_only_when_not_connected(state):
    problems = [Problem("L-1", [Reason("customer_not_synced", "s")], Decimal("5.00"), NOW)]
    for listed in (problems, []):
        message = problems_message(listed, connection=state.value, connect_url=URL)
        assert validate_blocks(message["blocks"], "message") == []
        buttons = connect_buttons(message["blocks"])
        if state is ConnectionState.CONNECTED:
            assert buttons == []
        else:
            assert [("url" in b, b["value"]) for b in buttons] == [(False, "connect")], "no link in it"
            words = (
                "QuickBooks disconnected"
                if state is ConnectionState.BROKEN
                else "QuickBooks is not connected"
            )
            assert words in str(message["blocks"][:3])


def test_a_diagnosis_offers_connect_only_for_qb_not_connected():
    blocked = Diagnosis(
        "L-1",
        "problem",
        None,
        [Reason("qb_not_connected", "QuickBooks disconnected", {}, ["connect"])],
        0,
        NOW,
    )
    other = Diagnosis(
        "L-2", "problem", None, [Reason("customer_not_synced", "s", {}, ["link_customer"])], 1, NOW
    )
    buttons = connect_buttons(diagnosis_message(blocked, connect_url=URL)["blocks"])
    assert [("url" in b, b["value"]) for b in buttons] == [(False, "L-1")]
    assert connect_buttons(diagnosis_message(other, connect_url=URL)["blocks"]) == []


# -- a broken connection: one state, no requests ------------------------------------------------------


class TokenCalls:
    """Counts the requests qbsync's Intuit client sends to the token endpoint (a response hook)."""

    def __init__(self, services) -> None:
        self.count = 0
        services.auth._auth_client().hooks["response"].append(self.seen)

    def seen(self, response, *args, **kwargs):
        if "/tokens/" in response.url:
            self.count += 1
        return response


def test_invalid_grant_breaks_the_connection_and_nothing_is_spent_until_reconnected(
    make_bot, connected, engine, emu
):
    qb_company(connected.api)
    tms(engine, [a_load("B-1"), a_load("B-2"), a_load("B-3")])
    with engine.connect() as conn:
        refresh = conn.execute(sa.select(QboConnection.refresh_token)).scalar()
    connected.auth.revoke(connected.cipher.decrypt(refresh))  # disconnected on Intuit's side
    tokens = TokenCalls(connected)
    requests_before = emu.stats()["total_requests"]

    first = connected.sync.sync_many(None, trigger="test")
    assert [r.reasons[0].code for r in first] == ["qb_not_connected"] * 3
    assert connected.connection.status().state is ConnectionState.BROKEN
    assert tokens.count == 1, "one refresh refused with invalid_grant"
    spent = emu.stats()["total_requests"]
    assert spent - requests_before <= 1, "at most the request Intuit refused"

    again = connected.sync.sync_many(None, trigger="test")
    connected.sync.sync_load("B-1", trigger="test")
    diagnosis = connected.diagnoser.diagnose("B-2")
    assert [r.code for r in diagnosis.reasons] == ["qb_not_connected"]
    assert "QuickBooks disconnected" in diagnosis.reasons[0].summary
    assert all(r.state == "problem" for r in again)
    assert (tokens.count, emu.stats()["total_requests"]) == (1, spent), "nothing spent while broken"

    bot = make_bot(connected)
    bot.command("status")
    status = bot.wait_message("Disconnected")
    assert "url" not in find_action(status.blocks, "fix.connect")[1], "the link is made when pressed"
    bot.command("B-3")
    diagnosed = bot.wait_message("QuickBooks disconnected")
    assert "url" not in find_action(diagnosed.blocks, "fix.connect")[1]
    bot.command("problems")
    listed = bot.wait_message("problem invoice")
    assert "QuickBooks disconnected" in text_of(listed)
    assert action_ids(listed.blocks)[0] == "fix.connect"
    assert (tokens.count, emu.stats()["total_requests"]) == (1, spent), "Slack's answers spend nothing either"


def test_connect_pressed_by_an_administrator_opens_their_own_single_use_link(make_bot, svc, engine):
    bot = make_bot(svc)
    bot.command("status", user=ADMIN)
    status = bot.wait_message("Not connected")
    assert bot.click(status, "fix.connect", user=ADMIN) == 200
    modal = wait_for(lambda: bot.open_view(ADMIN), what="the connect modal")
    assert validate_view(modal) == []
    link = find_action(modal["blocks"], "qbsync.connect_continue")[1]["url"]
    assert link.startswith("http://localhost:8765/qbo/connect?ticket=")
    with engine.connect() as conn:
        tickets = conn.execute(sa.select(ConnectTicket.actor, ConnectTicket.used_at)).all()
    assert tickets == [(f"slack:{TEAM}:{ADMIN}", None)]
    assert link.split("ticket=", 1)[1] not in str(tickets), "only its digest is stored"


# -- /qbsync disconnect -------------------------------------------------------------------------------


def test_disconnect_is_for_administrators_and_refusals_are_audited(make_bot, connected, engine):
    bot = make_bot(connected)
    bot.command("disconnect", user=CLERK)
    refusal = bot.wait_message("for administrators")
    assert refusal.ephemeral_for == CLERK
    assert connected.connection.status().connected
    with engine.connect() as conn:
        audit = conn.execute(sa.select(FixAudit.fix, FixAudit.outcome, FixAudit.actor)).one()
    assert audit == ("disconnect", "refused", f"slack:{TEAM}:{CLERK}")


def test_disconnect_asks_then_revokes_forgets_and_says_so_in_the_channel(make_bot, connected, engine, emu):
    with engine.connect() as conn:
        refresh = connected.cipher.decrypt(conn.execute(sa.select(QboConnection.refresh_token)).scalar())
    bot: Bot = make_bot(connected)
    bot.command("disconnect", user=ADMIN)
    question = bot.wait_message("Disconnect QuickBooks company")
    assert question.ephemeral_for == ADMIN
    _block, button = find_action(question.blocks, "qbsync.disconnect")
    assert button["style"] == "danger" and button["confirm"]["confirm"]["text"] == "Disconnect"

    assert bot.click(question, "qbsync.disconnect", user=CLERK) == 200  # forwarded to someone else
    wait_for(
        lambda: bot.last_message(lambda m: "for administrators" in text_of(m) and m.ephemeral_for == CLERK)
    )
    assert connected.connection.status().connected

    assert bot.click(question, "qbsync.disconnect", user=ADMIN) == 200
    said = bot.wait_message("QuickBooks disconnected")
    assert said.ephemeral_for is None and f"<@{ADMIN}>" in said.text and "Intuit revoked" in text_of(said)
    assert said.channel == CHANNEL
    assert connected.connection.status().state is ConnectionState.DISCONNECTED
    with engine.connect() as conn:
        row = conn.execute(sa.select(QboConnection.access_token, QboConnection.refresh_token)).one()
    assert row == (None, None), "forgotten"
    assert emu.emulator.tokens.grants[emu.emulator.tokens.refresh_tokens[refresh].grant_id].revoked
