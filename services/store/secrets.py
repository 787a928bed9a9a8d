"""Encryption of tokens at rest (Fernet, from the ``cryptography`` library).

``QBSYNC_SECRET_KEY`` is a Fernet key (``qbsync``'s ``TokenCipher.generate_key()``, 44 characters) or a
passphrase of at least 16 characters, 6 of them different (anything else is refused at start). A
passphrase is stretched with scrypt (n=2**15, r=8, p=1) and a random 16-byte salt; the salt is stored
with each ciphertext (``qbs2$<salt>$<Fernet token>``), so the same passphrase gives another key in
every installation. Several keys separated by commas rotate: the
first encrypts, all decrypt.

Tokens stored before the passphrase was salted (a key made with one unsalted SHA-256 of the
passphrase, no prefix) still open: that derivation is tried last, for reading only, and the next write
(the next refresh, or a new connection) stores them in the salted form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from services.errors import ConfigurationError

PREFIX = "qbs2$"
SALT_BYTES = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSPHRASE = 16
MIN_DISTINCT = 6  # "aaaaaaaaaaaaaaaa" is 16 characters and no secret

_derived: dict[tuple[str, bytes], Fernet] = {}
_salts: dict[str, bytes] = {}  # one encryption salt per passphrase per process: one derivation
_guard = threading.Lock()


def split_keys(secret_key: str | None) -> list[str]:
    return [part.strip() for part in (secret_key or "").split(",") if part.strip()]


def is_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except (ValueError, binascii.Error):
        return False
    return True


def key_problem(secret_key: str) -> str | None:
    """Why ``secret_key`` (the value of QBSYNC_SECRET_KEY) cannot be used, or None.

    The first key encrypts: it must be a Fernet key or a passphrase of at least 16 characters. Later
    keys only read tokens stored with them (rotation), so an old weak key may stay there until the
    next refresh has re-encrypted the tokens with the first."""
    parts = [part.strip() for part in secret_key.split(",")]
    if not any(parts):
        return "QBSYNC_SECRET_KEY is set but empty; unset it, or give a Fernet key or a passphrase"
    if any(not part for part in parts):
        return "QBSYNC_SECRET_KEY has an empty key between commas (write new,old)"
    first = parts[0]
    if not is_fernet_key(first) and (len(first) < MIN_PASSPHRASE or len(set(first)) < MIN_DISTINCT):
        return (
            f"QBSYNC_SECRET_KEY is too weak: a passphrase needs at least {MIN_PASSPHRASE} characters, "
            f"{MIN_DISTINCT} of them different (it has {len(first)}, {len(set(first))} different), "
            "or use a Fernet key (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'). To keep reading tokens stored with the "
            "old key, set QBSYNC_SECRET_KEY=new,old"
        )
    return None


def _legacy(passphrase: str) -> Fernet:
    """The unsalted derivation of earlier versions: read-only."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))


def _stretched(passphrase: str, salt: bytes) -> Fernet:
    with _guard:
        found = _derived.get((passphrase, salt))
    if found is None:
        kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        found = Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode())))
        with _guard:
            _derived[(passphrase, salt)] = found
    return found


def _encryption_salt(passphrase: str) -> bytes:
    with _guard:
        return _salts.setdefault(passphrase, os.urandom(SALT_BYTES))


class TokenCipher:
    def __init__(self, secret_key: str | None) -> None:
        self._keys = split_keys(secret_key)

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def prepare(self) -> None:
        """Derive the encryption key now (scrypt takes tens of milliseconds), so that storing a token
        received from Intuit costs no time between its arrival and its commit."""
        if self._keys and not is_fernet_key(self._keys[0]):
            _stretched(self._keys[0], _encryption_salt(self._keys[0]))

    def encrypt(self, plaintext: str) -> str:
        if not self._keys:
            raise ConfigurationError("QBSYNC_SECRET_KEY must be set to store QuickBooks tokens")
        first = self._keys[0]
        if is_fernet_key(first):
            return Fernet(first.encode()).encrypt(plaintext.encode()).decode()
        salt = _encryption_salt(first)
        token = _stretched(first, salt).encrypt(plaintext.encode()).decode()
        return f"{PREFIX}{base64.urlsafe_b64encode(salt).decode()}${token}"

    def decrypt(self, ciphertext: str) -> str:
        if not self._keys:
            raise ConfigurationError("QBSYNC_SECRET_KEY must be set to read the stored QuickBooks tokens")
        salt, token = _parse(ciphertext)
        candidates = []
        for key in self._keys:
            if is_fernet_key(key):
                candidates.append(Fernet(key.encode()))
            elif salt is not None:
                candidates.append(_stretched(key, salt))
            else:
                candidates.append(_legacy(key))
        try:
            return MultiFernet(candidates).decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "the stored QuickBooks tokens cannot be decrypted with QBSYNC_SECRET_KEY "
                "(was the key changed?)"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()


def _parse(ciphertext: str) -> tuple[bytes | None, str]:
    """(salt, Fernet token) of a stored value; no salt for a Fernet key's or an old value."""
    if not ciphertext.startswith(PREFIX):
        return None, ciphertext
    salt, _, token = ciphertext[len(PREFIX) :].partition("$")
    try:
        return base64.urlsafe_b64decode(salt.encode()), token
    except (ValueError, binascii.Error):
        return None, token
