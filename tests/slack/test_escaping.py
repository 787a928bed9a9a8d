"""Everything that comes from outside (a TMS load number, a customer's name, a charge code's name,
QuickBooks' own words) reaches Slack inert, on every path a person can take: the diagnosis, a retry,
the fix results, "Running…", the problem list, status, the App Home, the digest, a choice modal,
ephemeral answers and near-match buttons. Slack reads ``text`` and every mrkdwn text object as markup,
so in those ``<`` ``>`` and ``&`` must arrive as entities: no channel ping, no link made from the text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from slack_sdk import WebClient

from emulator.slack import block_actions_body, event_callback_body, post_to_app, slash_command_body
from services.digest.posting import post_on_demand
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.slack.conftest import CHANNEL, CLERK, SECRET, TEAM, action_ids, text_of, wait_for
from tests.slack.test_fix_flows import _same, clicked, diagnosed
from wiring.slack import digest_poster

EVIL = "<!channel> <https://x.example|click> & *bold*"  # a valid load number: printable, 44 characters
BAD_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def markup(value: Any) -> list[str]:
    """Every string Slack reads as markup in an API call's arguments: ``text`` and mrkdwn objects."""
    found: list[str] = []

    def walk(node: Any, key: str | None = None) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            elif node.get("type") == "plain_text":
                return  # shown as typed: nothing in it is markup
            for name, child in node.items():
                if name == "text" and isinstance(child, str) and node.get("type") is None:
                    found.append(child)  # a message's fallback text
                else:
                    walk(child, name)
        elif isinstance(node, list):
            for child in node:
                walk(child, key)

    walk(value)
    return found


def leaks(texts: list[str]) -> list[str]:
    return [
        t
        for t in texts
        if "<!channel>" in t
        or "<https://x.example" in t
        or BAD_AMPERSAND.search(t)
        or "<!" in t.replace("<!date^", "")
    ]


CODES = ("undismiss", "map_charge_code", "qb_email", "slack:T", "qbsync fix ", "[qb_", "fix.")


def assert_inert(slack, *extra: Any) -> int:
    """No call the bot made (and no acknowledgement in ``extra``) carries the text as markup."""
    calls = [c for c in slack.calls() if c.method != "auth.test"]
    texts = [t for c in calls for t in markup(c.args)] + [t for e in extra for t in markup(e)]
    assert texts, "the bot said something"
    found = leaks(texts)
    assert not found, "\n---\n".join(found)
    coded = [t for t in texts if any(code in t for code in CODES)]
    assert not coded, "a code shown to a person:\n" + "\n---\n".join(coded)
    return len(texts)


def command(bot, text: str, user: str = CLERK) -> Any:
    """``/qbsync TEXT`` as Slack sends it (``&``, ``<``, ``>`` as entities); the acknowledgement."""
    body = slash_command_body(
        "/qbsync",
        text,
        user_id=user,
        channel_id=CHANNEL,
        team_id=TEAM,
        response_url=bot.slack.new_response_url(CHANNEL, user),
        trigger_id=bot.slack.new_trigger_id(user),
    )
    status, _headers, answer = post_to_app(f"{bot.url}/slack/events", body, SECRET)
    assert status == 200
    return answer


def stale_click(bot, message, action_id: str, value: str, user: str = CLERK) -> int:
    """A click on a button the message no longer shows (pressed in an older copy of it)."""
    body = block_actions_body(
        action_id,
        value,
        "more",
        user_id=user,
        channel_id=message.channel,
        message_ts=message.ts,
        message_blocks=message.blocks,
        response_url=bot.slack.new_response_url(message.channel, user, message_ts=message.ts),
        trigger_id=bot.slack.new_trigger_id(user),
        team_id=TEAM,
    )
    return post_to_app(f"{bot.url}/slack/events", body, SECRET)[0]


