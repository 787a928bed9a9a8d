"""A workspace's settings: what its administrators chose in Slack (App Home), laid over the deployment's
environment. In distribution mode who may fix and administer, and the digest channel, are each
workspace's own: the deployment's ``QBSYNC_FIXERS``, ``QBSYNC_ADMINS`` and ``QBSYNC_DIGEST_CHANNEL``
name one workspace's people and channel, so they apply only to single-workspace mode. The digest's time
and time zone default to the deployment's."""

from __future__ import annotations

from typing import Any

from services.settings import Settings


def workspace_settings(settings: Settings, workspace: Any) -> Settings:
    chosen = dict(workspace.settings)
    update: dict[str, Any] = {}
    if settings.distribution or workspace.storage is not None:
        fixers = chosen.get("fixers")
        update["fixers"] = tuple(fixers) if fixers is not None else None
        update["admins"] = tuple(chosen.get("admins") or ())
        update["digest_channel"] = chosen.get("digest_channel")
    else:  # the workspace of single mode: the environment, unless chosen in Slack
        for name in ("fixers", "admins"):
            if chosen.get(name) is not None:
                update[name] = tuple(chosen[name])
        if chosen.get("digest_channel"):
            update["digest_channel"] = chosen["digest_channel"]
    for name in ("digest_time", "timezone"):
        if chosen.get(name):
            update[name] = chosen[name]
    update["workspace"] = workspace.team_id
    return settings.model_copy(update=update)
