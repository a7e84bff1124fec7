"""Sealed texts: a team's redacted prompts and answers, encrypted into its audit records (opt-in).

Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``. The key is a Fernet
key (32 url-safe base64 bytes) from the environment; several keys separated by
commas, newest first, let old records be opened after a key rotation.
"""

from __future__ import annotations

import binascii
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from serve_app.audit.chain import canonical_json
from serve_app.audit.errors import SealingKeyError, UnsealError

__all__ = ["generate_key", "seal", "sealing_key_from_env", "unseal"]

_HOW_TO = ("generate one with `python -c 'from cryptography.fernet import Fernet; "
           "print(Fernet.generate_key().decode())'`")


def generate_key() -> str:
    """A new Fernet key, as text."""
    return str(Fernet.generate_key().decode("ascii"))


def seal(payload: dict[str, Any], key: str) -> str:
    """Encrypt ``payload`` (JSON-serialisable) into a token for ``AuditRecord.sealed_text``."""
    return str(_fernet(key).encrypt(canonical_json(payload).encode()).decode("ascii"))


def unseal(token: str, key: str) -> dict[str, Any]:
    """Decrypt a token made by :func:`seal`; :class:`UnsealError` for a wrong key or a damaged token."""
    try:
        data = _fernet(key).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise UnsealError(
            "cannot unseal the stored text: the key is not the one it was sealed with, or the token is damaged"
        ) from exc
    payload: dict[str, Any] = json.loads(data)
    return payload


def sealing_key_from_env(name: str) -> str:
    """The key in the environment variable ``name``, checked now so a bad key fails at start."""
    key = os.environ.get(name, "").strip()
    if not key:
        raise SealingKeyError(f"{name} is not set; it must hold the Fernet key that seals stored texts: {_HOW_TO}")
    _fernet(key, source=name)
    return key


@lru_cache(maxsize=8)
def _fernet(key: str, source: str = "the sealing key") -> MultiFernet:
    parts = [part.strip() for part in key.split(",") if part.strip()]
    if not parts:
        raise SealingKeyError(f"{source} is empty; it must be a Fernet key: {_HOW_TO}")
    try:
        return MultiFernet([Fernet(part) for part in parts])
    except (ValueError, binascii.Error) as exc:
        raise SealingKeyError(
            f"{source} is not a Fernet key (32 url-safe base64-encoded bytes; several may be separated by "
            f"commas): {_HOW_TO}"
        ) from exc