def test_text_from_outside_reaches_slack_inert_on_every_path(make_bot, connected, engine, emu):
    qb_company(connected.api)
    tms(
        engine,
        [
            a_load(EVIL, customer="C-666", charges=[("BASE", "850.00"), ("EVIL", "40.00")]),
            a_load("V-1"),
            a_load("V-2", customer="C-666"),
        ],
        customers=[
            {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
            {"id": "C-666", "name": EVIL, "qb_email": "evil@evil.example"},
        ],
        charge_codes=[
            {"code": "BASE", "name": "Base Price"},
            {"code": "FSC", "name": "Fuel Surcharge"},
            {"code": "EVIL", "name": EVIL},
        ],
    )
    connected.sync.sync_many([EVIL, "V-2"], trigger="test")
    emu.add_fault(
        "fault", count=5, method="POST", path_contains="/invoice", code="6210", message=EVIL, detail=EVIL
    )
    connected.sync.sync_load("V-1", trigger="test")
    bot = make_bot(connected)

    # the diagnosis of a load whose number, customer and charge code are the text
    evil = diagnosed(bot, EVIL)
    assert "&amp;" in text_of(evil)
    # a QuickBooks rejection in its own words, then Retry ("Running…" and the result)
    rejected = diagnosed(bot, "V-1")
    assert "fix.retry" in action_ids(rejected.blocks)
    clicked(bot, rejected, "fix.retry")
    # fixes that create what the text names, and their results
    evil = clicked(bot, evil, "fix.resync_charge_codes")
    evil = (
        clicked(bot, evil, "fix.create_customer")
        if "fix.create_customer" in action_ids(evil.blocks)
        else evil
    )
    # a choice modal (the customer to link) for a load of that customer
    other = diagnosed(bot, "V-2")
    if "fix.link_customer" in action_ids(other.blocks):
        assert bot.click(other, "fix.link_customer") == 200
        wait_for(lambda: (v := bot.open_view()) and v.get("submit") and v, what="the choice modal")
    # dismiss through its modal, a stale button on the dismissed load, then restore
    if "fix.dismiss" in action_ids(evil.blocks):
        assert bot.click(evil, "fix.dismiss") == 200
        view = wait_for(lambda: (v := bot.open_view()) and v.get("submit") and v, what="the dismiss modal")
        replaced = _same(bot, evil).replaced
        bot.submit(view, {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": EVIL}}})
        wait_for(lambda: _same(bot, evil).replaced > replaced, what="the dismissal")
        dismissed = _same(bot, evil)
        assert stale_click(bot, dismissed, "fix.retry", EVIL) == 200  # a button from an older message
        answered = wait_for(
            lambda: (
                (m := _same(bot, evil)).replaced > dismissed.replaced and "started by" not in text_of(m) and m
            ),
            what="the stale button's answer",
        )
        assert action_ids(answered.blocks) == ["fix.undismiss"], "the dismissed load offers Restore only"
        clicked(bot, _same(bot, evil), "fix.undismiss")
    # not found: an ephemeral answer with near-match buttons, one clicked
    near = EVIL.replace("bold", "bolt")
    command(bot, near)
    answer = wait_for(lambda: bot.last_message(lambda m: "Diagnose" in text_of(m) and m.ephemeral_for))
    clicked(bot, answer, "qbsync.diagnose.0")
    # the problem list, status, retry and bad input answered in the acknowledgement
    acks = [command(bot, "problems"), command(bot, "status"), command(bot, f"retry {EVIL}")]
    acks.append(command(bot, "retry " + "x" * 80))
    wait_for(lambda: bot.last_message(lambda m: "problem invoice" in text_of(m)), what="the problem list")
    wait_for(lambda: bot.last_message(lambda m: "qbsync status" in text_of(m)), what="status")
    # the App Home
    body = event_callback_body({"type": "app_home_opened", "user": CLERK, "tab": "home"}, event_id="EvE1")
    assert post_to_app(f"{bot.url}/slack/events", body, SECRET)[0] == 200
    wait_for(lambda: bot.slack.home(CLERK), what="the App Home")
    # the digest
    poster = digest_poster(
        connected,
        WebClient(token=bot.slack.bot_token, base_url=bot.slack.api_url),
        channel=CHANNEL,
        tz="UTC",
        at=dt.time(8, 0),
    )
    post_on_demand(poster)

    methods = {c.method for c in bot.slack.calls()}
    assert {"response_url", "views.open", "views.publish", "chat.postMessage"} <= methods, methods
    assert assert_inert(bot.slack, *acks) > 50
