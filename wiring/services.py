"""The composition root: one place that builds what every entry point needs from the settings."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

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
    # The workspace these services act for (a services.workspaces.registry.Workspace): ``engine`` is its
    # storage. None: the deployment itself (the home database; the one workspace of single mode).
    workspace: Any = None
    root: Services | None = None
    _children: dict[str, Services] = field(default_factory=dict, repr=False)
    _children_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def tenancy(self):
        if self.root is not None:
            return self.root.tenancy
        from services.store.tenancy import Tenancy

        return Tenancy(self.engine, self.settings.database_url)

    @cached_property
    def registry(self):
        if self.root is not None:
            return self.root.registry
        from services.workspaces.registry import WorkspaceRegistry

        return WorkspaceRegistry(self.tenancy, self.cipher)

    def for_workspace(self, workspace: Any) -> Services:
        """The services of one workspace: built on its storage's engine (every query reads and writes its
        data only) and its settings laid over the deployment's. Cached per workspace and storage."""
        if self.root is not None:
            return self.root.for_workspace(workspace)
        from services.workspaces.settings import workspace_settings

        key = f"{workspace.team_id}:{workspace.storage}"
        with self._children_lock:
            child = self._children.get(key)
            if child is None or child.workspace != workspace:
                child = Services(
                    settings=workspace_settings(self.settings, workspace),
                    engine=self.tenancy.engine_for(workspace.storage),
                    retry=self.retry,
                    workspace=workspace,
                    root=self,
                )
                if key in self._children:  # its settings changed: its connection and QuickBooks limiter stay
                    old = self._children[key].__dict__
                    kept = ("connection", "api", "shared_budget")
                    child.__dict__.update({name: old[name] for name in kept if name in old})
                self._children[key] = child
            return child

    def workspace_of(self, team_id: str | None, *, recent: bool = False) -> Services | None:
        """The services of installed-or-not workspace ``team_id`` from the registry, or None (``recent``:
        the registry as read a moment ago will do, for a Slack request)."""
        found = self.registry.get(team_id, recent=recent)
        return self.for_workspace(found) if found is not None else None

    @cached_property
    def auth(self):
        if self.root is not None:  # one Intuit app for every workspace: its discovery read once
            return self.root.auth
        from services.quickbooks import IntuitAuth

        return IntuitAuth(self.settings)

    @cached_property
    def cipher(self):
        if self.root is not None:
            return self.root.cipher
        from services.store.secrets import TokenCipher

        key = self.settings.secret_key.get_secret_value() if self.settings.secret_key else None
        return TokenCipher(key)

    @cached_property
    def connection(self):
        from services.connect.connection import ConnectionService

        return ConnectionService(self.engine, self.auth, self.cipher)

    @cached_property
    def shared_budget(self):
        """QuickBooks' limits per company kept with every other process on this storage, or None when
        ``QBSYNC_QBO_SHARED_LIMITS`` is off."""
        if self.settings.qbo_shared_limits == "off":
            return None
        from services.quickbooks.shared_budget import SharedBudget

        return SharedBudget.over(self.engine)

    @cached_property
    def api(self):
        from services.quickbooks import QuickBooksApi, RetryPolicy

        retry = self.retry or RetryPolicy(
            throttle_attempts=self.settings.qbo_throttle_attempts,
            max_delay=min(30.0, 30.0 / self.settings.qbo_time_scale),
        )
        return QuickBooksApi(
            self.auth,
            self.connection,
            self.settings.qbo_api_base,
            retry,
            self.settings.qbo_limits,
            self.shared_budget,
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

        return Connector(
            self.auth,
            self.connection,
            self.cipher,
            self.settings.qbo_api_base,
            self.settings.qbo_limits,
            self.shared_budget,
        )

    @cached_property
    def browser_connect(self):
        from services.connect.web import BrowserConnect

        if self.workspace is None or not self.settings.distribution:
            return BrowserConnect(self.settings, self.engine, self.connector, self.sync)
        from services.workspaces.routing import tagged

        team = self.workspace.team_id
        return BrowserConnect(
            self.settings,
            self.engine,
            self.connector,
            self.sync,
            tag=lambda value: tagged(self, value),
            claim_realm=lambda realm: self.registry.claim_realm(team, realm),
        )

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
        if self.root is None:
            if "tenancy" in self.__dict__:
                self.tenancy.close()
            self.engine.dispose()


def bootstrap(
    settings: Settings | None = None, *, engine: Engine | None = None, retry: object | None = None
) -> Services:
    settings = settings or get_settings()
    return Services(settings=settings, engine=engine or make_engine(settings.database_url), retry=retry)
