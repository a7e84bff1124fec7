"""Stored Responses API answers, for ``previous_response_id`` and ``GET /v1/responses/{id}``.

Kept in the gateway's state store (table ``stored_responses``) so every ingress replica sees them;
a stored response belongs to the team of the key that created it (``''`` for the master key),
and no other team can read, continue or delete it. Without a state store (the in-process
gateway of the unit tests) they are kept in memory, the newest ``memory_limit``.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any

from tollgate_core.store import Database

__all__ = ["ResponseStore"]


class ResponseStore:
    def __init__(self, db: Database | None, *, memory_limit: int = 10_000) -> None:
        self._db = db
        self._memory: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        self._memory_limit = memory_limit

    async def save(self, owner: str, response: dict[str, Any], conversation: list[dict[str, Any]]) -> None:
        row = (response["id"], owner, json.dumps(response, ensure_ascii=False), json.dumps(conversation,
                                                                                            ensure_ascii=False))
        if self._db is None:
            self._memory[row[0]] = row[1:]
            while len(self._memory) > self._memory_limit:
                self._memory.popitem(last=False)
            return
        async with self._db.transaction() as tx:
            await tx.execute("INSERT INTO stored_responses (id, owner, response, conversation, created_at) "
                             "VALUES ($1, $2, $3, $4, $5)", *row, time.time())

    async def load(self, owner: str, response_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The response and its whole conversation (without instructions), if ``owner`` may see it."""
        if self._db is None:
            found = self._memory.get(response_id)
            if found is None or found[0] != owner:
                return None
            return json.loads(found[1]), json.loads(found[2])
        row = await self._db.fetchone(
            "SELECT response, conversation FROM stored_responses WHERE id = $1 AND owner = $2", response_id, owner)
        return (json.loads(row["response"]), json.loads(row["conversation"])) if row else None

    async def delete(self, owner: str, response_id: str) -> bool:
        if self._db is None:
            found = self._memory.get(response_id)
            if found is None or found[0] != owner:
                return False
            del self._memory[response_id]
            return True
        async with self._db.transaction() as tx:
            row = await tx.fetchone("DELETE FROM stored_responses WHERE id = $1 AND owner = $2 RETURNING id",
                                    response_id, owner)
        return row is not None
