"""One process of the test of QuickBooks' limits across processes (``test_shared_limits``): qbsync's own
wiring, configured by the environment like ``qbsync serve`` or ``clock``, sends ``COUNT`` requests to the
connected company from ``THREADS`` threads, patiently as a bulk sync does, every ``BATCH_EVERY``-th a
batch request. It says ``ready`` and starts when the file ``GO`` exists; then prints what it saw as JSON.

Run: ``python -m tests.reliability.hammer GO COUNT THREADS BATCH_EVERY``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from services.quickbooks import QboError
from wiring.services import bootstrap


def main(go: Path, count: int, threads: int, batch_every: int) -> dict:
    services = bootstrap()
    api = services.api
    limiter = api.limiter()  # the stored connection is read before the start
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    numbers = iter(range(count))
    lock = threading.Lock()
    errors: list[str] = []

    def work() -> None:
        with api.patient():
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                try:
                    if number % batch_every == 0:
                        api.batch([{"bId": "1", "Query": "SELECT * FROM CompanyInfo"}])
                    else:
                        api.query("SELECT * FROM CompanyInfo")
                except QboError as exc:
                    with lock:
                        errors.append(str(exc))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    services.close()
    return {"requests": api.request_count, "throttled": limiter.throttled_count, "errors": errors}


if __name__ == "__main__":
    go, count, threads, batch_every = sys.argv[1:5]
    print(json.dumps(main(Path(go), int(count), int(threads), int(batch_every))), flush=True)
