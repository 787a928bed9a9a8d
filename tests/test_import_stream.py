"""Importing a file one record at a time: the same problems and the same writes as a parsed document,
whatever the chunk boundaries, and memory that does not follow the number of loads."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa

import services.tms.importer as importer
import services.tms.stream as import_stream
import services.tms.writing as writing
from services.store.models import ChargeLine, Load
from services.tms.importer import import_data, import_file
from services.tms.problems import ImportFileError
from tests.test_import import good, mark_synced, snapshot


@pytest.fixture
def seeded(engine):
    import_data(engine, good())
    mark_synced(engine)
    return engine


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Read 7 bytes at a time: every token, number and multi-byte character gets cut somewhere."""
    monkeypatch.setattr(import_stream, "CHUNK", 7)


def _file(tmp_path, content: Any, name: str = "tms.json") -> Any:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=1), encoding="utf-8")
    return path


def _problems(call) -> list[tuple[str, str | None, str]]:
    with pytest.raises(ImportFileError) as caught:
        call()
    return [(p.record, p.field, p.message) for p in caught.value.problems]


def _bad_documents() -> dict[str, Any]:
    unknown = good()
    unknown["lods"] = [1]
    unknown["zz"] = {}
    not_lists = good()
    not_lists["customers"] = {"id": "C-1"}
    not_lists["loads"] = 12345
    fields = good()
    fields["loads"][0]["charges"][1]["amount"] = 127.5
    fields["loads"][1]["customerId"] = "C-200"
    fields["customers"][1]["qb_email"] = "nobody"
    references = good()
    references["loads"][0]["customer_id"] = "C-999"
    references["loads"][1]["charges"][0]["code"] = "NOPE"
    references["customers"][0]["name"] = ""  # invalid, but its id still counts as present
    duplicates = good()
    duplicates["loads"].append(dict(duplicates["loads"][0]))
    duplicates["loads"].append("not a load")
    reordered = {"loads": references["loads"], "charge_codes": [], "customers": fields["customers"]}
    return {
        "unknown-sections": unknown,
        "not-lists": not_lists,
        "fields": fields,
        "references": references,
        "duplicates": duplicates,
        "sections-in-another-order": reordered,
    }


@pytest.mark.parametrize("name", list(_bad_documents()))
def test_a_streamed_file_reports_what_a_parsed_document_reports(seeded, tmp_path, tiny_chunks, name):
    document = _bad_documents()[name]
    before = snapshot(seeded)
    parsed = _problems(lambda: import_data(seeded, document))
    streamed = _problems(lambda: import_file(seeded, _file(tmp_path, document)))
    assert streamed == parsed
    assert snapshot(seeded) == before


def test_a_streamed_file_writes_what_a_parsed_document_writes(engine, tmp_path, tiny_chunks):
    data = good()
    data["loads"][0]["charges"][0]["description"] = "Drayage — Port of Long Beach, 40′ ✓ 𝄞"
    data["loads"][1]["load_number"] = "L-“1002”\\"
    reordered = {"loads": data["loads"], "charge_codes": data["charge_codes"], "customers": data["customers"]}
    summary = import_file(engine, _file(tmp_path, reordered))
    assert summary.as_dict()["loads"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert summary.written == ["L-1001", "L-“1002”\\"]
    again = import_data(engine, data)
    assert not again.changed
    with engine.connect() as conn:
        descriptions = conn.scalars(sa.select(ChargeLine.__table__.c.description)).all()  # type: ignore[attr-defined]
    assert "Drayage — Port of Long Beach, 40′ ✓ 𝄞" in descriptions


def test_a_duplicated_section_is_a_duplicate_key(engine, tmp_path):
    content = '{"loads": [], "customers": [{"id": "C-1", "id": "C-1", "name": "A"}], "loads": []}'
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, _file(tmp_path, content))
    assert [p.message for p in caught.value.problems] == [
        "an object has the key 'id' more than once",
        "an object has the key 'loads' more than once",
    ]


def test_loads_are_written_in_chunks_inside_one_transaction(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "WRITE_CHUNK", 3)
    data = good()
    data["loads"] = [dict(data["loads"][0], load_number=f"L-{i}") for i in range(10)]
    calls = []
    write_loads = writing._write_loads

    def counting(conn, records, *args):
        calls.append(len(records))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return write_loads(conn, records, *args)

    monkeypatch.setattr(writing, "_write_loads", counting)
    with pytest.raises(RuntimeError):
        import_file(engine, _file(tmp_path, data))
    assert calls == [3, 3, 3]
    with engine.connect() as conn:  # the first two chunks were rolled back with the rest
        assert conn.scalar(sa.select(sa.func.count()).select_from(Load.__table__)) == 0  # type: ignore[attr-defined]


_PEAK = """
import sys, tracemalloc
import services.tms.importer as importer
from services.store.storage import make_engine

importer.WRITE_CHUNK = 500
engine = make_engine(sys.argv[1])
tracemalloc.start()
summary = importer.import_file(engine, sys.argv[2])
print(tracemalloc.get_traced_memory()[1], summary.loads.created)
"""


def _peak_import(engine, tmp_path, count: int) -> int:
    """The import's peak traced memory, measured in a process of its own: threads other tests left
    running here (servers, listeners) would be traced too."""
    data = good()
    data["loads"] = [dict(data["loads"][0], load_number=f"M-{count}-{i:06d}") for i in range(count)]
    path = _file(tmp_path, data, f"loads-{count}.json")
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, url, str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    peak, created = (int(word) for word in done.stdout.split())
    assert created == count
    return peak


def test_memory_does_not_follow_the_number_of_loads(engine, tmp_path):
    small = _peak_import(engine, tmp_path, 1000)
    large = _peak_import(engine, tmp_path, 4000)
    print(f"peak traced memory: 1,000 loads {small / 1e6:.1f} MB, 4,000 loads {large / 1e6:.1f} MB")
    # Four times the loads: only what is kept of each (its key and bookkeeping, about 400 bytes) adds
    # up; the records do not (the parsed JSON alone takes 1.1 kB a load, its validated records more).
    assert large < small + 3000 * 800, (small, large)


def test_the_import_reads_a_private_copy_so_an_edit_between_its_passes_changes_nothing(tmp_path):
    from services.tms.reading import open_source

    path = tmp_path / "loads.json"
    path.write_bytes(b'{"customers": []}')
    source, stream = open_source(path)
    with stream:
        path.write_bytes(b'{"customers": [{"id": "C-1", "name": "Edited meanwhile"}]}')
        assert source == str(path) and stream.read() == b'{"customers": []}'
