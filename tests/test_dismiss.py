"""``dismiss`` and ``undismiss``: a person marks a problem load as not to be synced, with a reason; it
leaves the problem list, the digest and automatic syncs, is listed as dismissed with who, when and
why, and comes back by ``undismiss`` or when the TMS changes it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from cli.main import qbsync
from services.diagnosis.problems import list_dismissed, list_problems
from services.digest.build import build_digest
from services.errors import UserInputError
from services.store.models import FixAudit
from tests.builders import CUSTOMERS, qb_company, qb_invoices, tms
from tests.builders import load as a_load

WHY = "cancelled load, no invoice"


def fix(svc, number: str, fix_code: str, actor: str = "U1", **options):
    return svc.fixer.apply(number, fix_code, actor, admin=True, **options)


@pytest.fixture
def stuck(connected, engine):
    """L-1 syncs; L-2 is for a customer QuickBooks does not know."""
    qb_company(connected.api)
    tms(
        engine,
        [a_load("L-1"), a_load("L-2", customer="C-300")],
        customers=[*CUSTOMERS, {"id": "C-300", "name": "Nobody Inc", "qb_email": None}],
    )
    connected.sync.sync_many(None, trigger="test")
    assert [p.load_number for p in list_problems(engine)] == ["L-2"]
    return connected


def test_dismiss_takes_the_load_out_of_problems_digest_and_automatic_syncs(stuck, engine):
    result = fix(stuck, "L-2", "dismiss", reason="  cancelled   load, no invoice ")
    assert result.outcome == "applied" and result.sync is None
    assert result.changes["dismissed"]["reason"] == WHY
    assert list_problems(engine) == []
    [dismissed] = list_dismissed(engine)
    assert (dismissed.load_number, dismissed.by, dismissed.why) == ("L-2", "U1", WHY)
    digest = build_digest(engine, today=dt.datetime.now(dt.UTC).date())
    assert (digest.open, digest.new, digest.by_reason, digest.dismissed) == (0, 0, {}, 1)
    assert stuck.sync.unsynced_load_numbers() == []

    explicit = stuck.sync.sync_load("L-2", trigger="test")
    assert "Dismissed by U1" in explicit.note and "undismiss" in explicit.note
    assert fix(stuck, "L-2", "retry").outcome == "refused"
    data = stuck.diagnoser.diagnose("L-2").to_dict()
    assert data["state"] == "problem"  # the contract's states; the dismissal is said beside them
    assert (data["dismissed"]["by"], data["dismissed"]["reason"]) == ("U1", WHY)

    again = fix(stuck, "L-2", "dismiss", reason=WHY)
    assert again.outcome == "unchanged"


def test_undismiss_restores_the_load_and_it_syncs_once_fixed(stuck, engine):
    fix(stuck, "L-2", "dismiss", reason=WHY)
    restored = fix(stuck, "L-2", "undismiss", actor="U2")
    assert restored.outcome == "applied" and "dismissed by U1" in restored.message
    assert [p.load_number for p in list_problems(engine)] == ["L-2"]
    assert list_dismissed(engine) == []
    assert fix(stuck, "L-2", "undismiss").outcome == "unchanged"
    customer = stuck.api.query_all("Customer")[0]
    assert fix(stuck, "L-2", "link_customer", customer_id=customer["Id"]).diagnosis.state == "synced"
    assert len(qb_invoices(stuck.api, "L-2")) == 1
    with Session(engine) as session:
        audits = [(a.actor, a.fix, a.outcome) for a in session.exec(select(FixAudit).order_by(FixAudit.id))]
    assert audits[:3] == [
        ("U1", "dismiss", "applied"),
        ("U2", "undismiss", "applied"),
        ("U1", "undismiss", "unchanged"),
    ]


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 201, "bell\x07"])
def test_a_dismissal_needs_a_short_reason(stuck, reason):
    with pytest.raises(UserInputError):
        fix(stuck, "L-2", "dismiss", reason=reason)


def test_a_synced_load_is_not_dismissed(stuck):
    result = fix(stuck, "L-1", "dismiss", reason=WHY)
    assert result.outcome == "refused" and "synced" in result.message


def test_a_dismissed_load_changed_in_the_tms_comes_back_with_a_note(stuck, engine):
    fix(stuck, "L-2", "dismiss", reason=WHY)
    tms(engine, [a_load("L-2", customer="C-300")])  # the same data: still dismissed
    assert [d.load_number for d in list_dismissed(engine)] == ["L-2"]
    from services.tms.importer import import_data

    summary = import_data(engine, {"loads": [a_load("L-2", customer="C-300", charges=[("BASE", "1.00")])]})
    assert summary.restored == ["L-2"] and summary.as_dict()["restored"] == ["L-2"]
    assert list_dismissed(engine) == []
    assert stuck.sync.unsynced_load_numbers() == ["L-2"]
    note = stuck.diagnoser.diagnose("L-2").note
    assert "Changed in the TMS after it was dismissed" in note and WHY in note
    with Session(engine) as session:
        audit = session.exec(select(FixAudit).order_by(FixAudit.id.desc())).first()
    assert (audit.fix, audit.actor, audit.changes["changed_in_tms"]) == ("undismiss", "import", True)


def test_dismiss_and_undismiss_through_the_command_line(stuck, env, engine):
    runner = CliRunner()
    assert runner.invoke(qbsync, ["fix", "L-2", "dismiss"]).exit_code == 2  # the reason is required
    done = runner.invoke(qbsync, ["fix", "L-2", "dismiss", "--reason", WHY])
    assert done.exit_code == 0 and "Dismissed load L-2" in done.output
    assert "Dismissed by cli on " in done.output and f"— {WHY}" in done.output

    listed = runner.invoke(qbsync, ["problems"]).output
    assert "No problem invoices." in listed and "Dismissed (not to be synced) — 1 load" in listed
    assert WHY in listed and "by cli" in listed
    data = json.loads(runner.invoke(qbsync, ["problems", "--json"]).output)
    assert data["problems"] == [] and [d["load_number"] for d in data["dismissed"]] == ["L-2"]
    assert set(data["dismissed"][0]) == {"load_number", "reasons", "amount", "by", "at", "reason"}
    assert "Open problem invoices" not in runner.invoke(qbsync, ["digest"]).output

    synced = runner.invoke(qbsync, ["sync", "--all"])
    assert "Nothing to sync" in synced.output
    named = runner.invoke(qbsync, ["sync", "L-2"])
    assert "Dismissed by cli" in named.output and "undismiss" in named.output
    assert json.loads(runner.invoke(qbsync, ["diagnose", "L-2", "--json"]).output)["dismissed"]["by"] == "cli"

    again = runner.invoke(qbsync, ["fix", "L-2", "dismiss", "--reason", WHY, "--json"])
    assert json.loads(again.output)["outcome"] == "unchanged"
    back = runner.invoke(qbsync, ["fix", "L-2", "undismiss", "--json"])
    assert json.loads(back.output)["outcome"] == "applied"
    assert "L-2" in runner.invoke(qbsync, ["problems"]).output
    assert (
        json.loads(runner.invoke(qbsync, ["fix", "L-2", "undismiss", "--json"]).output)["outcome"]
        == "unchanged"
    )


def test_the_import_command_says_which_dismissed_loads_came_back(stuck, env, tmp_path):
    fix(stuck, "L-2", "dismiss", reason=WHY)
    changed = tmp_path / "loads.json"
    changed.write_text(json.dumps({"loads": [a_load("L-2", customer="C-300", charges=[("BASE", "2.00")])]}))
    out = CliRunner().invoke(qbsync, ["import", str(changed)])
    assert out.exit_code == 0, out.output
    assert "Dismissed loads changed in the TMS, back in the problem list: L-2" in out.output
    shown = CliRunner().invoke(qbsync, ["diagnose", "L-2"]).output
    assert "Changed in the TMS after it was dismissed (dismissed by U1: cancelled load" in shown
