"""The composition root: one place that builds what every entry point needs from the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine

from services.settings import Settings, get_settings
from services.store.storage import make_engine


@dataclass
class Services:
    """Each part is built on first use, its module imported then: a command that never talks to
    QuickBooks (``qbsync --help``, ``qbsync db upgrade``) does not load its client libraries."""

    settings: Settings
    engine: Engine
    retry: object | None = None  # a services.quickbooks.RetryPolicy; None = the default

    @cached_property
    def auth(self):
        from services.quickbooks import IntuitAuth

        return IntuitAuth(self.settings)

    @cached_property
    def cipher(self):
        from services.store.secrets import TokenCipher

        key = self.settings.secret_key.get_secret_value() if self.settings.secret_key else None
        return TokenCipher(key)

    @cached_property
    def connection(self):
        from services.connect.connection import ConnectionService

        return ConnectionService(self.engine, self.auth, self.cipher)

    @cached_property
    def api(self):
        from services.quickbooks import QuickBooksApi, RetryPolicy

        retry = self.retry or RetryPolicy(
            throttle_attempts=self.settings.qbo_throttle_attempts,
            max_delay=min(30.0, 30.0 / self.settings.qbo_time_scale),
        )
        return QuickBooksApi(
            self.auth, self.connection, self.settings.qbo_api_base, retry, self.settings.qbo_limits
        )

    @cached_property
    def sync(self):
        from services.sync import SyncEngine

        return SyncEngine(
            self.engine,
            self.api,
            self.connection,
            batch_size=self.settings.batch_size,
            workers=min(self.settings.sync_workers, self.settings.qbo_in_flight),
            lease=dt.timedelta(seconds=self.settings.claim_lease_seconds),
        )

    @cached_property
    def connector(self):
        from services.connect.flow import Connector

        return Connector(self.auth, self.connection, self.cipher, self.settings.qbo_api_base)

    @cached_property
    def browser_connect(self):
        from services.connect.web import BrowserConnect

        return BrowserConnect(self.settings, self.engine, self.connector, self.sync)

    @cached_property
    def changes(self):
        from services.changes.feed import ChangeFeed

        return ChangeFeed(self.engine, self.sync)

    @cached_property
    def diagnoser(self):
        from services.diagnosis.diagnoser import Diagnoser

        return Diagnoser(self.sync)

    @cached_property
    def fixer(self):
        from services.fixes.fixer import Fixer

        return Fixer(self.engine, self.api, self.auth, self.connection, self.sync, self.diagnoser)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None, *, engine: Engine | None = None, retry: object | None = None
) -> Services:
    settings = settings or get_settings()
    return Services(settings=settings, engine=engine or make_engine(settings.database_url), retry=retry)
