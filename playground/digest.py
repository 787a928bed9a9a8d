"""“Run today's digest now”: the digest the scheduler posts, posted at once to the playground's channel
through the app's own Slack client (so it reaches the stand-in exactly as it would reach Slack), as
``qbsync digest --post`` does: not counted as the day's digest."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from services.digest.posting import post_on_demand
from wiring.slack import digest_poster


def post_digest(services: Any, client: WebClient, channel: str) -> str:
    """Post today's digest and its chart to ``channel``; returns what was done, in words."""
    return post_on_demand(digest_poster(services, client, channel=channel))
