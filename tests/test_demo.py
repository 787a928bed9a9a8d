"""``qbsync demo`` end to end: every reason of the contract occurs, every problem load is fixed through
the fix service, and the run ends with every load synced once — leaving nothing behind."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import qbsync
from services.catalogue import REASONS


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of this test go here, so leftovers can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_demo_shows_every_reason_fixes_them_all_and_cleans_up(cli_env, temp_dir, tmp_path, monkeypatch):
    users_db = tmp_path / "users.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{users_db}")
    result = CliRunner().invoke(qbsync, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    missing = [info.code for info in REASONS if f"[{info.code}]" not in out]
    assert missing == []
    assert re.search(r"All (\d+) loads synced, each once in QuickBooks\.", out)
    assert "load numbers used twice: none" in out
    assert "Choosing QuickBooks item" in out and "Choosing QuickBooks customer" in out
    assert "did you mean M" in out  # the mistyped load number finds its near match
    assert "Traceback" not in result.output
    for fix in ("set_doc_number", "enable_custom_txn_numbers", "dismiss", "undismiss"):
        assert f"[{fix}]: done" in out, fix  # every new fix through the fix service
    assert "Dismissed (not to be synced) — 2 loads" in out
    assert "Changed in the TMS after it was dismissed" in out
    assert "Problems that started today:" in out and "Fixed today:" in out
    for leak in ("True", "False", "None", "[]", "(s)", "qb items"):
        assert leak not in out, leak
    assert re.search(r"\$\d{1,3}(,\d{3})*\.\d{2}", out)
    assert not re.search(r"\$\d{4}", out)  # money one way: $1,246.50
    assert [line for line in out.splitlines() if len(line) > 100] == []
    assert list(temp_dir.iterdir()) == []
    assert not users_db.exists()  # the user's own database is never touched


def test_keep_leaves_the_database_for_inspection(cli_env, temp_dir):
    result = CliRunner().invoke(qbsync, ["demo", "--keep"])
    assert result.exit_code == 0, result.output
    [folder] = temp_dir.iterdir()
    assert (folder / "qbsync.db").is_file()
    assert f"kept the database in {folder}" in result.stdout


@pytest.mark.parametrize(("error", "code"), [(RuntimeError("boom"), 1), (KeyboardInterrupt(), 130)])
def test_a_failure_or_ctrl_c_still_stops_the_emulator_and_removes_the_folder(
    cli_env, temp_dir, monkeypatch, error, code
):
    servers = []

    def fail(env, out, today=None):
        servers.append(env.emulator)
        raise error

    monkeypatch.setattr("cli.demo.run_demo", fail)
    result = CliRunner().invoke(qbsync, ["demo"])
    assert result.exit_code == code
    assert "Traceback" not in result.output
    assert list(temp_dir.iterdir()) == []
    with pytest.raises(OSError):
        servers[0].stats()  # nothing answers on its port any more
