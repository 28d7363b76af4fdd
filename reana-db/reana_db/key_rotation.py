"""Re-encryption of tokens and secrets when ``REANA_SECRET_KEY`` changes."""

from __future__ import annotations

from reana_commons.config import get_config
from sqlalchemy import select
from sqlalchemy.orm import Session

from reana_db.crypto import decrypt, encrypt, token_digest
from reana_db.models import UserSecret, UserToken


def reencrypt_all(session: Session, old_key: str, new_key: str | None = None) -> tuple[int, int]:
    """Re-encrypt every token (and its lookup digest) and secret; returns their counts.

    Raises ``ValueError`` when a value does not decrypt with ``old_key`` (nothing
    is changed then, as the caller rolls back).
    """
    new_key = new_key or get_config().secret_key
    tokens = 0
    for token in session.scalars(select(UserToken).where(UserToken.token_encrypted.is_not(None))):
        value = decrypt(token.token_encrypted, old_key).decode()
        token.token_encrypted = encrypt(value, new_key)
        token.token_digest = token_digest(value, new_key)
        tokens += 1
    secrets = 0
    for secret in session.scalars(select(UserSecret)):
        secret.value_encrypted = encrypt(decrypt(secret.value_encrypted, old_key), new_key)
        secrets += 1
    session.flush()
    return tokens, secrets
