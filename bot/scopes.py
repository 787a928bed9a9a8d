"""The bot scopes qbsync needs — the list in manifest.yml (a test keeps the two the same) — and what a
token lacks, from the ``x-oauth-scopes`` header Slack sends with every Web API answer
(https://docs.slack.dev/reference/methods/auth.test)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

BOT_SCOPES: tuple[str, ...] = (
    "commands",  # the /qbsync slash command
    "chat:write",  # diagnoses, fix outcomes, progress and the daily digest
    "chat:write.public",  # the digest in a public channel the app has not joined
    "files:write",  # the digest's chart
    "channels:history",  # after a crash, find a digest already posted instead of posting it twice
    "groups:history",  # the same in a private channel
    "channels:read",  # check the digest channel before posting
    "groups:read",  # the same for a private channel
    "channels:join",  # join a public digest channel by itself
)


def granted_scopes(headers: Mapping[str, Any]) -> set[str] | None:
    """The token's scopes from an answer's headers (None when Slack did not say)."""
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list | tuple) else value
            return {scope.strip() for scope in str(text).split(",") if scope.strip()}
    return None


def missing_scopes(granted: Iterable[str]) -> list[str]:
    """The bot scopes of the manifest that the token does not hold, in the manifest's order."""
    have = set(granted)
    return [scope for scope in BOT_SCOPES if scope not in have]
