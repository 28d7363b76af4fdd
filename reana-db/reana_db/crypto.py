"""Encryption of secrets and tokens at rest, keyed by ``REANA_SECRET_KEY``.

Tokens are stored twice: an HMAC digest for lookup (so a token is found
without decrypting every row) and a Fernet ciphertext so ``/api/you`` can show
the user their own token, as REANA does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from reana_commons.config import get_config


def _fernet(secret_key: str | None = None):
    # Imported here: cryptography costs ~8 MB in every process that imports reana-db,
    # and most (every API request authenticates by digest) never encrypt anything.
    from cryptography.fernet import Fernet

    key = (secret_key or get_config().secret_key).encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key).digest()))


def encrypt(value: str | bytes, secret_key: str | None = None) -> str:
    """Encrypt ``value`` with the platform key; returns ASCII text."""
    if isinstance(value, str):
        value = value.encode()
    return _fernet(secret_key).encrypt(value).decode()


def decrypt(token: str, secret_key: str | None = None) -> bytes:
    """Decrypt what :func:`encrypt` produced; raises ``ValueError`` on a wrong key."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret_key).decrypt(token.encode())
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong REANA_SECRET_KEY or corrupted value") from error


def token_digest(token: str, secret_key: str | None = None) -> str:
    """Keyed digest of an access token, used to look it up."""
    key = (secret_key or get_config().secret_key).encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def new_access_token() -> str:
    """A new random access token (URL-safe, 32 bytes of entropy)."""
    return secrets.token_urlsafe(32)
