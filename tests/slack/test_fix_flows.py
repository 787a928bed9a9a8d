"""Every fix code end to end through Slack: the slash command shows the reason with its buttons, the
click (and the modal's choice, where one is needed) changes QuickBooks in the emulator, and the message
is replaced by the outcome and the fresh diagnosis, with no button left that would act twice."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select

from emulator.slack import block_suggestion_body, post_to_app
from services.store.models import FixAudit
from tests.builders import (
    CUSTOMERS,
    qb_company,
    qb_customer,
    qb_invoices,
    qb_item,
    set_custom_txn_numbers,
    tms,
)
from tests.builders import load as a_load
from tests.slack.conftest import (
    ADMIN,
    CHANNEL,
    CLERK,
    SECRET,
    TEAM,
    action_ids,
    find_action,
    text_of,
    wait_for,
)
from tests.test_fixes import manual_invoice

NOBODY = {"id": "C-999", "name": "Nobody Inc", "qb_email": "nobody@nowhere.example"}


def diagnosed(bot, number: str):
    """Type ``/qbsync NUMBER`` and wait for the diagnosis posted in the channel."""
    before = len(bot.messages())
    status, _ = bot.command(number)
    assert status == 200
    return wait_for(
        lambda: len(bot.messages()) > before and _header(bot, number), what=f"diagnosis of {number}"
    )


def _header(bot, number):
    return bot.last_message(
        lambda m: m.blocks and m.blocks[0].get("type") == "header" and number in text_of(m)
    )


def clicked(bot, message, action_id: str, user: str = CLERK):
    """Click a button and wait until the bot has replaced the message with its outcome."""
    replaced = message.replaced
    assert bot.click(message, action_id, user) == 200
    wait_for(
        lambda: (m := _same(bot, message)) and m.replaced > replaced and "started by" not in text_of(m),
        what=f"the outcome of {action_id}",
    )
    return _same(bot, message)


def _same(bot, message):
    return next((m for m in bot.slack.messages(message.channel) if m.ts == message.ts), None)


def chose(bot, message, action_id: str, values: dict, user: str = CLERK):
    """Click a fix that needs a choice, wait for its modal, submit ``values``, wait for the outcome."""
    assert bot.click(message, action_id, user) == 200
    view = wait_for(
        lambda: (v := bot.open_view(user)) and v.get("submit") and v, what="the modal with the choices"
    )
    replaced = _same(bot, message).replaced
    status, answer = bot.submit(view, values, user)
    assert status == 200
    wait_for(lambda: _same(bot, message).replaced > replaced, what="the outcome of the choice")
    return view, _same(bot, message)


def assert_synced_once(bot, message, number: str) -> None:
    text = text_of(message)
    assert f"*{number}* synced" in text, text
    assert not any(a.startswith("fix.") for a in action_ids(message.blocks)), "no button left to act twice"
    assert len(qb_invoices(bot.services.api, number)) == 1


def select_value(value: str) -> dict:
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def test_retry_after_a_transient_failure(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load("L-1")])
    emu.add_fault("503", count=3, method="POST", path_contains="/invoice")
    bot.services.sync.sync_load("L-1", trigger="test")
    message = diagnosed(bot, "L-1")
    assert "fix.retry" in action_ids(message.blocks)
    assert_synced_once(bot, clicked(bot, message, "fix.retry"), "L-1")


def test_link_customer_through_the_modal(bot, engine):
    company = qb_company(bot.services.api)
    tms(
        engine,
        [a_load("L-2", customer="C-300")],
        customers=[{"id": "C-300", "name": "Acme", "qb_email": None}],
    )
    message = diagnosed(bot, "L-2")
    assert "The customer is not synced to QuickBooks" in text_of(message)
    chosen = company["customers"]["C-100"]["Id"]
    view, outcome = chose(
        bot, message, "fix.link_customer", {"customer": {"customer_id": select_value(chosen)}}
    )
    asked = block_suggestion_body(
        "customer_id", "", block_id="customer", view=view, user_id=CLERK, team_id=TEAM
    )
    status, _headers, answer = post_to_app(f"{bot.url}/slack/events", asked, SECRET)
    [likely, *_] = json.loads(answer)["option_groups"]
    assert likely["options"][0]["value"] == chosen, "the likely customer comes first"
    assert_synced_once(bot, outcome, "L-2")


def test_create_customer(bot, engine):
    qb_company(bot.services.api)
    tms(
        engine,
        [a_load("L-3", customer="C-300")],
        customers=[{"id": "C-300", "name": "Harbor Cold Storage", "qb_email": "ap@harborcold.example"}],
    )
    message = diagnosed(bot, "L-3")
    button = next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "fix.create_customer"
    )
    assert "QuickBooks" in button["confirm"]["text"]["text"], "a confirm dialog says what changes"
    assert_synced_once(bot, clicked(bot, message, "fix.create_customer"), "L-3")


def test_update_customer_email_is_validated_in_the_modal(bot, engine):
    qb_company(bot.services.api)
    tms(
        engine,
        [a_load("L-4")],
        customers=[{"id": "C-100", "name": "Acme Foods", "qb_email": "wrong@acme.example"}],
    )
    message = diagnosed(bot, "L-4")
    assert bot.click(message, "fix.update_customer_email") == 200
    view = wait_for(lambda: (v := bot.open_view()) and v.get("submit") and v)
    assert view["blocks"][1]["element"]["initial_value"] == "ap@acme.example", "QuickBooks' email offered"
    status, answer = bot.submit(
        view, {"email": {"email": {"type": "email_text_input", "value": "not an email"}}}
    )
    assert status == 200 and answer["response_action"] == "errors" and "email" in answer["errors"]
    replaced = _same(bot, message).replaced
    status, _ = bot.submit(
        view, {"email": {"email": {"type": "email_text_input", "value": "ap@acme.example"}}}
    )
    wait_for(lambda: _same(bot, message).replaced > replaced)
    assert_synced_once(bot, _same(bot, message), "L-4")


def test_resync_charge_codes(bot, engine):
    qb_customer(bot.services.api, "Acme Foods", "ap@acme.example")
    qb_item(bot.services.api, "Base Price")
    tms(engine, [a_load("L-5")])
    message = diagnosed(bot, "L-5")
    assert "Fuel Surcharge" in text_of(message)
    assert_synced_once(bot, clicked(bot, message, "fix.resync_charge_codes"), "L-5")


def test_map_a_duplicated_charge_code_through_the_modal(bot, engine):
    qb_customer(bot.services.api, "Acme Foods", "ap@acme.example")
    qb_item(bot.services.api, "Base Price")
    parent = qb_item(bot.services.api, "Accessorials")
    first = qb_item(bot.services.api, "Fuel Surcharge")
    qb_item(bot.services.api, "Fuel Surcharge", parent=parent)
    tms(engine, [a_load("L-6")])
    message = diagnosed(bot, "L-6")
    assert "Accessorials:Fuel Surcharge" in text_of(message), "evidence names the duplicates in full"
    view, outcome = chose(
        bot, message, "fix.map_charge_code", {"item:FSC": {"item_id": select_value(first["Id"])}}
    )
    assert_synced_once(bot, outcome, "L-6")


def test_push_customer_change(bot, engine):
    company = qb_company(bot.services.api)
    tms(engine, [a_load("L-7")])
    bot.services.sync.sync_load("L-7", trigger="test")
    tms(engine, [a_load("L-7", customer="C-200")])
    message = diagnosed(bot, "L-7")
    assert "Blue Harbor Imports" in text_of(message) and "Acme Foods" in text_of(message), "both customers"
    assert_synced_once(bot, clicked(bot, message, "fix.push_customer_change"), "L-7")
    [invoice] = qb_invoices(bot.services.api, "L-7")
    assert invoice["CustomerRef"]["value"] == company["customers"]["C-200"]["Id"]


def test_push_invoice_update(bot, engine):
    qb_company(bot.services.api)
    tms(engine, [a_load("L-8")])
    bot.services.sync.sync_load("L-8", trigger="test")
    tms(engine, [a_load("L-8", charges=[("BASE", "850.00"), ("FSC", "150.00")])])
    message = diagnosed(bot, "L-8")
    assert "$977.50" in text_of(message) and "$1,000.00" in text_of(message)
    assert_synced_once(bot, clicked(bot, message, "fix.push_invoice_update"), "L-8")


def test_adopt_a_manual_invoice(bot, engine):
    company = qb_company(bot.services.api)
    tms(engine, [a_load("L-9", charges=[("BASE", "400.00")])])
    manual = manual_invoice(
        bot.services.api, "L-9", company["customers"]["C-100"], company["items"]["BASE"], "400.00"
    )
    message = diagnosed(bot, "L-9")
    assert f"id {manual['Id']}" in text_of(message) and "$400.00" in text_of(message)
    outcome = clicked(bot, message, "fix.adopt_qb_invoice")
    assert_synced_once(bot, outcome, "L-9")
    assert f"invoice {manual['Id']}" in text_of(outcome)


def test_clear_qb_id_is_refused_to_a_clerk_and_done_for_an_admin(bot, engine):
    company = qb_company(bot.services.api)
    tms(engine, [a_load("L-10")])
    manual = manual_invoice(
        bot.services.api, "L-10", company["customers"]["C-200"], company["items"]["BASE"], "1.00"
    )
    message = diagnosed(bot, "L-10")
    assert bot.click(message, "fix.clear_qb_id", CLERK) == 200
    refusal = wait_for(lambda: bot.last_message(lambda m: "administrators" in text_of(m)))
    assert refusal.ephemeral_for == CLERK and f"<@{ADMIN}>" in text_of(refusal)
    assert _same(bot, message).replaced == 0, "a refusal changes nothing"
    with Session(engine) as session:
        audit = session.exec(select(FixAudit).where(FixAudit.fix == "clear_qb_id")).one()
    assert audit.outcome == "refused" and audit.actor.endswith(CLERK)
    still = clicked(bot, message, "fix.clear_qb_id", ADMIN)
    assert "still exists in QuickBooks" in text_of(still), "verified before anything is forgotten"
    bot.services.api.delete("Invoice", manual["Id"], manual["SyncToken"])  # deleted by hand in QuickBooks
    assert_synced_once(bot, clicked(bot, still, "fix.clear_qb_id", ADMIN), "L-10")


def test_connect_opens_a_link_made_for_the_administrator_and_leaves_the_message(make_bot, svc, engine):
    bot = make_bot(svc)
    tms(engine, [a_load("L-11")])
    message = diagnosed(bot, "L-11")
    assert "QuickBooks is not connected" in text_of(message)
    _block, button = find_action(message.blocks, "fix.connect")
    assert "url" not in button and button["value"] == "L-11", "no link in the channel's message"
    assert bot.click(message, "fix.connect", user=ADMIN) == 200
    modal = wait_for(lambda: bot.open_view(ADMIN), what="the connect modal")
    link = find_action(modal["blocks"], "qbsync.connect_continue")[1]["url"]
    assert link.startswith("http://localhost:8765/qbo/connect?ticket=")  # the origin of QBO_REDIRECT_URI
    time.sleep(0.3)
    assert _same(bot, message).replaced == 0


def test_every_fix_is_audited_with_the_slack_user_and_team(bot, engine):
    qb_company(bot.services.api)
    tms(engine, [a_load("L-12")])
    bot.services.sync.sync_load("L-12", trigger="test")
    tms(engine, [a_load("L-12", customer="C-200")])
    clicked(bot, diagnosed(bot, "L-12"), "fix.push_customer_change")
    with Session(engine) as session:
        audit = session.exec(select(FixAudit).where(FixAudit.fix == "push_customer_change")).one()
    assert audit.actor == f"slack:T0001:{CLERK}" and audit.outcome == "applied"
    assert CHANNEL


# -- the fixes for the reasons once fixed by hand ----------------------------------------------------


def test_set_doc_number_through_the_modal_with_the_suggestion(bot, engine):
    qb_company(bot.services.api)
    long = "PP-2026-11-0000012345X"
    tms(engine, [a_load(long)])
    bot.services.sync.sync_load(long, trigger="test")
    message = diagnosed(bot, long)
    assert "fix.set_doc_number" in action_ids(message.blocks)
    assert bot.click(message, "fix.set_doc_number") == 200
    view = wait_for(lambda: (v := bot.open_view()) and v.get("submit") and v)
    suggestion = view["blocks"][1]["element"]["initial_value"]
    assert len(suggestion) <= 21
    status, answer = bot.submit(
        view, {"doc_number": {"doc_number": {"type": "plain_text_input", "value": "x" * 30}}}
    )
    assert answer["response_action"] == "errors"
    replaced = _same(bot, message).replaced
    bot.submit(view, {"doc_number": {"doc_number": {"type": "plain_text_input", "value": suggestion}}})
    wait_for(lambda: _same(bot, message).replaced > replaced)
    outcome = _same(bot, message)
    assert f"*{long}* synced" in text_of(outcome)
    assert f"QuickBooks invoice number: `{suggestion}`" in text_of(outcome)
    assert len(qb_invoices(bot.services.api, suggestion)) == 1


def test_enable_custom_txn_numbers_is_for_an_admin_and_retries_the_load(bot, engine):
    qb_company(bot.services.api)
    set_custom_txn_numbers(bot.services.api, False)
    tms(engine, [a_load("N-1")])
    bot.services.sync.sync_load("N-1", trigger="test")
    message = diagnosed(bot, "N-1")
    assert bot.click(message, "fix.enable_custom_txn_numbers", CLERK) == 200
    wait_for(lambda: bot.last_message(lambda m: "administrators" in text_of(m) and m.ephemeral_for == CLERK))
    assert_synced_once(bot, clicked(bot, message, "fix.enable_custom_txn_numbers", ADMIN), "N-1")


def test_dismiss_with_a_reason_then_restore(bot, engine, emu):
    qb_company(bot.services.api)
    tms(engine, [a_load("D-1", customer="C-999")], customers=[*CUSTOMERS, NOBODY])
    bot.services.sync.sync_load("D-1", trigger="test")
    message = diagnosed(bot, "D-1")
    status_before = bot.click(message, "fix.dismiss")
    assert status_before == 200
    view = wait_for(lambda: (v := bot.open_view()) and v.get("submit") and v)
    status, answer = bot.submit(
        view, {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": " "}}}
    )
    assert answer["response_action"] == "errors"
    replaced = _same(bot, message).replaced
    bot.submit(
        view, {"dismiss_reason": {"reason": {"type": "plain_text_input", "value": "invoiced by hand"}}}
    )
    wait_for(lambda: _same(bot, message).replaced > replaced)
    dismissed = _same(bot, message)
    assert "invoiced by hand" in text_of(dismissed) and f"<@{CLERK}>" in text_of(dismissed)
    assert "fix.undismiss" in action_ids(dismissed.blocks)
    bot.command("problems")
    wait_for(lambda: bot.last_message(lambda m: "No problem invoices" in text_of(m)))
    restored = clicked(bot, dismissed, "fix.undismiss")
    assert "customer is not synced" in text_of(restored).lower()
