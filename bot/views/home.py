"""The App Home: the sync's state at a glance (the status, as a Home view)."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import VIEW_BLOCKS, check_surface, context
from bot.views.status import status_message


def home_view(status: Any, *, connect_url: str | None = None) -> dict[str, Any]:
    blocks = status_message(status, connect_url=connect_url)["blocks"]
    blocks.append(
        context(f"Type `{ids.COMMAND} problems` in any channel for the list, `{ids.COMMAND} help` for more.")
    )
    return {"type": "home", "callback_id": ids.HOME_VIEW, "blocks": check_surface(blocks, VIEW_BLOCKS)}
