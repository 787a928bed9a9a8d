"""The company's QuickBooks connection: stored tokens, refresh, and the broken/connected state.

Intuit rotates refresh tokens: a refresh returns a new one and retires the old. Two refreshes at once
can leave a retired token stored and disconnect the company, so refreshes are serialised across
threads (a lock) and processes (``storage.interprocess_lock``: a lock file beside SQLite, an advisory
lock on PostgreSQL — no database transaction is held while Intuit answers). The rotated token is
stored, in its own short transaction, before anything else is done with it. When Intuit answers
``invalid_grant``, the stored token is read again: if another process stored a newer one meanwhile,
that one is used (refreshed once if need be) before the connection is declared broken.

qbsync syncs to one QuickBooks company: the realm it was connected to is remembered, also after a
disconnect. Storing tokens for another realm is refused (``CompanyOffered``) unless an administrator
asked to switch companies; the switch itself (``services.connect.company``) happens in the same
transaction as the tokens are stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.connect.company import (
    CompanyOffered,
    CompanySwitch,
    Footprint,
    footprint,
    last_switch,
    switch_company,
)
from services.errors import ConfigurationError
from services.quickbooks import IntuitAuth, NotConnected, QboError, TokenSet
from services.store.models import ConnectionState, QboConnection, utcnow
from services.store.secrets import TokenCipher
from services.store.storage import engine_key, immediate_transaction, interprocess_lock, lock_row, retry_busy

log = logging.getLogger(__name__)

ROW_ID = 1
REFRESH_LOCK = "qbo-refresh"
EXPIRY_MARGIN = dt.timedelta(minutes=5)
_TABLE = QboConnection.__table__  # type: ignore[attr-defined]
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(engine: Engine) -> threading.Lock:
    key = engine_key(engine)
    with _process_locks_guard:
        return _process_locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class ConnectionStatus:
    state: ConnectionState
    realm_id: str | None
    access_expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None
    broken_reason: str | None
    connected_by: str | None
    connected_at: dt.datetime | None

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED


class ConnectionService:
    """Stores and refreshes the tokens; a ``TokenSource`` for ``QuickBooksApi``."""

    def __init__(
        self,
        engine: Engine,
        auth: IntuitAuth,
        cipher: TokenCipher,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.auth = auth
        self.cipher = cipher
        self.clock = clock
        self._lock = _process_lock(engine)
        self._plain: tuple[str, str] | None = None  # (ciphertext, access token): decrypted once

    def _access(self, ciphertext: str) -> str:
        """The stored access token, decrypted once per value (that is, once per refresh)."""
        cached = self._plain
        if cached is not None and cached[0] == ciphertext:
            return cached[1]
        token = self.cipher.decrypt(ciphertext)
        self._plain = (ciphertext, token)
        return token

    # -- state --------------------------------------------------------------------------------

    def status(self) -> ConnectionStatus:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.id == ROW_ID)).mappings().first()
        if row is None:
            return ConnectionStatus(ConnectionState.DISCONNECTED, None, None, None, None, None, None)
        return ConnectionStatus(
            ConnectionState(row["state"]),
            row["realm_id"],
            row["access_expires_at"],
            row["refresh_expires_at"],
            row["broken_reason"],
            row["connected_by"],
            row["connected_at"],
        )

    def check_company(self, realm_id: str, *, switch: bool = False) -> None:
        """``CompanyOffered`` when ``realm_id`` is not the company qbsync remembers (connected or not),
        unless ``switch`` (an administrator asked to switch companies)."""
        status = self.status()
        if not switch and status.realm_id and status.realm_id != realm_id:
            raise CompanyOffered(status.realm_id, realm_id, status.connected)

    def footprint(self) -> Footprint:
        with self.engine.connect() as conn:
            return footprint(conn)

    def last_switch(self) -> str | None:
        """What the last switch of companies did (its audit line), if there was one."""
        with self.engine.connect() as conn:
            return last_switch(conn)

    def store(self, tokens: TokenSet, realm_id: str, actor: str) -> ConnectionStatus:
        """Save freshly obtained tokens for ``realm_id`` (connect). ``CompanyOffered`` (nothing stored)
        when qbsync remembers another company."""
        self._store(tokens, realm_id, actor, switch=False)
        return self.status()

    def switch(
        self, tokens: TokenSet, realm_id: str, actor: str
    ) -> tuple[ConnectionStatus, CompanySwitch | None]:
        """Save tokens for ``realm_id``, switching companies if it is another one: the old company's
        QuickBooks ids are forgotten and the switch audited, in the same transaction."""
        switched = self._store(tokens, realm_id, actor, switch=True)
        if switched is not None:
            log.warning("QuickBooks company switched by %s: %s", actor, switched.words)
        return self.status(), switched

    def _store(self, tokens: TokenSet, realm_id: str, actor: str, *, switch: bool) -> CompanySwitch | None:
        now = self.clock()
        values = {
            "realm_id": realm_id,
            "state": ConnectionState.CONNECTED.value,
            "broken_reason": None,
            "connected_by": actor,
            "connected_at": now,
            "updated_at": now,
            **self._token_values(tokens, now),
        }
        switched = None
        with self._locked_row() as (conn, row):
            known = row["realm_id"]
            if known and known != realm_id:
                if not switch:
                    raise CompanyOffered(known, realm_id, row["state"] == ConnectionState.CONNECTED.value)
                switched = switch_company(conn, known, realm_id, actor, now)
            conn.execute(sa.update(_TABLE).where(_TABLE.c.id == ROW_ID).values(**values))
        return switched

    def forget(self) -> None:
        now = self.clock()
        with self._locked_row() as (conn, _row):
            conn.execute(
                sa.update(_TABLE)
                .where(_TABLE.c.id == ROW_ID)
                .values(
                    state=ConnectionState.DISCONNECTED.value,
                    access_token=None,
                    refresh_token=None,
                    access_expires_at=None,
                    refresh_expires_at=None,
                    broken_reason=None,
                    updated_at=now,
                )
            )

    def disconnect(self) -> bool:
        """Revoke the grant at Intuit (best effort) and forget the tokens. True if Intuit confirmed."""
        revoked = False
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.id == ROW_ID)).mappings().first()
        token = row["refresh_token"] if row else None
        if token and not self.cipher.configured:
            raise ConfigurationError("QBSYNC_SECRET_KEY must be set to read the stored QuickBooks tokens")
        if token:
            try:
                self.auth.revoke(self.cipher.decrypt(token))
                revoked = True
            except (QboError, ConfigurationError) as exc:  # e.g. a changed key: forget them all the same
                log.warning("revoking the QuickBooks grant failed: %s", exc)
        self.forget()
        return revoked

    # -- TokenSource ----------------------------------------------------------------------------

    def current(self) -> tuple[str, str]:
        row = self._row()
        if self._usable(row):
            return row["realm_id"], self._access(row["access_token"])
        return self._refresh(rejected=None)

    def refreshed(self, rejected_token: str) -> tuple[str, str]:
        return self._refresh(rejected=rejected_token)

    def broken(self, reason: str) -> None:
        now = self.clock()

        def mark() -> None:
            with immediate_transaction(self.engine) as conn:
                conn.execute(
                    sa.update(_TABLE)
                    .where(_TABLE.c.id == ROW_ID)
                    .values(state=ConnectionState.BROKEN.value, broken_reason=reason[:500], updated_at=now)
                )

        retry_busy(mark)
        log.warning("QuickBooks connection marked broken: %s", reason)

    # -- internals ------------------------------------------------------------------------------

    def _row(self):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.id == ROW_ID)).mappings().first()
        self._require_connected(row)
        return row

    def _require_connected(self, row) -> None:
        if row is None or row["state"] == ConnectionState.DISCONNECTED.value or not row["refresh_token"]:
            raise NotConnected("QuickBooks is not connected")
        if row["state"] == ConnectionState.BROKEN.value:
            raise NotConnected(f"the QuickBooks connection is broken: {row['broken_reason'] or 'reconnect'}")

    def _usable(self, row) -> bool:
        expires = row["access_expires_at"]
        return bool(row["access_token"]) and expires is not None and expires - EXPIRY_MARGIN > self.clock()

    def _refresh(self, rejected: str | None) -> tuple[str, str]:
        """A newer access token than ``rejected``; one refresh at a time across threads and processes."""
        with self._lock, interprocess_lock(self.engine, REFRESH_LOCK):
            row = self._row()
            fresh = self._fresh_access(row, rejected)
            if fresh is not None:
                return fresh  # another worker refreshed while we waited
            try:
                return self._rotate(row)
            except NotConnected as exc:
                if exc.code != "invalid_grant":
                    self._broken_unless_changed(row, exc)
                    raise
                again = self._row()
                if again["refresh_token"] == row["refresh_token"]:
                    self._broken_unless_changed(row, exc)
                    raise
            log.warning("QuickBooks refused a refresh token another process had replaced; using the new one")
            fresh = self._fresh_access(again, rejected)
            if fresh is not None:
                return fresh
            try:
                return self._rotate(again)
            except NotConnected as exc:
                self._broken_unless_changed(again, exc)
                raise

    def _fresh_access(self, row, rejected: str | None) -> tuple[str, str] | None:
        if not row["access_token"] or not self._usable(row):
            return None
        stored = self.cipher.decrypt(row["access_token"])
        return None if stored == rejected else (row["realm_id"], stored)

    def _rotate(self, row) -> tuple[str, str]:
        """Refresh with the row's refresh token and store what Intuit answers before anything else."""
        refresh_token = self.cipher.decrypt(row["refresh_token"])
        self.cipher.prepare()  # nothing slow between Intuit's answer and storing it
        tokens = self.auth.refresh(refresh_token)
        now = self.clock()
        values = {**self._token_values(tokens, now), "updated_at": now}
        if not self._update_unless_changed(row, values):
            log.warning("the stored QuickBooks connection changed during a refresh; kept the stored one")
        log.info("QuickBooks tokens refreshed for realm %s", row["realm_id"])
        return row["realm_id"], tokens.access_token

    def _broken_unless_changed(self, row, refused: NotConnected) -> None:
        values = {
            "state": ConnectionState.BROKEN.value,
            "broken_reason": str(refused)[:500],
            "updated_at": self.clock(),
        }
        if self._update_unless_changed(row, values):
            log.warning("QuickBooks refresh refused: %s", refused)

    def _update_unless_changed(self, row, values: dict[str, object]) -> bool:
        """Update the connection row if it still holds the refresh token read in ``row`` (a reconnect,
        a disconnect or another process's refresh in between wins)."""

        def update() -> bool:
            with immediate_transaction(self.engine) as conn:
                return bool(
                    conn.execute(
                        sa.update(_TABLE)
                        .where(_TABLE.c.id == ROW_ID, _TABLE.c.refresh_token == row["refresh_token"])
                        .values(**values)
                    ).rowcount
                )

        return retry_busy(update)

    def _token_values(self, tokens: TokenSet, now: dt.datetime) -> dict[str, object]:
        refresh_expires = (
            now + dt.timedelta(seconds=tokens.refresh_expires_in) if tokens.refresh_expires_in else None
        )
        return {
            "access_token": self.cipher.encrypt(tokens.access_token),
            "refresh_token": self.cipher.encrypt(tokens.refresh_token),
            "access_expires_at": now + dt.timedelta(seconds=tokens.expires_in),
            "refresh_expires_at": refresh_expires,
        }

    @contextmanager
    def _locked_row(self) -> Iterator[tuple[Connection, object]]:
        """A transaction holding the write lock on the connection row (committed on success)."""
        with immediate_transaction(self.engine) as conn:
            defaults = {"state": ConnectionState.DISCONNECTED.value, "updated_at": self.clock()}
            yield conn, lock_row(conn, _TABLE, {"id": ROW_ID}, defaults)._mapping
