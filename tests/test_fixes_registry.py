"""The registry of fixes: one object per fix code, in the catalogue's order, each declaring what the
catalogue's words say of it (administrators only, the choice it asks), where it acts, and reading a
person's answer into the options of its runs."""

from __future__ import annotations

import pytest

from services import catalogue
from services.fixes.choice import ChoiceKind
from services.fixes.outcome import OutcomeKind
from services.fixes.registry import FIXES, REGISTRY, admin_only


def test_one_fix_object_per_fix_code_in_the_catalogues_order():
    assert tuple(fix.code for fix in FIXES) == catalogue.FIX_CODES
    assert all(REGISTRY[fix.code] is fix and fix.words is catalogue.FIX[fix.code] for fix in FIXES)


def test_the_fixes_declare_who_may_run_them_as_the_catalogue_words_it():
    assert {code for code, fix in REGISTRY.items() if fix.admin_only} == catalogue.ADMIN_ONLY - {"disconnect"}
    assert all(admin_only(code) == (code in catalogue.ADMIN_ONLY) for code in [*REGISTRY, "disconnect"])


def test_where_the_fixes_act():
    assert {code for code, fix in REGISTRY.items() if fix.company_wide} == {"enable_custom_txn_numbers"}
    assert {code for code, fix in REGISTRY.items() if fix.on_dismissed} == {"connect", "dismiss", "undismiss"}
    assert REGISTRY["connect"].claim_names("L-1") == ["fix-all:connect"]
    assert REGISTRY["enable_custom_txn_numbers"].claim_names("L-1") == [
        "fix:L-1",
        "fix-all:enable_custom_txn_numbers",
    ]
    assert REGISTRY["retry"].claim_names("L-1") == ["fix:L-1"]


def test_confirmations_are_the_catalogues_words():
    for code, fix in REGISTRY.items():
        assert fix.confirm("L-7") == catalogue.confirm_text(code, "L-7"), code


def test_the_choice_each_fix_asks_is_the_one_the_catalogue_names():
    for code, fix in REGISTRY.items():
        words = catalogue.FIX[code].choice
        assert (fix.choice.kind if fix.choice else None) == (ChoiceKind(words) if words else None), code


def test_outcome_kinds_are_the_words_of_the_json_and_the_audit():
    assert {kind.value for kind in OutcomeKind} == set(catalogue.OUTCOME_WORDS)


@pytest.mark.parametrize(
    ("code", "answers", "runs", "errors"),
    [
        ("link_customer", {"": "58"}, [{"customer_id": "58"}], {}),
        ("link_customer", {"": None}, [], {"": "Choose a QuickBooks customer."}),
        ("update_customer_email", {"": "AP@Acme.example"}, [{"email": "AP@Acme.example"}], {}),
        ("map_charge_code", {"FSC": "12", "BASE": None}, [{"code": "FSC", "item_id": "12"}], {}),
        ("map_charge_code", {"FSC": None}, [], {"FSC": "Choose an item for at least one charge code."}),
        ("map_charge_code", {}, [], {"": "Choose an item for at least one charge code."}),
        ("set_doc_number", {"": "L-1"}, [{"doc_number": "L-1"}], {}),
        ("set_doc_number", {"": "X" * 22}, [], {"": "1 to 21 printable characters."}),
        ("dismiss", {"": "invoiced by hand"}, [{"reason": "invoiced by hand"}], {}),
        ("dismiss", {"": ""}, [], {"": "Say why, in a few words."}),
    ],
)
def test_each_choice_reads_a_persons_answers_into_runs(code, answers, runs, errors):
    assert REGISTRY[code].choice.read(answers) == (runs, errors)


def test_a_bad_email_is_an_error_on_its_question():
    runs, errors = REGISTRY["update_customer_email"].choice.read({"": "not an email"})
    assert runs == [] and set(errors) == {""} and 0 < len(errors[""]) <= 150


def test_every_fix_but_connect_dismiss_and_retry_is_followed_by_a_sync():
    assert {code for code, fix in REGISTRY.items() if not fix.sync_after} == {"connect", "dismiss", "retry"}
