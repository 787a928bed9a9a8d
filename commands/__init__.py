"""The Slack listeners, one module per group; ``register(app, deps)`` wires them all."""

from __future__ import annotations

from slack_bolt import App

from commands import actions, choices, errors, events, slash
from commands.common import Deps


def register(app: App, deps: Deps) -> None:
    for group in (slash, actions, choices, events, errors):
        group.register(app, deps)
