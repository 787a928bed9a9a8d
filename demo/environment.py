"""Where the demo runs: a migrated SQLite file in a new temporary folder, the QuickBooks emulator on a
free port and qbsync's services configured for both (``demo_environment``), and what the story must
end with: every load synced, each load number on exactly one QuickBooks invoice (``final_state``)."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from services.quickbooks import RetryPolicy
from services.settings import Settings, load_settings
from services.store.models import Load
from services.store.storage import upgrade
from wiring.services import Services, bootstrap

ATTEMPTS = 3  # QuickBooks calls are tried this often before a throttle or an outage is reported


@dataclass
class DemoEnvironment:
    folder: Path
    emulator: Any  # emulator.server.EmulatorServer
    settings: Settings
    services: Services


@contextlib.contextmanager
def demo_environment(keep: bool = False) -> Iterator[DemoEnvironment]:
    """A migrated SQLite file in a new temporary folder, the emulator on a free port, and qbsync's
    services configured for both. Everything is stopped and removed afterwards (the folder is kept
    with ``keep``), also on errors and Ctrl-C."""
    # Imported here to keep start-up fast: only ``qbsync demo`` and the playground load the emulator.
    from emulator.server import EmulatorServer

    folder = Path(tempfile.mkdtemp(prefix="qbsync-demo-"))
    emulator = svc = None
    try:
        url = f"sqlite:///{folder / 'qbsync.db'}"
        upgrade(url)
        emulator = EmulatorServer(port=0).start()
        settings = load_settings(
            DATABASE_URL=url,
            QBO_CLIENT_ID="qbsync-demo",
            QBO_CLIENT_SECRET=secrets.token_urlsafe(24),
            QBO_API_BASE_URL=emulator.api_base,
            INTUIT_DISCOVERY_URL=emulator.discovery_url,
            QBSYNC_SECRET_KEY=secrets.token_urlsafe(32),
        )
        svc = bootstrap(settings, retry=RetryPolicy(attempts=ATTEMPTS, base_delay=0.02, max_delay=0.1))
        yield DemoEnvironment(folder, emulator, settings, svc)
    finally:
        if svc is not None:
            svc.close()
        if emulator is not None:
            emulator.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class FinalState:
    """Every load synced, and each load number on exactly one QuickBooks invoice — the load's own."""

    loads: int
    synced: int
    qb_invoices: int
    not_synced: list[str] = field(default_factory=list)
    numbered_twice: list[str] = field(default_factory=list)
    not_in_quickbooks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.synced == self.loads and not (self.numbered_twice or self.not_in_quickbooks)


def final_state(svc: Services) -> FinalState:
    with Session(svc.engine) as session:
        rows = session.exec(select(Load)).all()
        loads = [(row.load_number, row.state, row.qb_invoice_id) for row in rows]
        doc_numbers = {row.load_number: row.doc_number for row in rows}
    invoices = svc.api.query_all("Invoice")
    numbers = Counter(invoice.get("DocNumber") for invoice in invoices)
    by_id = {invoice["Id"]: invoice.get("DocNumber") for invoice in invoices}
    return FinalState(
        loads=len(loads),
        synced=sum(state == "synced" for _, state, _ in loads),
        qb_invoices=len(invoices),
        not_synced=[number for number, state, _ in loads if state != "synced"],
        numbered_twice=sorted(str(number) for number, count in numbers.items() if count > 1),
        not_in_quickbooks=[
            number for number, _, invoice_id in loads if by_id.get(invoice_id) != doc_numbers[number]
        ],
    )
