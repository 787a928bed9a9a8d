"""Pushing loads' invoices to QuickBooks exactly once, and naming the reason for every failure.

- ``engine.py``: ``SyncEngine`` — one load (``sync_load``), many (``sync_many``), reconcile;
- ``checks.py``: the checks of a push (numbering, customer, charge codes, a synced invoice's drift);
- ``stored.py``: what the store says of loads without asking QuickBooks (last result, loads to sync);
- ``batch.py``: invoices created 30 to a batch request, each item's answer mapped like a single create's;
- ``claims.py``: one worker per load at a time, for one load or a whole batch;
- ``loads.py``: what a push reads of a load, one load or a batch in a few statements;
- ``record.py``: what a push found, written in one short transaction per load or per batch;
- ``answers.py``: the reasons QuickBooks' answers stand for (``classify``);
- ``results.py``: ``SyncResult``, ``LoadView``, ``Outcome`` and the request ids.
"""

from services.sync.answers import classify, drift_reasons, duplicate_reason, not_connected_reason
from services.sync.claims import CLAIM_LEASE
from services.sync.engine import SyncEngine
from services.sync.results import LoadView, Outcome, SyncResult, batch_request_id, request_id_for

__all__ = [
    "CLAIM_LEASE",
    "LoadView",
    "Outcome",
    "SyncEngine",
    "SyncResult",
    "batch_request_id",
    "classify",
    "drift_reasons",
    "duplicate_reason",
    "not_connected_reason",
    "request_id_for",
]
