"""“Run today's digest now”: the digest the scheduler posts, posted at once to the playground's channel
through the app's own Slack client (so it reaches the stand-in exactly as it would reach Slack)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient


def post_digest(services: Any, client: WebClient, channel: str) -> str:
    """Post today's digest (and its chart) to ``channel``; returns what was done, in words."""
    try:
        from bot.digest import DigestPoster, post_on_demand
    except ImportError:  # a build without the Slack digest: the text digest, said plainly
        return _text_digest(services, client, channel)
    poster = DigestPoster.from_settings(services, client)
    poster.channel = channel
    return post_on_demand(poster)


def _text_digest(services: Any, client: WebClient, channel: str) -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from cli.digest import render_digest
    from services.digest import build_digest

    tz = services.settings.timezone
    today = dt.datetime.now(ZoneInfo(tz)).date()
    text = render_digest(build_digest(services.engine, today=today, tz=tz), tz)
    client.chat_postMessage(channel=channel, text=f"```{text}```")
    return "posted today's digest as text (this build has no Slack digest message)"
