"""The one catalogue of words: every reason and every fix code has its words, every fix the Fixer
implements is in it (and nothing else), and evidence never shows ``True``, ``None`` or empty lists."""

from __future__ import annotations

import datetime as dt

import pytest

from services import catalogue
from services.diagnosis import reasons
from services.fixes.registry import REGISTRY

CONTRACT_REASONS = {
    "qb_not_connected",
    "customer_not_synced",
    "charge_codes_not_synced",
    "customer_changed",
    "duplicate_load_number",
    "doc_number_too_long",
    "custom_txn_numbers_off",
    "qb_invoice_deleted",
    "amount_mismatch",
    "qb_validation_error",
    "qb_throttled",
    "qb_unavailable",
    "load_not_found",
    "qb_invoice_voided",
}
CONTRACT_FIXES = {
    "connect",
    "link_customer",
    "create_customer",
    "update_customer_email",
    "resync_charge_codes",
    "map_charge_code",
    "push_customer_change",
    "push_invoice_update",
    "adopt_qb_invoice",
    "clear_qb_id",
    "set_doc_number",
    "enable_custom_txn_numbers",
    "dismiss",
    "undismiss",
    "retry",
}


def implemented_fixes() -> set[str]:
    return {code for code, fix in REGISTRY.items() if fix.code == code and callable(fix.apply)}


def test_every_reason_code_has_words_and_nothing_else_does():
    assert set(catalogue.REASON) == CONTRACT_REASONS == set(reasons.REASON)
    for words in catalogue.REASONS:
        assert words.title and words.by_hand, words.code
        assert all(step.strip() for step in words.by_hand)


def test_every_fix_the_fixer_implements_has_words_and_every_word_a_fix():
    assert set(catalogue.FIX) == CONTRACT_FIXES == implemented_fixes()
    assert tuple(words.code for words in catalogue.FIXES) == catalogue.FIX_CODES
    for words in catalogue.FIXES:
        assert words.label and len(words.label) <= 75 and words.done, words.code
        if words.confirm:
            assert len(words.confirm.title) <= 100 and len(words.confirm.text) <= 300


def test_every_reason_names_fixes_that_exist_and_only_load_not_found_has_none():
    for words in catalogue.REASONS:
        assert set(words.fixes) <= set(catalogue.FIX), words.code
        assert bool(words.fixes) == (words.code != "load_not_found"), words.code


def test_admin_only_is_the_contracts():
    assert {"clear_qb_id", "enable_custom_txn_numbers", "disconnect"} == catalogue.ADMIN_ONLY


@pytest.mark.parametrize(
    ("code", "evidence"),
    [
        ("custom_txn_numbers_off", {"preference": "SalesFormsPrefs.CustomTxnNumbers", "value": False}),
        (
            "charge_codes_not_synced",
            {"charge_codes": [{"code": "FSC", "name": "Fuel", "problem": "missing", "qb_items": []}]},
        ),
        ("qb_validation_error", {"qb_code": "6210", "detail": "closed", "element": None, "extra": []}),
        ("load_not_found", {"load_number": "X", "near_matches": []}),
        (
            "doc_number_too_long",
            {"load_number": "A" * 22, "length": 22, "max": 21, "suggested_doc_number": "A"},
        ),
        ("amount_mismatch", {"qb_invoice_id": "7", "qb_total": "1246.5", "tms_total": "12"}),
        ("qb_unavailable", {"active": True, "values": [], "nothing": None}),
    ],
)
def test_evidence_is_plain_words(code, evidence):
    lines = catalogue.evidence_lines(code, evidence)
    text = " ".join(f"{label}: {value}" for label, value in lines)
    for leak in ("True", "False", "None", "[]", "{}"):
        assert leak not in text, text
    assert all(value.strip() for _, value in lines)
    if code == "amount_mismatch":
        assert "$1,246.50" in text and "$12.00" in text


def test_money_and_times_one_way():
    assert catalogue.money("1246.5") == "$1,246.50"
    assert catalogue.money(-12) == "-$12.00"
    assert catalogue.when(dt.datetime(2026, 11, 27, 14, 3, tzinfo=dt.UTC)) == "2026-11-27 14:03 UTC"
    assert catalogue.when(None) == "unknown"
    assert catalogue.plural(1, "load") == "1 load" and catalogue.plural(2, "load") == "2 loads"
