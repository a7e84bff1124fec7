"""The HMAC key that signs the chain's checkpoints: one rule for the gateway and the CLI.

The key is the UTF-8 bytes of the variable's value (or the key file's text),
stripped. The local profile may generate it once into ``DATA_DIR/audit_hmac_key``;
readers (``tollgate audit``) never generate one, since a new key would make
every existing checkpoint look forged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tollgate_core.config import GatewayConfig
from tollgate_core.errors import ConfigError

__all__ = ["HMAC_KEY_ENV", "HMAC_KEY_FILE", "gateway_hmac_key", "stored_hmac_key"]

HMAC_KEY_ENV = "TOLLGATE_AUDIT_HMAC_KEY"
HMAC_KEY_FILE = "audit_hmac_key"


def gateway_hmac_key(config: GatewayConfig) -> bytes:
    """For the gateway: the variable ``audit.hmac_key_env``, else (local profile) the generated key file."""
    from serve_app.pipeline.auth import resolve_secret

    key = resolve_secret(config, config.audit.hmac_key_env, HMAC_KEY_FILE, config.audit.generate_hmac_key,
                         lambda: secrets.token_hex(32), what="the audit log's HMAC key", announce=True)
    return key.encode()


def stored_hmac_key(env: str, data_dir: Path | None) -> bytes:
    """For readers: the variable ``env``, else ``data_dir/audit_hmac_key`` if the gateway generated one."""
    key = os.environ.get(env, "").strip()
    if key:
        return key.encode()
    if data_dir is not None:
        path = data_dir / HMAC_KEY_FILE
        if path.is_file():
            text = path.read_text(encoding="utf-8").strip()
            if text:
                return text.encode()
    where = f" and {data_dir / HMAC_KEY_FILE} does not exist" if data_dir is not None else ""
    raise ConfigError(f"{env} is not set{where}; set it to the gateway's audit HMAC key")
