"""Which workspace a link or a notification is for, when it comes back without a Slack request around
it: a Connect ticket and Intuit's OAuth state carry their workspace in front (``T0123ABCD.<secret>``);
the secret part is what is stored, as a digest, in that workspace's own storage, so changing the team in
front only sends the link to a workspace that never issued it."""

from __future__ import annotations

from typing import Any

from services.settings import TEAM_ID

SEPARATOR = "."


def tagged(services: Any, value: str) -> str:
    """``value`` with the workspace of ``services`` in front (distribution mode), or as it is."""
    workspace = services.workspace
    if workspace is None or not services.settings.distribution:
        return value
    return f"{workspace.team_id}{SEPARATOR}{value}"


def route(root: Any, value: str | None) -> tuple[Any, str | None]:
    """(the services of the workspace ``value`` names, ``value`` without it). In single-workspace mode
    the deployment's own services and ``value`` unchanged; a value naming no known workspace goes to
    the deployment's, where it is unknown (refused there as any made-up value is)."""
    if not root.settings.distribution or not value or SEPARATOR not in value:
        return root, value
    team, rest = value.split(SEPARATOR, 1)
    scoped = root.workspace_of(team) if TEAM_ID.fullmatch(team) else None
    return (scoped, rest) if scoped is not None else (root, value)


def services_for_realm(root: Any, realm_id: str) -> Any | None:
    """The services of the workspace QuickBooks company ``realm_id`` belongs to: in distribution mode the
    workspace it is bound to, in single-workspace mode the deployment's when it is the company connected;
    None for a company qbsync does not follow."""
    if root.settings.distribution:
        workspace = root.registry.by_realm(realm_id)
        return root.for_workspace(workspace) if workspace is not None else None
    return root if root.connection.status().realm_id == realm_id else None


def tms_url(settings: Any, key: str | None) -> str | None:
    """The TMS webhook URL of a workspace whose key is ``key`` (None without a key or a public address)."""
    public = (settings.public_url or "").rstrip("/")
    return f"{public}/tms/events/{key}" if key and public else None
