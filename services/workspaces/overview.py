"""What ``qbsync workspaces`` shows of each workspace, read from its own storage, and erasing one."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from services.store.models import Load, LoadState

log = logging.getLogger(__name__)
_LOADS = Load.__table__  # type: ignore[attr-defined]


def counts(engine) -> tuple[int, int]:
    """(loads, open problems) of one workspace's storage."""
    with engine.connect() as conn:
        loads = conn.execute(sa.select(sa.func.count()).select_from(_LOADS)).scalar_one()
        problems = conn.execute(
            sa.select(sa.func.count())
            .select_from(_LOADS)
            .where(_LOADS.c.state == LoadState.PROBLEM.value, _LOADS.c.dismissed_at.is_(None))
        ).scalar_one()
    return int(loads), int(problems)


def overview(root: Any) -> list[dict[str, Any]]:
    rows = []
    for workspace in root.registry.all():
        try:
            loads, problems = counts(root.tenancy.engine_for(workspace.storage))
        except sa.exc.SQLAlchemyError as exc:  # its storage is missing or not migrated: said, not hidden
            log.warning("workspace %s: its data cannot be read (%s)", workspace.team_id, type(exc).__name__)
            loads, problems = 0, 0
        rows.append(
            {
                "team_id": workspace.team_id,
                "name": workspace.name,
                "enterprise_id": workspace.enterprise_id,
                "realm_id": workspace.realm_id,
                "loads": loads,
                "open_problems": problems,
                "installed": workspace.installed,
                "installed_at": workspace.installed_at.isoformat() if workspace.installed_at else None,
                "uninstalled_at": workspace.uninstalled_at.isoformat() if workspace.uninstalled_at else None,
            }
        )
    return rows


def erase(root: Any, workspace: Any) -> bool:
    """Revoke ``workspace``'s QuickBooks grant (when it has one), then erase its data, its Slack
    installation and its row. Returns whether Intuit revoked a grant."""
    from services.store.models import ConnectionState

    scoped = root.for_workspace(workspace)
    revoked = False
    try:
        if scoped.connection.status().state is not ConnectionState.DISCONNECTED:
            revoked = bool(scoped.connection.disconnect())
    except Exception as exc:  # the data goes anyway; the grant lapses when Intuit next refuses it
        log.warning(
            "workspace %s: the QuickBooks grant was not revoked (%s)", workspace.team_id, type(exc).__name__
        )
    root.registry.delete(workspace.team_id)
    return revoked
