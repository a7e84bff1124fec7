"""The hash chain: canonical JSON of a record, each record's link hash, and signed checkpoints.

``hash_n = sha256(f"{seq}\\n{prev_hash}\\n{canonical_json}")`` with the genesis
``prev_hash`` being 64 zeros; a checkpoint signs ``f"{seq}:{hash}"`` with
HMAC-SHA256. Anyone can recompute the links; only the holder of the HMAC key can
sign a checkpoint, so rewriting the chain past a checkpoint is detectable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["GENESIS_HASH", "canonical_json", "chain_hash", "checkpoint_mac", "mac_is_valid"]

GENESIS_HASH = "0" * 64


def canonical_json(record: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 kept as is: the exact text that is stored and hashed."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(seq: int, prev_hash: str, canonical: str) -> str:
    """The hex SHA-256 that links record ``seq`` to its predecessor."""
    return hashlib.sha256(f"{seq}\n{prev_hash}\n{canonical}".encode()).hexdigest()


def checkpoint_mac(key: bytes, seq: int, hash_: str) -> str:
    """The hex HMAC-SHA256 of a checkpoint at record ``seq`` whose chain hash is ``hash_``."""
    return hmac.new(key, f"{seq}:{hash_}".encode(), hashlib.sha256).hexdigest()


def mac_is_valid(key: bytes, seq: int, hash_: str, mac: str) -> bool:
    return hmac.compare_digest(checkpoint_mac(key, seq, hash_), mac)
