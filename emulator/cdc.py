"""Change data capture: what changed (or was deleted) since a moment, within the last 30 days."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from emulator import errors
from emulator.entities import canonical
from emulator.state import Realm
from emulator.timeutil import parse_datetime, utcnow

LOOKBACK = timedelta(days=30)
MAX_OBJECTS = 1000


def _invalid(detail: str) -> errors.QBOError:
    return errors.QBOError(4001, "Invalid query", f"QueryValidationError: {detail}")


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
        since = parse_datetime(changed_since)
    except ValueError as exc:
        raise _invalid(f"changedSince '{changed_since}' is not an ISO date-time") from exc
    if since < utcnow() - LOOKBACK:
        raise _invalid("changedSince must be within the last 30 days")

    def updated(record: dict[str, Any]) -> Any:
        return parse_datetime(record["MetaData"]["LastUpdatedTime"])

    remaining = MAX_OBJECTS
    responses: list[dict[str, Any]] = []
    for name in names:
        live = sorted((r for r in realm.all(name) if updated(r) >= since), key=updated)
        dead = sorted((t for t in realm.tombstones[name].values() if updated(t) >= since), key=updated)
        objects = [copy.deepcopy(obj) for obj in (live + dead)[:remaining]]
        remaining -= len(objects)
        if objects:
            responses.append(
                {name: objects, "startPosition": 1, "maxResults": len(objects), "totalCount": len(objects)}
            )
    return responses or [{}]
