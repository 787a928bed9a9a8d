"""Rotating refresh tokens: a process whose refresh token was rotated by another keeps the company
connected, and a rotated token is stored before anything else is done with it."""

from __future__ import annotations

import pytest

from services.bootstrap import bootstrap
from services.models import ConnectionState
from services.quickbooks import IntuitAuth, RetryPolicy

pytestmark = pytest.mark.reliability


class RotatedJustBefore(IntuitAuth):
    """Intuit's OAuth server (the emulator, over HTTP) as a process sees it when another process rotates
    its refresh token and stores the new one just before this process presents the old one."""

    def __init__(self, settings, rotate_elsewhere) -> None:
        super().__init__(settings)
        self.rotate_elsewhere = rotate_elsewhere
        self.presented: list[str] = []

    def refresh(self, refresh_token: str):
        self.presented.append(refresh_token)
        if len(self.presented) == 1:
            self.rotate_elsewhere(refresh_token)
        return super().refresh(refresh_token)


def services_for(settings, engine, auth=None):
    svc = bootstrap(settings, engine=engine, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05))
    if auth is not None:
        svc.auth = auth  # before the connection and the API are built from it
    return svc


def test_a_refresh_token_rotated_by_another_process_is_read_again_not_declared_broken(
    connected, settings, engine, emu
):
    """The other process stores its tokens while this one waits for Intuit: no database lock is held
    across the HTTP call, and this one's ``invalid_grant`` leads to the stored, newer token."""
    other = services_for(settings, engine)  # the other process: its own services, the same database

    def rotate_elsewhere(refresh_token: str) -> None:
        realm_id = other.connection.status().realm_id
        other.connection.store(other.auth.refresh(refresh_token), realm_id, "other process")

    auth = RotatedJustBefore(settings, rotate_elsewhere)
    stale = services_for(settings, engine, auth)
    emu.expire_tokens()
    assert "totalCount" in stale.api.query("SELECT count(*) FROM Item")
    assert stale.connection.status().state is ConnectionState.CONNECTED
    assert len(auth.presented) == 1  # the other process's fresh access token was used, no second refresh
    emu.expire_tokens()  # and the stored refresh token is the live one
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")
    assert connected.connection.status().connected
