"""The query log: the last query statements an emulator answered, with what each was parsed into."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from emulator.query_model import Query


class QueryLog:
    """The last ``limit`` query statements and what each was parsed into: its entity and, per condition,
    the property, operator and literal values as written, unescaped (so a test can see that a value
    arrived as one literal), or the fault it gave. Kept per emulator; ``GET /_emulator/queries``
    returns it."""

    def __init__(self, limit: int = 5000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)

    def record(self, realm_id: str, text: str, query: Query | None, fault: str | None = None) -> None:
        entry: dict[str, Any] = {"realm_id": realm_id, "text": text}
        if query is not None:
            entry["entity"] = query.entity
            entry["conditions"] = [
                {"field": c.field, "op": c.op, "values": [_shown(v) for v in c.literals]}
                for c in query.conditions
            ]
        else:
            entry["fault"] = fault
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _shown(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | str) else str(value)
