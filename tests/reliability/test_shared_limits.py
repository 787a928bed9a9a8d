"""QuickBooks' limits per company hold across processes: two real processes (qbsync's wiring, configured
by the environment as ``serve`` and ``clock`` are) hammer one company of the emulator at the same time,
patiently, as bulk syncs do. The emulator enforces Intuit's minute (a request over it is refused with a
429) and counts the requests in flight. With the budget shared through the database it refuses none and
never sees more in flight than the limit; with ``QBSYNC_QBO_SHARED_LIMITS=off`` each process keeps the
limits on its own, and together they break them — the same checks fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from emulator.server import EmulatorServer
from tests.conftest import TEST_SECRET_KEY

pytestmark = pytest.mark.reliability

SCALE = 10  # QuickBooks' minute lasts 6 s
REQUESTS, BATCHES, IN_FLIGHT = 60, 8, 3  # the company's limits, a minute
COUNT, THREADS, BATCH_EVERY = 60, 4, 10  # each process: 60 requests (6 of them batches) from 4 threads


@pytest.fixture
def company(database_url):
    """An emulator enforcing the limits (in flight: counted, refused only past three times the limit), a
    company connected in the database, and the environment a qbsync process reads."""
    from services.quickbooks import TokenSet
    from services.settings import load_settings
    from wiring.services import bootstrap

    with EmulatorServer(
        port=0,
        time_scale=SCALE,
        rate_limit=REQUESTS,
        batch_rate_limit=BATCHES,
        concurrency_limit=IN_FLIGHT * 3,
        latency_ms=20,
    ) as server:
        env = {
            "DATABASE_URL": database_url,
            "QBO_CLIENT_ID": "qbsync-test-client",
            "QBO_CLIENT_SECRET": "qbsync-test-secret",
            "QBO_API_BASE_URL": server.api_base,
            "INTUIT_DISCOVERY_URL": server.discovery_url,
            "QBSYNC_SECRET_KEY": TEST_SECRET_KEY,
            "QBSYNC_QBO_TIME_SCALE": str(SCALE),
            "QBSYNC_QBO_REQUESTS_PER_MINUTE": str(REQUESTS),
            "QBSYNC_QBO_BATCHES_PER_MINUTE": str(BATCHES),
            "QBSYNC_QBO_IN_FLIGHT": str(IN_FLIGHT),
        }
        services = bootstrap(load_settings(**env))
        grant = server.issue_tokens()
        tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, grant["realm_id"])
        services.connection.store(tokens, grant["realm_id"], "test")
        services.close()
        ours = ("QBO_", "QBSYNC_", "SLACK_", "INTUIT_")
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(ours) or k == "QBSYNC_TEST_DATABASE_URL"
        }
        yield server, {**inherited, **env}


def hammer_together(env: dict[str, str], go) -> list[dict]:
    """Two processes, started together once both are ready; what each saw."""
    command = [
        sys.executable,
        "-m",
        "tests.reliability.hammer",
        str(go),
        str(COUNT),
        str(THREADS),
        str(BATCH_EVERY),
    ]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        for process in processes:
            ready = process.stdout.readline().strip()
            assert ready == "ready", process.communicate(timeout=60)[1]
        go.touch()
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0 and "Traceback" not in err, err
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


@pytest.mark.parametrize("shared", ["on", "off"])
def test_two_processes_hammering_one_company_keep_its_limits_together(company, tmp_path, shared):
    server, env = company
    seen = hammer_together({**env, "QBSYNC_QBO_SHARED_LIMITS": shared}, tmp_path / "go")
    stats = server.stats()["realms"][server.realm_id]
    kept = stats["throttled"] == 0 and stats["max_in_flight"] <= IN_FLIGHT
    figure = (
        f"{stats['total_requests']} requests ({stats['batch_requests']} batches) from 2 processes, "
        f"{stats['throttled']} refused over the minute or in flight, at most {stats['max_in_flight']} in "
        f"flight (limits {REQUESTS} and {BATCHES} a minute, {IN_FLIGHT} in flight)"
    )
    if shared == "on":
        assert kept, figure
        assert [process["errors"] for process in seen] == [[], []]
        assert stats["total_requests"] == 2 * COUNT and stats["batch_requests"] == 2 * COUNT // BATCH_EVERY
        print(f"FIGURE shared limits: {figure}")
    else:
        assert not kept, (
            f"each process alone kept the limits: the test would not see the shared budget fail ({figure})"
        )
        print(f"FIGURE shared limits off: {figure}")
