"""Tokens and secrets are stored encrypted, and survive a secret-key rotation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from reana_db.cli import cli
from reana_db.crypto import decrypt, encrypt
from reana_db.enums import SecretType, UserTokenStatus
from reana_db.user_secrets import (
    SecretsAlreadyExist,
    add_secrets,
    delete_secrets,
    list_secrets,
    secret_values,
)
from reana_db.users import find_token, grant_token, revoke_tokens, token_value
from reana_testing.pytest_plugin import apply_env


def _raw(db, sql, **params):
    return db.execute(sa.text(sql), params).all()


def test_tokens_are_encrypted_at_rest(db, user):
    token = user.test_token
    rows = _raw(db, "SELECT token_digest, token_encrypted, status FROM user_token")
    assert len(rows) == 1
    digest, encrypted, status = rows[0]
    assert token not in digest and token not in encrypted
    assert status == "active"
    stored = find_token(db, token)
    assert stored is not None and stored.user_id == user.id_
    assert token_value(stored) == token
    assert find_token(db, token + "x") is None
    with pytest.raises(ValueError):
        decrypt(encrypted, "another-key")


def test_grant_and_revoke(db, user):
    second = grant_token(db, user)
    assert second != user.test_token
    db.commit()
    db.refresh(user)
    assert revoke_tokens(db, user) == 2
    db.commit()
    assert find_token(db, second).status == UserTokenStatus.revoked
    assert user.active_token is None
    actions = [row[0] for row in _raw(db, "SELECT action FROM audit_log ORDER BY created")]
    assert actions.count("grant_token") == 2 and actions[-1] == "revoke_token"


def test_secrets_are_encrypted_at_rest(db, user, other_user):
    add_secrets(
        db,
        user,
        {"PASSWORD": ("hunter2-plain", "env"), "cert.pem": (b"-----BEGIN-----", SecretType.file)},
    )
    db.commit()
    for (value,) in _raw(db, "SELECT value_encrypted FROM user_secret"):
        assert "hunter2" not in value and "BEGIN" not in value
    assert secret_values(db, user) == {
        "PASSWORD": (SecretType.env, b"hunter2-plain"),
        "cert.pem": (SecretType.file, b"-----BEGIN-----"),
    }
    assert secret_values(db, other_user) == {}
    with pytest.raises(SecretsAlreadyExist) as error:
        add_secrets(db, user, {"PASSWORD": ("x", "env")})
    assert error.value.names == ["PASSWORD"]
    add_secrets(db, user, {"PASSWORD": ("new", "env")}, overwrite=True)
    assert secret_values(db, user)["PASSWORD"] == (SecretType.env, b"new")
    assert delete_secrets(db, user, ["PASSWORD", "nope"]) == (["PASSWORD"], ["nope"])
    db.commit()
    assert [s.name for s in list_secrets(db, user)] == ["cert.pem"]


def test_migrate_secret_key(db, user, monkeypatch, reana_env):
    add_secrets(db, user, {"S": ("value", "env")})
    db.commit()
    old_key = reana_env["REANA_SECRET_KEY"]
    apply_env(monkeypatch, {"REANA_SECRET_KEY": "the-new-key"})
    db.expire_all()
    assert find_token(db, user.test_token) is None  # digest made with the old key
    db.rollback()

    runner = CliRunner()
    failed = runner.invoke(cli, ["migrate-secret-key", "--old-key", "wrong"])
    assert failed.exit_code != 0 and "cannot decrypt" in failed.output
    result = runner.invoke(cli, ["migrate-secret-key", "--old-key", old_key])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-encrypted 1 tokens and 1 secrets."

    db.expire_all()
    stored = find_token(db, user.test_token)
    assert stored is not None and token_value(stored) == user.test_token
    assert secret_values(db, user) == {"S": (SecretType.env, b"value")}
    (encrypted,) = _raw(db, "SELECT value_encrypted FROM user_secret")[0]
    with pytest.raises(ValueError):
        decrypt(encrypted, old_key)


def test_encrypt_roundtrip_with_explicit_key():
    assert decrypt(encrypt("abc", "k1"), "k1") == b"abc"
    assert encrypt("abc", "k1") != encrypt("abc", "k1")  # random IV
