"""The state store: one SQL interface over SQLite (embedded default) and PostgreSQL (clusters)."""

from tollgate_core.store.base import Database, Row, Transaction, open_database

__all__ = ["Database", "Row", "Transaction", "open_database"]
