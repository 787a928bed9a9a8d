"""Build the real client libraries (intuit-oauth, python-quickbooks) pointed at an emulator.

No patching: intuit-oauth takes the discovery URL as its ``environment`` (anything that is not
"sandbox"/"production" is fetched as a discovery document), and python-quickbooks reads its API
base from the ``api_url_v3`` attribute, which is set on the instance. requests-oauthlib refuses
plain http unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set; :func:`quickbooks_client` sets it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

    from emulator.server import EmulatorServer

TEST_CLIENT_ID = "emulator-client"
TEST_CLIENT_SECRET = "emulator-secret"
TEST_REDIRECT_URI = "http://127.0.0.1/callback"
MINOR_VERSION = 75


def auth_client(
    emu: EmulatorServer,
    client_id: str = TEST_CLIENT_ID,
    client_secret: str = TEST_CLIENT_SECRET,
    redirect_uri: str = TEST_REDIRECT_URI,
    **tokens: Any,
) -> AuthClient:
    """An intuit-oauth ``AuthClient`` whose endpoints come from the emulator's discovery document."""
    from intuitlib.client import AuthClient  # imported when used, to keep start-up fast

    return AuthClient(client_id, client_secret, redirect_uri, environment=emu.discovery_url, **tokens)


def quickbooks_client(
    emu: EmulatorServer, tokens: dict[str, Any] | None = None, realm_id: str | None = None
) -> QuickBooks:
    """A python-quickbooks client for ``realm_id`` (default realm), with fresh tokens unless given."""
    from quickbooks import QuickBooks  # imported when used, to keep start-up fast (about a second)

    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    tokens = tokens or emu.issue_tokens(realm_id)
    client = auth_client(emu, access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])
    qb = QuickBooks(
        auth_client=client,
        refresh_token=tokens["refresh_token"],
        company_id=realm_id or tokens.get("realm_id") or emu.realm_id,
        minorversion=MINOR_VERSION,
    )
    qb.api_url_v3 = emu.api_base
    return qb
