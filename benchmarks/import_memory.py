"""Peak memory and time of ``qbsync import FILE`` for 20,000 and 120,000 new loads (two charges each),
each run in a fresh process on a fresh SQLite database, beside a baseline measured in the same run:
``json.load`` of the same file alone (no validation, nothing written).

Run: ``.venv/bin/python -m benchmarks.import_memory [--loads 20000 120000]``. Target: memory flat in
the number of loads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import CODES, CUSTOMERS, loads, table

# Each child prints "<peak RSS in kB> <seconds>". The peak is the kernel's VmHWM, which starts afresh
# at exec (``ru_maxrss`` would keep the high-water mark of the parent forked before it).
_PEAK = """
def peak():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""

_BASELINE = (
    _PEAK
    + """
import json, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = json.load(f)
elapsed = time.perf_counter() - start
print(peak(), elapsed)
"""
)

_IMPORT = (
    _PEAK
    + """
import sys, time
from services.tms.importer import import_file
from services.store.storage import make_engine, upgrade
url = "sqlite:///" + sys.argv[2]
upgrade(url)
engine = make_engine(url)
before = peak()
start = time.perf_counter()
summary = import_file(engine, sys.argv[1])
elapsed = time.perf_counter() - start
assert summary.loads.created == int(sys.argv[3]), summary.as_dict()
print(peak(), elapsed, before)
"""
)


def write_file(path: Path, count: int) -> int:
    document = {"customers": CUSTOMERS, "charge_codes": CODES, "loads": loads("IM", count)}
    path.write_text(json.dumps(document))
    return path.stat().st_size


def run(code: str, *args: str) -> list[float]:
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, env=env
    ).stdout
    return [float(x) for x in out.split()]


def main(argv: list[str] | None = None) -> list[list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, nargs="+", default=[20000, 120000])
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="qbsync-import-bench-") as tmp:
        for count in args.loads:
            path = Path(tmp) / f"loads-{count}.json"
            size = write_file(path, count)
            base_kb, base_s = run(_BASELINE, str(path))
            ours_kb, ours_s, start_kb = run(
                _IMPORT, str(path), str(Path(tmp) / f"db-{count}.sqlite"), str(count)
            )
            rows.append(
                [
                    f"{count:,} loads ({size / 1e6:.0f} MB)",
                    f"{ours_kb / 1024:.0f} MB",
                    f"{(ours_kb - start_kb) / 1024:.0f} MB",
                    f"{ours_s:.1f} s",
                    f"{base_kb / 1024:.0f} MB",
                    f"{base_s:.1f} s",
                ]
            )
    headers = ["import", "peak RSS", "above start", "time", "json.load alone: peak", "time"]
    print(table(headers, rows))
    return rows


if __name__ == "__main__":
    main()
