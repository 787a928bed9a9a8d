"""CSRF states of browser connections: random (192 bits), stored server-side as a SHA-256 digest,
single-use, and expiring after ten minutes. Checking a state spends it, whatever follows.

Also the signed ``by`` of a Connect link (``/qbo/connect?by=…``): a Slack actor with an HMAC made
with ``QBSYNC_SECRET_KEY``, so the "connected by" of a browser connection is known and cannot be
forged by editing the link."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.models import OAuthState, utcnow

LIFETIME = dt.timedelta(minutes=10)
KEEP_USED = dt.timedelta(days=1)  # spent and expired states are purged after this
_TABLE = OAuthState.__table__  # type: ignore[attr-defined]
_ACTOR = re.compile(r"^slack:[A-Z0-9]{2,30}:[A-Z0-9]{2,30}$")


class StateRefused(Exception):
    """The state of a callback is unknown, already used or expired; ``why`` says which."""

    def __init__(self, why: str) -> None:
        self.why = why  # unknown | used | expired
        super().__init__(why)


@dataclass(frozen=True)
class SpentState:
    requested_by: str | None


def digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def issue(engine: Engine, requested_by: str | None = None, *, now: dt.datetime | None = None) -> str:
    """A new state, stored; old spent or expired states are purged on the way."""
    now = now or utcnow()
    state = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(_TABLE.delete().where(_TABLE.c.expires_at < now - KEEP_USED))
        conn.execute(
            _TABLE.insert().values(
                digest=digest(state),
                requested_by=requested_by,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return state


def spend(engine: Engine, state: str | None, *, now: dt.datetime | None = None) -> SpentState:
    """Use ``state`` once. ``StateRefused`` when it is unknown, already used or expired."""
    if not state or len(state) > 200:
        raise StateRefused("unknown")
    now = now or utcnow()
    key = digest(state)
    with engine.begin() as conn:
        taken = conn.execute(
            _TABLE.update()
            .where(_TABLE.c.digest == key, _TABLE.c.used_at.is_(None), _TABLE.c.expires_at > now)
            .values(used_at=now)
        ).rowcount
        row = conn.execute(sa.select(_TABLE).where(_TABLE.c.digest == key)).mappings().first()
    if row is None:
        raise StateRefused("unknown")
    if not taken:
        raise StateRefused("used" if row["used_at"] is not None else "expired")
    return SpentState(row["requested_by"])


# -- who asked: a signed Slack actor in the Connect link -----------------------------------------------


def _mac(key: str, actor: str) -> str:
    secret = hashlib.sha256(b"qbsync connect link\0" + key.encode()).digest()
    return hmac.new(secret, actor.encode(), hashlib.sha256).hexdigest()[:32]


def sign_actor(key: str | None, actor: str) -> str | None:
    """``actor~mac`` for a Connect link, or None without a key or for an actor that is not Slack's."""
    if not key or not _ACTOR.match(actor):
        return None
    return f"{actor}~{_mac(key.split(',')[0].strip(), actor)}"


def verify_actor(key: str | None, signed: str | None) -> str | None:
    """The actor of a signed ``by``, or None when it is missing, malformed or its signature is wrong.
    Every key of a rotation is tried."""
    if not key or not signed or len(signed) > 200:
        return None
    actor, _, mac = signed.rpartition("~")
    if not _ACTOR.match(actor):
        return None
    for part in key.split(","):
        if part.strip() and hmac.compare_digest(_mac(part.strip(), actor), mac):
            return actor
    return None
