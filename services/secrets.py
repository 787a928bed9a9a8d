"""Encryption of tokens at rest (Fernet, from the ``cryptography`` library).

``QBSYNC_SECRET_KEY`` may be a Fernet key or any passphrase (a key is derived from it with SHA-256).
Several keys separated by commas rotate: the first encrypts, all decrypt.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.errors import ConfigurationError


def _fernet(key: str) -> Fernet:
    key = key.strip()
    try:
        return Fernet(key.encode())
    except ValueError:
        derived = base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())
        return Fernet(derived)


class TokenCipher:
    def __init__(self, secret_key: str | None) -> None:
        keys = [part for part in (secret_key or "").split(",") if part.strip()]
        self._fernet = MultiFernet([_fernet(k) for k in keys]) if keys else None

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def encrypt(self, plaintext: str) -> str:
        if self._fernet is None:
            raise ConfigurationError("QBSYNC_SECRET_KEY must be set to store QuickBooks tokens")
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        if self._fernet is None:
            raise ConfigurationError("QBSYNC_SECRET_KEY must be set to read the stored QuickBooks tokens")
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "the stored QuickBooks tokens cannot be decrypted with QBSYNC_SECRET_KEY "
                "(was the key changed?)"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
