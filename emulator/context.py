"""The emulator's shared state, attached to the Flask app and reachable from every blueprint."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from emulator.config import EmulatorConfig
from emulator.limits import Limits
from emulator.query_log import QueryLog
from emulator.state import Store
from emulator.tokens import TokenStore
from emulator.webhooks import WebhookSender

EXTENSION_KEY = "qbo_emulator"


@dataclass
class Emulator:
    config: EmulatorConfig
    store: Store
    tokens: TokenStore
    limits: Limits
    queries: QueryLog
    webhooks: WebhookSender

    @classmethod
    def build(cls, config: EmulatorConfig) -> Emulator:
        return cls(
            config=config,
            store=Store(),
            tokens=TokenStore(config),
            limits=Limits(config),
            queries=QueryLog(),
            webhooks=WebhookSender(config),
        )

    def reset(self) -> None:
        """Back to a fresh default company: no other realms, tokens, stats, scripted faults, queries,
        queued webhook events or delivery log (the webhook settings stay)."""
        self.store.reset()
        self.tokens.reset()
        self.limits.reset()
        self.queries.clear()
        self.webhooks.reset()


def current() -> Emulator:
    return current_app.extensions[EXTENSION_KEY]
