"""The tamper-evident audit trail: one record per request in a hash chain with signed checkpoints.

``AuditWriter`` appends (group commit), ``verify_chain`` checks, ``prune`` applies
retention, ``serve_app.audit.export`` reads records out and ``serve_app.audit.cli``
adds ``tollgate audit``. Sealing texts (``serve_app.audit.sealing``) needs
``cryptography`` and is imported only where used.
"""

from serve_app.audit.errors import AuditError, AuditIntegrityError, AuditWriteError
from serve_app.audit.record import AuditRecord
from serve_app.audit.retention import prune
from serve_app.audit.verify import VerifyReport, key_matches, verify_chain
from serve_app.audit.writer import AuditWriter

__all__ = [
    "AuditError",
    "AuditIntegrityError",
    "AuditRecord",
    "AuditWriteError",
    "AuditWriter",
    "VerifyReport",
    "key_matches",
    "prune",
    "verify_chain",
]
