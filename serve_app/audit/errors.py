"""The audit package's errors, all inside the gateway's one error tree::

    TollgateError
    ├── AuditError (503)
    │   ├── AuditWriteError: a batch of records did not commit; its requests must not complete
    │   ├── AuditIntegrityError: pruning refused, the chain does not verify where it would be cut
    │   └── UnsealError: a sealed text cannot be opened (wrong key, damaged token)
    └── ConfigError
        └── SealingKeyError: the sealing key is missing or not a Fernet key
"""

from __future__ import annotations

from tollgate_core.errors import ConfigError, TollgateError

__all__ = ["AuditError", "AuditIntegrityError", "AuditWriteError", "SealingKeyError", "UnsealError"]


class AuditError(TollgateError):
    """Base of the audit trail's errors."""

    status_code = 503
    error_type = "api_error"
    code = "audit_unavailable"


class AuditWriteError(AuditError):
    """The audit record could not be committed; the request it describes must not be reported complete."""


class AuditIntegrityError(AuditError):
    """The chain does not verify where an operation needs it to; run ``tollgate audit verify``."""


class UnsealError(AuditError):
    """A sealed text cannot be decrypted with the configured key."""


class SealingKeyError(ConfigError):
    """The key for sealing texts is missing or malformed."""
