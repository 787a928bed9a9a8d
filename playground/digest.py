"""“Run today's digest now”: the digest the scheduler posts, posted at once to the playground's channel
through the app's own Slack client (so it reaches the stand-in exactly as it would reach Slack), as
``qbsync digest --post`` does: not counted as the day's digest."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.digest import DigestPoster, post_on_demand


def post_digest(services: Any, client: WebClient, channel: str) -> str:
    """Post today's digest and its chart to ``channel``; returns what was done, in words."""
    poster = DigestPoster.from_settings(services, client)
    poster.channel = channel
    return post_on_demand(poster)
