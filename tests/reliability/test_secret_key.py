"""``QBSYNC_SECRET_KEY``: a passphrase is stretched with scrypt and a random salt (not one unsalted
SHA-256), a weak or empty key is refused at start, and tokens stored with the old derivation still
open and are stored again in the salted form by the next write."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from services.settings import SettingsError, load_settings
from services.store import secrets
from services.store.models import QboConnection
from services.store.secrets import TokenCipher
from tests.conftest import TEST_SECRET_KEY
from wiring.services import bootstrap

pytestmark = pytest.mark.reliability

PASSPHRASE = "correct horse battery staple"


def legacy(passphrase: str) -> Fernet:
    """How earlier versions made a key from a passphrase: one SHA-256, no salt."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))


def stored(engine) -> dict[str, str]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(QboConnection.access_token, QboConnection.refresh_token)).one()
    return {"access": row[0], "refresh": row[1]}


def refreshes(emu) -> int:
    return sum(1 for issued in emu.emulator.tokens.refresh_tokens.values() if issued.retired)


def test_a_passphrase_is_stretched_with_scrypt_and_a_random_salt(monkeypatch):
    sealed = TokenCipher(PASSPHRASE).encrypt("the-token")
    assert sealed.startswith("qbs2$")
    salt_text, token = sealed[len("qbs2$") :].split("$", 1)
    salt = base64.urlsafe_b64decode(salt_text)
    assert len(salt) == 16
    with pytest.raises(InvalidToken):
        legacy(PASSPHRASE).decrypt(token.encode())  # not the unsalted SHA-256 any more
    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    assert Fernet(base64.urlsafe_b64encode(kdf.derive(PASSPHRASE.encode()))).decrypt(token.encode()) == (
        b"the-token"
    )

    monkeypatch.setattr(secrets, "_salts", {})  # another installation (another process)
    other = TokenCipher(PASSPHRASE).encrypt("the-token")
    assert other.split("$")[1] != salt_text, "the same passphrase gives another key elsewhere"
    assert TokenCipher(PASSPHRASE).decrypt(other) == TokenCipher(PASSPHRASE).decrypt(sealed) == "the-token"
    fernet_key = TokenCipher.generate_key()
    assert TokenCipher(fernet_key).encrypt("x").startswith("gAAAA"), "a Fernet key is used as it is"
    print("FIGURE key-derivation: scrypt n=2**15 r=8 p=1, 16-byte random salt per installation")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "set but empty"),
        (" , ", "set but empty"),
        ("hunter2", "too weak"),
        ("fifteen-chars!!", "too weak"),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "too weak"),
        ("a-strong-passphrase-here,", "empty key between commas"),
        ("short,a-strong-passphrase-here", "too weak"),
    ],
)
def test_a_weak_or_empty_key_is_refused_with_a_clear_message(value, words):
    with pytest.raises(SettingsError, match=words) as refused:
        load_settings(QBSYNC_SECRET_KEY=value)
    assert "QBSYNC_SECRET_KEY" in str(refused.value)
    assert not value.strip(" ,") or value.split(",")[0] not in str(refused.value), "the key is not printed"


def test_strong_keys_and_an_old_weak_key_kept_for_reading_are_accepted():
    for value in (PASSPHRASE, TokenCipher.generate_key(), f"{PASSPHRASE},hunter2", "x" * 10 + "abcdef"):
        assert load_settings(QBSYNC_SECRET_KEY=value).secret_key.get_secret_value() == value


def test_every_command_refuses_a_weak_key_at_start(cli_env, tmp_path):
    refused = 0
    for command in (["problems"], ["serve", "--port", "59123"], ["sync", "--all"]):
        run = subprocess.run(
            [sys.executable, "-c", "from cli import main; main()", *command],
            env={**os.environ, "QBSYNC_SECRET_KEY": "hunter2", "QBSYNC_SCHEDULER": "off"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2, (command, run.stderr)
        assert "QBSYNC_SECRET_KEY is too weak" in run.stderr and "Traceback" not in run.stderr
        assert "hunter2" not in run.stderr + run.stdout
        refused += 1
    print(f"FIGURE weak-keys: {refused} of 3 commands refused a weak key at start (exit 2)")


def test_tokens_stored_with_the_old_derivation_open_and_are_reencrypted_on_the_next_write(
    connected, engine, emu, settings
):
    cipher = connected.cipher
    plain = {name: cipher.decrypt(value) for name, value in stored(engine).items()}
    old = {name: legacy(TEST_SECRET_KEY).encrypt(value.encode()).decode() for name, value in plain.items()}
    with engine.begin() as conn:  # what an earlier version left in the database
        conn.execute(
            sa.update(QboConnection).values(access_token=old["access"], refresh_token=old["refresh"])
        )

    later = bootstrap(settings, engine=engine)  # the new version starts
    before = refreshes(emu)
    assert "totalCount" in later.api.query("SELECT count(*) FROM Item")
    assert refreshes(emu) == before, "the old access token was read, not replaced by a refresh"
    assert stored(engine) == old, "reading writes nothing"

    emu.expire_tokens()  # the next write: the refresh
    assert "totalCount" in later.api.query("SELECT count(*) FROM Item")
    now = stored(engine)
    assert all(value.startswith("qbs2$") for value in now.values()), now
    for value in now.values():
        with pytest.raises(InvalidToken):
            legacy(TEST_SECRET_KEY).decrypt(value.split("$", 2)[2].encode())
    assert cipher.decrypt(now["refresh"]) in emu.emulator.tokens.refresh_tokens
    assert later.connection.status().connected
    print("FIGURE old-derivation: tokens stored unsalted opened, re-encrypted salted on the next refresh")
