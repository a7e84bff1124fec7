"""The cache service on both stores with the real embedding model and the shipped decision stage."""

from __future__ import annotations

from typing import Any

from deployments.cache.decision import Decision
from deployments.cache.service import CacheKey, SemanticCacheService
from deployments.cache.step import cache_key
from tests.unit.cache.conftest import Embed, team_principal
from tests.unit.governance.conftest import Clock
from tollgate_core.config import CacheConfig
from tollgate_core.entities import MASTER, Principal
from tollgate_core.store import Database, open_database

ANSWER = {"content": "Paris.", "model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 14, "completion_tokens": 2},
          "target": "openai/gpt-4o", "cost_usd": 0.00006}


def _key(text: str, principal: Principal = MASTER, system: str | None = None) -> CacheKey:
    messages = [{"role": "system", "content": system}] if system else []
    request = {"model": "gpt-4o", "messages": [*messages, {"role": "user", "content": text}], "temperature": 0}
    key = cache_key(CacheConfig(), principal, request)
    assert key is not None
    return key


def _service(db: Database, embed: Embed, clock: Clock, **options: Any) -> SemanticCacheService:
    return SemanticCacheService(db, embed, Decision(), clock=clock, **options)


async def test_exact_hit_without_embedding_then_a_paraphrase_hit(db: Database, embed: Embed, clock: Clock) -> None:
    calls: list[list[str]] = []

    async def counting(texts: list[str]) -> Any:
        calls.append(texts)
        return await embed(texts)

    service = _service(db, counting, clock)
    await service.start()
    miss = await service.lookup(_key("How can I improve my English speaking skills?"))
    assert not miss.hit and miss.vector is not None and len(miss.vector) == 384
    await service.store(_key("How can I improve my English speaking skills?"), ANSWER, 3600, miss.vector)
    calls.clear()
    exact = await service.lookup(_key("how can I improve my ENGLISH speaking skills?"))
    assert (exact.hit, exact.kind, exact.similarity, exact.response) == (True, "exact", 1.0, ANSWER)
    assert calls == [], "an exact hit needs no embedding"
    paraphrase = await service.lookup(_key("How do I get better at speaking English?"))
    assert paraphrase.hit and paraphrase.kind == "semantic" and paraphrase.response == ANSWER
    assert 0 < (paraphrase.similarity or 0) < 1


async def test_near_misses_do_not_hit(db: Database, embed: Embed, clock: Clock) -> None:
    service = _service(db, embed, clock)
    await service.store(_key("What is our corporate policy on remote work?"), ANSWER, 3600)
    await service.store(_key("How do I lose 5 kg in a month?"), ANSWER, 3600)
    for query in ("What is our corporate policy on remote work for contractors?", "How do I lose 20 kg in a month?",
                  "How do I gain 5 kg in a month?"):
        result = await service.lookup(_key(query))
        assert not result.hit, query


async def test_other_scopes_never_hit(db: Database, embed: Embed, clock: Clock) -> None:
    service = _service(db, embed, clock)
    await service.store(_key("How can I improve my English speaking skills?"), ANSWER, 3600)
    for other in (_key("How can I improve my English speaking skills?", principal=team_principal("web")),
                  _key("How can I improve my English speaking skills?", system="Answer as a pirate.")):
        assert other.scope != _key("How can I improve my English speaking skills?").scope
        assert not (await service.lookup(other)).hit


async def test_entries_survive_a_restart_and_expire(store_url: str, embed: Embed, clock: Clock) -> None:
    db = await open_database(store_url)
    try:
        await _service(db, embed, clock).store(_key("How can I improve my English speaking skills?"), ANSWER, 60)
    finally:
        await db.close()
    db = await open_database(store_url)
    try:
        restarted = _service(db, embed, clock)
        assert await restarted.start() == 1
        assert (await restarted.lookup(_key("How do I get better at speaking English?"))).hit
        clock.advance(61)
        assert not (await restarted.lookup(_key("How can I improve my English speaking skills?"))).hit
        assert not (await restarted.lookup(_key("How do I get better at speaking English?"))).hit
        assert await restarted.delete_expired() == 1
    finally:
        await db.close()


async def test_an_entry_stored_on_one_replica_hits_on_another(store_url: str, embed: Embed, clock: Clock) -> None:
    first, second = await open_database(store_url), await open_database(store_url)
    try:
        a = _service(first, embed, clock, sync_interval_s=0.001)
        b = _service(second, embed, clock, sync_interval_s=0.001)
        await a.start()
        await b.start()
        await a.store(_key("How can I improve my English speaking skills?"), ANSWER, 3600)
        assert (await b.lookup(_key("How do I get better at speaking English?"))).kind == "semantic"
        # Purged through a: b still has the vector, finds the row gone, and misses.
        assert await a.purge() == 1
        assert not (await b.lookup(_key("How do I get better at speaking English?"))).hit
        assert len(b.index) == 0
    finally:
        await first.close()
        await second.close()


async def test_purge_by_tenant_model_and_age(db: Database, embed: Embed, clock: Clock) -> None:
    service = _service(db, embed, clock)
    team_a = CacheKey(scope="sa", exact_key="ea", tenant="team:acme/a", model="m1", query="first question")
    team_b = CacheKey(scope="sb", exact_key="eb", tenant="team:acme/b", model="m2", query="second question")
    await service.store(team_a, ANSWER, 3600)
    clock.advance(100)
    await service.store(team_b, ANSWER, 3600)
    assert await service.purge(older_than_s=50) == 1  # only team_a's is that old
    assert await service.purge(tenant="team:acme/a") == 0
    assert await service.purge(model="m2") == 1
    assert (await service.stats())["entries"] == 0
