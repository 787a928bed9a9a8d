"""What the benchmarks share: a connected qbsync against an emulator, TMS data, and a table."""

from __future__ import annotations

import os
from typing import Any

from emulator.server import EmulatorServer

SECRET_KEY = "benchmark-secret-key-benchmark-secret-key"
CUSTOMERS = [{"id": f"C-{i}", "name": f"Customer {i}", "qb_email": f"ap{i}@example.com"} for i in range(20)]
CODES = [{"code": "BASE", "name": "Base Price"}, {"code": "FSC", "name": "Fuel Surcharge"}]


def environment(database_url: str, emu: EmulatorServer, **extra: str) -> dict[str, str]:
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return {
        "DATABASE_URL": database_url,
        "QBO_CLIENT_ID": "bench",
        "QBO_CLIENT_SECRET": "bench",
        "QBO_API_BASE_URL": emu.api_base,
        "INTUIT_DISCOVERY_URL": emu.discovery_url,
        "QBSYNC_SECRET_KEY": SECRET_KEY,
        **extra,
    }


def connected_services(env: dict[str, str], emu: EmulatorServer):
    from services.quickbooks import TokenSet
    from services.settings import load_settings
    from services.store.storage import upgrade
    from wiring.services import bootstrap

    upgrade(env["DATABASE_URL"])
    services = bootstrap(load_settings(**env))
    grant = emu.issue_tokens()
    tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, grant["realm_id"])
    services.connection.store(tokens, grant["realm_id"], "benchmark")
    return services


def loads(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "load_number": f"{prefix}-{i:05d}",
            "customer_id": f"C-{i % len(CUSTOMERS)}",
            "invoice_date": "2026-11-20",
            "charges": [{"code": "BASE", "amount": "850.00"}, {"code": "FSC", "amount": "127.50"}],
        }
        for i in range(count)
    ]


def seed_company(emu: EmulatorServer) -> None:
    emu.seed(
        {
            "customers": [
                {"DisplayName": c["name"], "PrimaryEmailAddr": {"Address": c["qb_email"]}} for c in CUSTOMERS
            ],
            "items": [{"Name": c["name"], "Type": "Service"} for c in CODES],
        }
    )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
