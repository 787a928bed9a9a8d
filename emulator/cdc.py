"""Change data capture: what changed (or was deleted) since a moment, within the last 30 days.

``changedSince`` takes Intuit's forms: ``2026-12-03T10:00:00Z``, ``2026-12-03T10:00:00-08:00``,
``2026-12-03T10:00:00.123Z``, a date alone, or no offset (UTC). A ``+`` in the offset that reached
the server as a space (a client that did not URL-encode it) is read as ``+``. The comparison is
inclusive (``LastUpdatedTime >= changedSince``).

Each entity's objects -- changed ones and deletions (``{"Id", "status": "Deleted", "domain",
"MetaData"}``) together -- come oldest first by ``MetaData.LastUpdatedTime``, at most 1000 objects
in all per answer, so a client that got a full answer can ask again from the newest time it saw.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from typing import Any

from emulator import errors
from emulator.entities import canonical
from emulator.state import Realm
from emulator.timeutil import parse_datetime, utcnow

LOOKBACK = timedelta(days=30)
MAX_OBJECTS = 1000
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def _invalid(detail: str) -> errors.QBOError:
    return errors.QBOError(4001, "Invalid query", f"QueryValidationError: {detail}")


def parse_since(text: str) -> datetime:
    """``changedSince`` as an aware datetime; ValueError when it is not an ISO date-time."""
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    return parse_datetime(text)


def changes(realm: Realm, entities_param: str | None, changed_since: str | None) -> list[dict[str, Any]]:
    """The ``QueryResponse`` list of a CDC response (``[{}]`` when nothing changed)."""
    if not entities_param:
        raise errors.required_missing("entities")
    if not changed_since:
        raise errors.required_missing("changedSince")
    names: list[str] = []
    for raw in entities_param.split(","):
        name = canonical(raw)
        if name is None:
            raise _invalid(f"entity '{raw.strip()}' is not supported by change data capture")
        if name not in names:
            names.append(name)
    try:
        since = parse_since(changed_since)
    except ValueError as exc:
        raise _invalid(f"changedSince '{changed_since}' is not an ISO date-time") from exc
    if since < utcnow() - LOOKBACK:
        raise _invalid("changedSince must be within the last 30 days")

    def updated(record: dict[str, Any]) -> Any:
        return parse_datetime(record["MetaData"]["LastUpdatedTime"])

    remaining = MAX_OBJECTS
    responses: list[dict[str, Any]] = []
    for name in names:
        found = [r for r in realm.all(name) if updated(r) >= since]
        found += [t for t in realm.tombstones[name].values() if updated(t) >= since]
        found.sort(key=updated)
        objects = [copy.deepcopy(obj) for obj in found[:remaining]]
        remaining -= len(objects)
        if objects:
            responses.append(
                {name: objects, "startPosition": 1, "maxResults": len(objects), "totalCount": len(objects)}
            )
    return responses or [{}]
