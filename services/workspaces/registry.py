"""The workspaces of a deployment (table ``workspace`` in the home database): registering one when the
app is installed there, finding one by team, by TMS key or by QuickBooks company, marking it
uninstalled, and erasing it. Each workspace's own data lives in its storage
(:mod:`services.store.tenancy`), created and migrated here when the workspace first installs.

Nothing here imports Slack's libraries: callers pass plain strings.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services.access.workspace import SlackAccessStore
from services.catalogue.workspaces import REALM_TAKEN
from services.errors import UserInputError
from services.store.models import utcnow
from services.store.secrets import TokenCipher
from services.store.storage import immediate_transaction, retry_busy
from services.store.tenancy import Tenancy, storage_name
from services.store.tenants import WorkspaceRecord
from services.workspaces.installations import InstallationRows
from services.workspaces.recent import forget, recall

log = logging.getLogger(__name__)

_TABLE = WorkspaceRecord.__table__  # type: ignore[attr-defined]
SETTINGS = ("admins", "fixers", "digest_channel", "digest_time", "timezone")


@dataclass(frozen=True)
class Workspace:
    """One workspace as the registry holds it."""

    team_id: str
    name: str | None
    enterprise_id: str | None
    storage: str | None
    installed: bool
    installed_by: str | None
    installed_at: dt.datetime | None
    uninstalled_at: dt.datetime | None
    realm_id: str | None
    tms_key: str | None
    settings: dict[str, Any]

    @property
    def org_wide(self) -> bool:
        """Installed for a whole Enterprise Grid organisation (its team id is the enterprise's)."""
        return self.enterprise_id is not None and self.team_id == self.enterprise_id

    @property
    def label(self) -> str:
        return f"{self.team_id} ({self.name})" if self.name else self.team_id


def _workspace(row: Any) -> Workspace:
    return Workspace(
        team_id=row.team_id,
        name=row.name,
        enterprise_id=row.enterprise_id,
        storage=row.storage,
        installed=bool(row.installed),
        installed_by=row.installed_by,
        installed_at=row.installed_at,
        uninstalled_at=row.uninstalled_at,
        realm_id=row.realm_id,
        tms_key=row.tms_key,
        settings={name: getattr(row, name) for name in SETTINGS if getattr(row, name) is not None},
    )


class RealmTaken(UserInputError):
    """The QuickBooks company is already connected to another workspace of this deployment."""


class WorkspaceRegistry:
    """Read and change the home table ``workspace``."""

    def __init__(self, tenancy: Tenancy, cipher: TokenCipher) -> None:
        self.tenancy = tenancy
        self.home: Engine = tenancy.home
        self.cipher = cipher

    # -- reading ------------------------------------------------------------------------------------------

    def all(self) -> list[Workspace]:
        with self.home.connect() as conn:
            rows = conn.execute(sa.select(_TABLE).order_by(_TABLE.c.team_id)).all()
        return [_workspace(row) for row in rows]

    def get(self, team_id: str | None, *, recent: bool = False) -> Workspace | None:
        """Workspace ``team_id``, or None. ``recent``: as read a moment ago will do
        (:mod:`services.workspaces.recent`), for the lookup every Slack request makes."""
        if not team_id:
            return None
        if recent:
            return recall(self.home, ("workspace", team_id), lambda: self.get(team_id))
        with self.home.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.team_id == team_id)).first()
        return _workspace(row) if row is not None else None

    def by_tms_key(self, key: str) -> tuple[Workspace, str] | None:
        """The workspace whose TMS webhook key is ``key`` and its secret, or None."""
        with self.home.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.tms_key == key)).first()
        if row is None or not row.tms_secret:
            return None
        return _workspace(row), self.cipher.decrypt(row.tms_secret)

    def by_realm(self, realm_id: str) -> Workspace | None:
        with self.home.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.realm_id == realm_id)).first()
        return _workspace(row) if row is not None else None

    # -- installing ---------------------------------------------------------------------------------------

    def installed(
        self,
        team_id: str,
        *,
        name: str | None = None,
        enterprise_id: str | None = None,
        installer: str | None = None,
    ) -> Workspace:
        """The app was installed in ``team_id`` (again): register it, with storage of its own made and
        migrated for a new workspace; a workspace installed before keeps its data. The installer
        becomes its first administrator."""
        existing = self.get(team_id)
        storage = existing.storage if existing is not None else storage_name(team_id)
        if storage is not None:  # None: the home tables of a former single-workspace deployment
            self.tenancy.provision(storage)
        now = utcnow()

        def write() -> None:
            with immediate_transaction(self.home) as conn:
                row = conn.execute(sa.select(_TABLE).where(_TABLE.c.team_id == team_id)).first()
                if row is None:
                    conn.execute(
                        sa.insert(_TABLE).values(
                            team_id=team_id,
                            name=name,
                            enterprise_id=enterprise_id,
                            storage=storage,
                            installed=True,
                            installed_at=now,
                            installed_by=installer,
                            admins=[installer] if installer else None,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    return
                values: dict[str, Any] = {
                    "installed": True,
                    "installed_at": now,
                    "uninstalled_at": None,
                    "uninstalled_reason": None,
                    "updated_at": now,
                }
                if name:
                    values["name"] = name
                if installer and not row.admins:
                    values["admins"] = [installer]
                    values["installed_by"] = installer
                conn.execute(sa.update(_TABLE).where(_TABLE.c.team_id == team_id).values(**values))

        retry_busy(write)
        forget(self.home)
        found = self.get(team_id)
        assert found is not None
        SlackAccessStore(self.tenancy.engine_for(found.storage)).restored()  # a reinstall: Slack accepts it
        log.info("workspace %s installed (storage %s)", found.label, found.storage or "home")
        return found

    def adopt_home(self, team_id: str, name: str | None = None) -> Workspace:
        """Register the workspace of a single-workspace deployment (its tables are the home tables), once;
        the same workspace installed later from "Add to Slack" finds its data there."""
        now = utcnow()

        def write() -> None:
            with immediate_transaction(self.home) as conn:
                found = conn.execute(sa.select(_TABLE.c.team_id).where(_TABLE.c.team_id == team_id)).first()
                taken = conn.execute(sa.select(_TABLE.c.team_id).where(_TABLE.c.storage.is_(None))).first()
                if found is None and taken is None:
                    conn.execute(
                        sa.insert(_TABLE).values(
                            team_id=team_id, name=name, storage=None, installed=True, installed_at=now,
                            created_at=now, updated_at=now,
                        )
                    )  # fmt: skip

        retry_busy(write)
        forget(self.home)
        found = self.get(team_id)
        assert found is not None
        return found

    def removed_from_slack(self, workspace: Workspace, reason: str, *, tokens_only: bool = False) -> None:
        """Slack removed the app from ``workspace`` (``app_uninstalled``; or ``tokens_revoked`` of its bot,
        ``tokens_only``): its Slack tokens are deleted, the loss recorded in its storage, and it is marked
        uninstalled. Its data stays for a reinstall. The two events come in either order; each is enough."""
        rows = InstallationRows(self.home, self.cipher)
        org, enterprise = workspace.org_wide, workspace.enterprise_id
        team = None if org else workspace.team_id
        if tokens_only:
            rows.delete_bot_tokens(enterprise, team, org)
        else:
            rows.delete(enterprise, team, org)
        SlackAccessStore(self.tenancy.engine_for(workspace.storage)).lost(reason)
        self.uninstalled(workspace.team_id, reason)

    def uninstalled(self, team_id: str, reason: str) -> bool:
        """Slack says the app left ``team_id`` (``app_uninstalled`` / ``tokens_revoked``): its data stays
        for a reinstall. Returns True when this is news."""
        now = utcnow()

        def write() -> bool:
            with immediate_transaction(self.home) as conn:
                done = conn.execute(
                    sa.update(_TABLE)
                    .where(_TABLE.c.team_id == team_id, _TABLE.c.installed.is_(True))
                    .values(
                        installed=False, uninstalled_at=now, uninstalled_reason=reason[:64], updated_at=now
                    )
                )
                return bool(done.rowcount)

        news = retry_busy(write)
        forget(self.home)
        if news:
            log.warning(
                "workspace %s: the app was removed (%s); its data is kept for a reinstall", team_id, reason
            )
        return news

    # -- QuickBooks company -------------------------------------------------------------------------------

    def claim_realm(self, team_id: str, realm_id: str) -> None:
        """Bind QuickBooks company ``realm_id`` to ``team_id``; refused (:class:`RealmTaken`) when another
        workspace has it."""
        holder = self.by_realm(realm_id)
        if holder is not None and holder.team_id != team_id and self._still_connected(holder, realm_id):
            raise RealmTaken(REALM_TAKEN.format(realm=realm_id))
        try:
            with immediate_transaction(self.home) as conn:
                if holder is not None and holder.team_id != team_id:  # it was disconnected there since
                    conn.execute(
                        sa.update(_TABLE).where(_TABLE.c.team_id == holder.team_id).values(realm_id=None)
                    )
                conn.execute(
                    sa.update(_TABLE)
                    .where(_TABLE.c.team_id == team_id)
                    .values(realm_id=realm_id, updated_at=utcnow())
                )
        except IntegrityError:  # another workspace took it at the same moment
            raise RealmTaken(REALM_TAKEN.format(realm=realm_id)) from None
        finally:
            forget(self.home)

    def _still_connected(self, holder: Workspace, realm_id: str) -> bool:
        """Whether ``holder``'s own storage still holds a connection (or a broken one, to reconnect) to
        ``realm_id``: a company disconnected there may go to another workspace."""
        from services.store.models import ConnectionState, QboConnection

        table = QboConnection.__table__  # type: ignore[attr-defined]
        try:
            with self.tenancy.engine_for(holder.storage).connect() as conn:
                rows = conn.execute(sa.select(table.c.realm_id, table.c.state)).all()
        except sa.exc.SQLAlchemyError:
            return True  # unknown: refuse rather than give one company to two workspaces
        return any(r.realm_id == realm_id and r.state != ConnectionState.DISCONNECTED for r in rows)

    # -- TMS webhook --------------------------------------------------------------------------------------

    def rotate_tms_secret(self, team_id: str) -> tuple[str, str]:
        """A new TMS webhook key and secret for ``team_id`` (the old ones stop working now). Returns
        (key, secret); the secret is stored encrypted and shown only this once."""
        key = secrets.token_urlsafe(18)
        secret = secrets.token_urlsafe(32)
        with immediate_transaction(self.home) as conn:
            conn.execute(
                sa.update(_TABLE)
                .where(_TABLE.c.team_id == team_id)
                .values(tms_key=key, tms_secret=self.cipher.encrypt(secret), updated_at=utcnow())
            )
        forget(self.home)
        return key, secret

    # -- settings -----------------------------------------------------------------------------------------

    def update_settings(self, team_id: str, **values: Any) -> None:
        unknown = set(values) - set(SETTINGS)
        if unknown:
            raise ValueError(f"not a workspace setting: {sorted(unknown)}")
        with immediate_transaction(self.home) as conn:
            conn.execute(
                sa.update(_TABLE).where(_TABLE.c.team_id == team_id).values(**values, updated_at=utcnow())
            )
        forget(self.home)

    # -- erasing ------------------------------------------------------------------------------------------

    def delete(self, team_id: str) -> Workspace | None:
        """Erase ``team_id``: its Slack installation, its storage and its row (the caller revoked its
        QuickBooks grant first)."""
        found = self.get(team_id)
        if found is None:
            return None
        org = found.org_wide
        InstallationRows(self.home, self.cipher).delete(found.enterprise_id, None if org else team_id, org)
        if found.storage is not None:
            self.tenancy.drop(found.storage)
        else:
            self.tenancy.clear_home()
        with immediate_transaction(self.home) as conn:
            conn.execute(sa.delete(_TABLE).where(_TABLE.c.team_id == team_id))
        forget(self.home)
        return found
