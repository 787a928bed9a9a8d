"""The views as pure functions: every reason rendered with its words, evidence and buttons, and every
surface accepted by the stand-in's Block Kit checks (Slack's limits), however long the input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot import ids
from bot.views.blocks import SurfaceTooLarge, check_surface, escape
from bot.views.diagnosis import diagnosis_message
from bot.views.home import home_view
from bot.views.modals import customer_modal, dismiss_modal, doc_number_modal, item_modal, metadata
from bot.views.problems import problems_message
from bot.views.results import fix_result_message, progress_message
from bot.views.status import help_message, status_message
from emulator.slack import validate_blocks, validate_view
from services.catalogue import FIX, REASONS
from services.connect.connection import ConnectionStatus
from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.problems import Problem
from services.diagnosis.reasons import Reason
from services.diagnosis.status import Status
from services.fixes.choices import ItemChoice, Option
from services.fixes.fixer import FixResult
from services.store.models import ConnectionState
from tests.slack.conftest import action_ids, words_in

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)
EVIDENCE = {
    "customer_not_synced": {
        "tms_customer": "Blue Harbor",
        "tms_email": "billing@blueharbor.example",
        "candidates": [{"id": "2", "name": "Blue Harbor Freight", "email": "ap@blueharbor.example"}],
    },
    "charge_codes_not_synced": {
        "charge_codes": [
            {"code": "DET", "name": "Detention", "problem": "missing", "qb_items": []},
            {
                "code": "STOR",
                "name": "Storage",
                "problem": "duplicate",
                "qb_items": [
                    {"id": "7", "name": "Storage", "full_name": "Storage", "active": True},
                    {"id": "9", "name": "Storage", "full_name": "Accessorials:Storage", "active": True},
                ],
            },
        ]
    },
    "duplicate_load_number": {
        "qb_invoice_id": "6",
        "doc_number": "HB-2003",
        "customer": "Pacific Rim",
        "total": "983.25",
        "date": "2026-11-20",
    },
    "customer_changed": {
        "synced_customer": {
            "tms_id": "C-1",
            "name": "Acme",
            "qb_customer_id": "1",
            "qb_customer_name": "Acme",
        },
        "current_customer": {"tms_id": "C-2", "name": "Globex"},
        "qb_invoice_id": "12",
    },
    "amount_mismatch": {"qb_invoice_id": "12", "qb_total": "1200.00", "tms_total": "1246.50"},
    "qb_validation_error": {
        "qb_code": "6210",
        "detail": "Account Period Closed " * 300,
        "intuit_tid": "1-abc",
    },
    "load_not_found": {"load_number": "HB-2OO3", "near_matches": ["HB-2003", "HB-2008"]},
    "doc_number_too_long": {"load_number": "M2611-0417-TRANSLOAD-02", "length": 23, "max": 21},
}


def diagnosis(code: str, number: str = "HB-2003") -> Diagnosis:
    reason = Reason(code, f"summary of {code} <!channel> & more", EVIDENCE.get(code, {}))
    state = "not_found" if code == "load_not_found" else "problem"
    return Diagnosis(number, state, None, [reason], qb_requests=1, checked_at=NOW)


@pytest.mark.parametrize("code", [r.code for r in REASONS])
def test_every_reason_renders_with_its_words_evidence_and_buttons(code):
    message = diagnosis_message(diagnosis(code), response_type="in_channel")
    assert validate_blocks(message["blocks"], "message") == []
    text = words_in(message["blocks"])
    words = next(r for r in REASONS if r.code == code)
    assert words.title in text and "By hand" in text
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; more" in text, "input is escaped"
    buttons = action_ids(message["blocks"])
    for fix in words.fixes:
        assert ids.fix_action(fix) in buttons
    for leak in ("True", "False", "None", "[]", "{}"):
        assert leak not in text


def test_evidence_names_what_a_person_must_see():
    text = str(diagnosis_message(diagnosis("charge_codes_not_synced"))["blocks"])
    assert "Accessorials:Storage" in text and "item 9" in text
    text = str(diagnosis_message(diagnosis("duplicate_load_number"))["blocks"])
    assert "$983.25" in text and "Pacific Rim" in text and "2026-11-20" in text
    text = str(diagnosis_message(diagnosis("customer_changed"))["blocks"])
    assert "Acme" in text and "Globex" in text
    text = str(diagnosis_message(diagnosis("customer_not_synced"))["blocks"])
    assert "billing@blueharbor.example" in text and "ap@blueharbor.example" in text


def test_destructive_fixes_ask_first_and_say_what_changes_in_quickbooks():
    blocks = diagnosis_message(diagnosis("duplicate_load_number"))["blocks"]
    buttons = {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}
    clear = buttons["fix.clear_qb_id"]
    assert clear["style"] == "danger" and "QuickBooks" in clear["confirm"]["text"]["text"]
    assert "HB-2003" in buttons["fix.adopt_qb_invoice"]["confirm"]["text"]["text"]
    for fix in ("create_customer", "push_customer_change", "adopt_qb_invoice", "clear_qb_id"):
        assert FIX[fix].confirm is not None


def test_a_diagnosis_with_every_reason_fits_one_message():
    reasons = [
        Reason(r.code, "x" * 2900, EVIDENCE.get(r.code, {})) for r in REASONS if r.code != "load_not_found"
    ]
    message = diagnosis_message(Diagnosis("HB-2003", "problem", None, reasons, 1, NOW))
    assert len(message["blocks"]) <= 50
    assert validate_blocks(message["blocks"], "message") == []


def problems(count: int) -> list[Problem]:
    codes = [r.code for r in REASONS if r.code != "load_not_found"]
    return [
        Problem(f"L-{i:04d}", [Reason(codes[i % len(codes)], "s")], Decimal("1246.50"), NOW)
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [1, 20, 21, 500])
def test_the_problem_list_pages_within_slack_limits(count):
    pages = -(-count // 20)
    seen = set()
    for page in range(1, pages + 1):
        message = problems_message(problems(count), page)
        assert validate_blocks(message["blocks"], "message") == []
        seen |= {a for a in action_ids(message["blocks"]) if a.startswith("qbsync.diagnose")} and {
            e["value"]
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith("qbsync.diagnose")
        }
    assert len(seen) == count, "every load reachable through the pages"
    assert "$623,250.00" in str(problems_message(problems(500))["blocks"])


def test_no_problems_says_so():
    assert "No problem invoices" in problems_message([])["text"]


def test_status_home_help_and_progress_are_valid():
    connection = ConnectionStatus(ConnectionState.BROKEN, "123", None, None, "invalid_grant", None, None)
    status = Status(connection, None, None, 3, 1, 2, Decimal("10.00"), {"customer_not_synced": 2})
    message = status_message(status)
    assert validate_blocks(message["blocks"], "message") == []
    assert "fix.connect" in action_ids(message["blocks"])
    assert validate_view(home_view(status)) == []
    assert validate_blocks(help_message("That is not a load number")["blocks"], "message") == []
    assert validate_blocks(progress_message("qb_unavailable", 40, 120, 37, 3, "slack:T1:U1")["blocks"]) == []


def test_modals_are_valid():
    meta = metadata(load="HB-2003", fix="link_customer", url="http://127.0.0.1/response/x")
    options = [
        Option(str(i), f"Customer {i} " + "x" * 80, f"c{i}@x.example", suggested=i < 2) for i in range(150)
    ]
    for view in (
        customer_modal("HB-2003", "Acme", options[:100], meta),
        item_modal("HB-2003", [ItemChoice("FSC", "Fuel", "duplicate", options[:100])], meta),
        doc_number_modal("M2611-0417-TRANSLOAD-02", "M26110417TRANSLOAD02", meta),
        dismiss_modal("HB-2003", meta),
    ):
        assert validate_view(view) == [], view["title"]


def test_fix_results_show_the_outcome_and_the_fresh_diagnosis():
    after = Diagnosis("HB-2003", "synced", "42", [], 1, NOW)
    result = FixResult(
        "HB-2003", "link_customer", "applied", "Linked Acme to QuickBooks customer 6.", diagnosis=after
    )
    message = fix_result_message(result, "slack:T1:U0CLERK01")
    assert validate_blocks(message["blocks"]) == []
    text = str(message["blocks"])
    assert "Linked Acme" in text and "<@U0CLERK01>" in text and "synced" in text
    assert not [a for a in action_ids(message["blocks"]) if a.startswith("fix.")]


def test_surfaces_refuse_what_slack_would():
    with pytest.raises(SurfaceTooLarge):
        check_surface([{"type": "divider"}] * 51, 50)
    with pytest.raises(ValueError):
        check_surface([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}], 50)
    assert escape("<@U1> & <!here>") == "&lt;@U1&gt; &amp; &lt;!here&gt;"


def test_the_fallback_text_never_mentions_a_channel_or_links_what_came_from_outside():
    """Slack reads a message's fallback text as mrkdwn too: a load number or a message carrying
    ``<!channel>`` must not notify anyone from the notification text."""
    from bot.views.results import notice_message, refusal_message
    from services.access.roles import Refusal

    number = "<!channel> & <https://evil.example|pay>"
    texts = [
        diagnosis_message(Diagnosis(number, "not_found", None, [], qb_requests=0, checked_at=NOW))["text"],
        fix_result_message(FixResult(number, "retry", "failed", f"Load {number} still does not sync."), "U1")[
            "text"
        ],
        refusal_message(Refusal("clear_qb_id", f"Clearing {number} is for administrators.", ("U9",)))["text"],
        notice_message(f"Load {number}: not found")["text"],
    ]
    for text in texts:
        assert "<!channel>" not in text and "<https://" not in text, text
        assert "&lt;!channel&gt; &amp; &lt;https://evil.example|pay&gt;" in text, text
