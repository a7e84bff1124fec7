"""Sealed texts: Fernet round trip, a clear error for a wrong or malformed key, key rotation."""

from __future__ import annotations

import pytest

from serve_app.audit.errors import SealingKeyError, UnsealError
from serve_app.audit.sealing import generate_key, seal, sealing_key_from_env, unseal
from tollgate_core.errors import ConfigError

PAYLOAD = {"prompt": "my email is <EMAIL_ADDRESS_1>", "response": "Noted, <EMAIL_ADDRESS_1>. Ça va ?"}


def test_seal_round_trips() -> None:
    key = generate_key()
    token = seal(PAYLOAD, key)
    assert "EMAIL" not in token and "prompt" not in token
    assert unseal(token, key) == PAYLOAD


def test_a_wrong_key_fails_clearly() -> None:
    token = seal(PAYLOAD, generate_key())
    with pytest.raises(UnsealError, match="not the one it was sealed with"):
        unseal(token, generate_key())


def test_a_damaged_token_fails_clearly() -> None:
    key = generate_key()
    token = seal(PAYLOAD, key)
    with pytest.raises(UnsealError):
        unseal(token[:-4] + "AAAA", key)


@pytest.mark.parametrize("key", ["", "short", "x" * 44, "é" * 44], ids=["empty", "short", "not-base64", "non-ascii"])
def test_a_malformed_key_is_a_config_error(key: str) -> None:
    with pytest.raises(SealingKeyError, match="Fernet key") as caught:
        seal(PAYLOAD, key)
    assert isinstance(caught.value, ConfigError)
    assert "generate one" in caught.value.message


def test_rotation_opens_old_tokens_with_a_new_key_first() -> None:
    old, new = generate_key(), generate_key()
    token = seal(PAYLOAD, old)
    assert unseal(token, f"{new},{old}") == PAYLOAD
    assert unseal(seal(PAYLOAD, f"{new},{old}"), new) == PAYLOAD


def test_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key()
    monkeypatch.setenv("AUDIT_SEAL_KEY_TEST", f" {key}\n")
    assert sealing_key_from_env("AUDIT_SEAL_KEY_TEST") == key
    monkeypatch.setenv("AUDIT_SEAL_KEY_TEST", "nonsense")
    with pytest.raises(SealingKeyError, match="AUDIT_SEAL_KEY_TEST is not a Fernet key"):
        sealing_key_from_env("AUDIT_SEAL_KEY_TEST")
    monkeypatch.delenv("AUDIT_SEAL_KEY_TEST")
    with pytest.raises(SealingKeyError, match="AUDIT_SEAL_KEY_TEST is not set"):
        sealing_key_from_env("AUDIT_SEAL_KEY_TEST")
