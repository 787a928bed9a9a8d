"""The words of the daily digest's channel: why Slack refused it and what to do, scopes the bot token
lacks, and a digest posted on request."""

from __future__ import annotations

from typing import Any

TOKEN_REFUSALS = ("invalid_auth", "token_revoked", "account_inactive", "not_authed")


def digest_channel_fix(problem: str, channel: str, *, bot: str = "qbsync", needed: str | None = None) -> str:
    """What a person does so the digest reaches ``channel`` (a label: ``#billing``), given Slack's
    refusal ``problem``; ``needed``: the missing scope when ``problem`` is ``missing_scope``."""
    if problem in ("channel_not_found", "not_in_channel"):
        return f"invite @{bot} to {channel} (type `/invite @{bot}` in that channel)"
    if problem == "is_archived":
        return f"{channel} is archived: unarchive it, or set QBSYNC_DIGEST_CHANNEL to another channel"
    if problem == "missing_scope":
        scope = needed or "a scope"
        also = f", or invite @{bot} to {channel}" if scope == "channels:join" else ""
        return (
            f"add the {scope} scope to the app (manifest.yml, OAuth & Permissions), reinstall it and "
            f"set the new SLACK_BOT_TOKEN{also}"
        )
    if problem in TOKEN_REFUSALS:
        return f"Slack refused SLACK_BOT_TOKEN ({problem}): reinstall the app and set the new SLACK_BOT_TOKEN"
    return f"Slack refused ({problem})"


def digest_channel_notice(
    problem: str, channel: str, *, bot: str = "qbsync", needed: str | None = None
) -> str:
    """One sentence: why the daily digest does not reach ``channel``, and what to do."""
    fix = digest_channel_fix(problem, channel, bot=bot, needed=needed)
    return f"The daily digest cannot reach {channel} ({problem}): {fix}."


def digest_chart_missing(error: str) -> str:
    return f"the chart was not attached (Slack answered {error})"


def missing_scopes_notice(missing: list[str]) -> str:
    """One line: the bot token lacks scopes of manifest.yml, and how to grant them."""
    return (
        f"SLACK_BOT_TOKEN lacks the scope{'s' if len(missing) > 1 else ''} {', '.join(missing)}: add "
        "them to the app (OAuth & Permissions, or paste manifest.yml again), reinstall it and set the "
        "new SLACK_BOT_TOKEN"
    )


def digest_posted_text(day: Any, channel: str) -> str:
    """What posting the digest on request did (``qbsync digest --post``, the playground): the day and
    the channel, never the message's ts."""
    return f"Posted the digest of {day} to {channel}."
