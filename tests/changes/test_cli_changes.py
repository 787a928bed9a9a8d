"""``qbsync changes`` in a real process, with the environment a user sets: the first run reads every
synced invoice back, the next reads what changed; JSON as the README says; not connected → exit 1 with
the reason, no traceback."""

from __future__ import annotations

import json

from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.test_cli_sync import qbsync_process


def test_changes_reads_everything_once_then_what_changed(env, connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("CL-1"), a_load("CL-2")])
    results = {r.load_number: r for r in connected.sync.sync_many(None, trigger="test")}
    first = qbsync_process(env, "changes", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["mode"] == "full"
    gone = connected.api.read("Invoice", results["CL-2"].qb_invoice_id)
    connected.api.delete("Invoice", gone["Id"], gone["SyncToken"])
    second = qbsync_process(env, "changes", "--json")
    answer = json.loads(second.stdout)
    assert (answer["mode"], answer["requests"]) == ("changes", 1)
    assert answer["problems"] == [{"load_number": "CL-2", "reason": "qb_invoice_deleted"}]
    text = qbsync_process(env, "changes")
    # the same objects read again (the overlap kept for clocks that disagree): nothing new
    assert text.returncode == 0 and "read in 1 request: 0 new problems" in text.stdout, text.stdout


def test_changes_without_a_connection_says_why(env):
    done = qbsync_process(env, "changes")
    assert done.returncode == 1
    assert "skipped: QuickBooks is not connected" in done.stdout
    assert "Traceback" not in done.stderr
