"""The master key, and reading a caller's key from the request headers (virtual keys: governance)."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from tollgate_core.config import GatewayConfig
from tollgate_core.errors import AuthenticationError, ConfigError

__all__ = [
    "MASTER_KEY_FILE", "bearer_token", "is_master_key", "require_token", "resolve_master_key", "resolve_secret",
]

logger = logging.getLogger("tollgate.auth")

MASTER_KEY_FILE = "master_key"


def resolve_master_key(config: GatewayConfig, *, announce: bool = True) -> str:
    """The master key from the environment, or (local profile only) the generated one.

    The generated key is created once with ``O_EXCL`` so concurrent replicas
    agree on it, and kept readable only by its owner.
    """
    key = resolve_secret(config, config.auth.master_key_env, MASTER_KEY_FILE, config.auth.generate_master_key,
                         lambda: "tg-master-" + secrets.token_urlsafe(24), what="the gateway's master key",
                         announce=announce)
    return key


def resolve_secret(config: GatewayConfig, env: str, filename: str, generate: bool, make: Callable[[], str], *,
                   what: str, announce: bool = False) -> str:
    """A secret from the environment variable ``env``, or one generated once into ``DATA_DIR/filename``
    (only where ``generate`` allows it: the local profile)."""
    key = os.environ.get(env, "").strip()
    if key:
        return key
    if not generate:
        raise ConfigError(f"{env} is not set; set it to {what} (any long random string, e.g. from `openssl rand -hex 32`)")
    path = config.server.resolved_data_dir() / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = make()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    if announce:
        logger.warning("Generated %s for this local gateway (kept in %s; set %s to use your own)", what, path, env)
    return key


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ConfigError(f"{path} is empty; delete it and restart to generate a new master key")
    return key


def bearer_token(authorization: str | None, api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer …`` or the key header (Azure's ``api-key``, Anthropic's ``x-api-key``).

    A request that carries two different keys is refused: accepting it on whichever is valid would let a
    caller's invalid key pass unnoticed.
    """
    bearer = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            bearer = token.strip()
    header = api_key.strip() if api_key and api_key.strip() else None
    if bearer and header and bearer != header:
        raise AuthenticationError("The request carries two different API keys (Authorization and the key header); "
                                  "send one.", code="conflicting_api_keys")
    return bearer or header


def require_token(token: str | None) -> str:
    """The token, or :class:`AuthenticationError` when the request carries none."""
    if token is None:
        raise AuthenticationError(
            "Missing API key. Send it as 'Authorization: Bearer <key>' (or the 'api-key' header).", code="missing_api_key"
        )
    return token


def is_master_key(token: str, master_key: str) -> bool:
    """Constant-time comparison with the master key."""
    return hmac.compare_digest(token.encode(), master_key.encode())
