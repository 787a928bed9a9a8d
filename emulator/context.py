"""The emulator's shared state, attached to the Flask app and reachable from every blueprint."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from emulator.config import EmulatorConfig
from emulator.limits import Limits
from emulator.query_log import QueryLog
from emulator.state import Store
from emulator.tokens import TokenStore

EXTENSION_KEY = "qbo_emulator"


@dataclass
class Emulator:
    config: EmulatorConfig
    store: Store
    tokens: TokenStore
    limits: Limits
    queries: QueryLog

    @classmethod
    def build(cls, config: EmulatorConfig) -> Emulator:
        return cls(
            config=config, store=Store(), tokens=TokenStore(config), limits=Limits(config), queries=QueryLog()
        )

    def reset(self) -> None:
        """Back to a fresh default company: no other realms, tokens, stats, scripted faults or queries."""
        self.store.reset()
        self.tokens.reset()
        self.limits.reset()
        self.queries.clear()


def current() -> Emulator:
    return current_app.extensions[EXTENSION_KEY]
