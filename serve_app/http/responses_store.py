"""Stored Responses API answers, for ``previous_response_id`` and ``GET /v1/responses/{id}``.

Kept in the gateway's state store (table ``stored_responses``) so every ingress replica sees them;
a stored response belongs to the team of the key that created it (``''`` for the master key),
and no other team can read, continue or delete it. It is kept ``state.responses_retention_days``. Without a state store (the in-process
gateway of the unit tests) they are kept in memory, the newest ``memory_limit``.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tollgate_core.store import Database

__all__ = ["ResponseStore"]


class ResponseStore:
    """Responses kept ``retention_s``; expired ones are deleted as new ones are saved, and never returned."""

    def __init__(self, db: Database | None, *, retention_s: float = 30 * 86400, memory_limit: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._memory: OrderedDict[str, tuple[str, str, str, float]] = OrderedDict()
        self._memory_limit = memory_limit
        self._retention_s = retention_s
        self._clock = clock

    async def save(self, owner: str, response: dict[str, Any], conversation: list[dict[str, Any]]) -> None:
        now = self._clock()
        row = (response["id"], owner, json.dumps(response, ensure_ascii=False), json.dumps(conversation,
                                                                                            ensure_ascii=False))
        if self._db is None:
            self._memory[row[0]] = (*row[1:], now)
            while self._memory and (len(self._memory) > self._memory_limit
                                    or next(iter(self._memory.values()))[3] < now - self._retention_s):
                self._memory.popitem(last=False)
            return
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM stored_responses WHERE created_at < $1", now - self._retention_s)
            await tx.execute("INSERT INTO stored_responses (id, owner, response, conversation, created_at) "
                             "VALUES ($1, $2, $3, $4, $5)", *row, now)

    async def load(self, owner: str, response_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The response and its whole conversation (without instructions), if ``owner`` may see it."""
        oldest = self._clock() - self._retention_s
        if self._db is None:
            found = self._memory.get(response_id)
            if found is None or found[0] != owner or found[3] < oldest:
                return None
            return json.loads(found[1]), json.loads(found[2])
        row = await self._db.fetchone(
            "SELECT response, conversation FROM stored_responses WHERE id = $1 AND owner = $2 AND created_at >= $3",
            response_id, owner, oldest)
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
