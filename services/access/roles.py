"""Who may run which fix: ``QBSYNC_FIXERS`` may run fixes (unset = everyone), ``QBSYNC_ADMINS`` the
admin-only ones. A refusal is polite, names who can, changes nothing, and is audited like a fix."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.catalogue import fix_label
from services.fixes.registry import admin_only
from services.store.models import FixAudit, utcnow
from services.store.storage import write_session


@dataclass(frozen=True)
class Refusal:
    fix: str
    message: str
    allowed: tuple[str, ...]  # the user ids who may run it (empty: nobody is configured)


@dataclass(frozen=True)
class Access:
    fixers: tuple[str, ...] | None  # None: everyone may run fixes
    admins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings) -> Access:
        return cls(settings.fixers, tuple(settings.admins))

    @property
    def open_to_everyone(self) -> bool:
        return self.fixers is None

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def check(self, user: str, fix: str) -> Refusal | None:
        """None when ``user`` may run ``fix``; otherwise why not, and who may."""
        label = fix_label(fix)
        if admin_only(fix):
            if self.is_admin(user):
                return None
            if not self.admins:
                return Refusal(fix, f"{label} is for administrators, and none is set up (QBSYNC_ADMINS).", ())
            return Refusal(fix, f"{label} is for administrators only.", self.admins)
        if self.fixers is None or user in self.fixers or self.is_admin(user):
            return None
        allowed = tuple(dict.fromkeys((*self.fixers, *self.admins)))
        return Refusal(fix, f"Only the people allowed to fix invoices can run {label}.", allowed)


def audit_refusal(engine: Engine, actor: str, load_number: str | None, refusal: Refusal) -> None:
    with write_session(engine) as session:
        session.add(
            FixAudit(
                at=utcnow(),
                actor=actor,
                load_number=load_number,
                fix=refusal.fix,
                outcome="refused",
                changes={},
                detail=f"not allowed: {refusal.message}"[:4000],
            )
        )
