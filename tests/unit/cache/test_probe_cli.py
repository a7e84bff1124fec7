"""``tollgate cache probe``: each line judged on its own through the gateway's cache path."""

from __future__ import annotations

import io
import json

import numpy as np

from deployments.cache.embedder import Embedder
from deployments.cache.probe_cli import run_probe
from tollgate_core.config import CacheConfig


def _probe(lines: list[object], cache: CacheConfig | None = None) -> tuple[int, list[dict[str, object]]]:
    source = io.StringIO("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    out = io.StringIO()
    code = run_probe(source, out, cache or CacheConfig())
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_line_is_judged_alone_with_the_cosine_of_query_and_seed(embedder: Embedder) -> None:
    seed, other = "How do I lose 5 kg in a month?", "How do I lose 10 kg in a month?"
    code, rows = _probe([
        {"id": "same", "seed": seed, "query": "  how do I lose 5 KG in a month?"},
        {"id": "number", "seed": seed, "query": other},
        # Had the first line's seed stayed in the cache, this query would be an exact hit.
        {"id": "fresh", "seed": "Why is the sky blue?", "query": seed},
    ])
    assert code == 0
    assert [row["id"] for row in rows] == ["same", "number", "fresh"]
    assert rows[0] == {"id": "same", "hit": True, "similarity": 1.0}
    assert rows[1]["hit"] is False
    a, b = embedder.embed([seed, other])
    assert abs(float(rows[1]["similarity"]) - float(np.dot(a, b))) < 1e-4  # type: ignore[arg-type]
    assert rows[2]["hit"] is False and float(rows[2]["similarity"]) < 0.5  # type: ignore[arg-type]


def test_the_cosine_decision_follows_the_config() -> None:
    line = {"seed": "How do I lose 5 kg in a month?", "query": "How do I lose 10 kg in a month?"}
    _, [checked] = _probe([line])
    _, [plain] = _probe([line], CacheConfig(decision="cosine", cosine_threshold=0.8, checks=False))
    _, [cosine_checked] = _probe([line], CacheConfig(decision="cosine", cosine_threshold=0.8))
    assert checked["hit"] is False and checked["refused_by"] == "number"  # the probe says which check refused
    assert plain["hit"] is True  # a plain cosine threshold sees no difference
    assert cosine_checked["hit"] is False and cosine_checked["refused_by"] == "number"


def test_bad_lines_get_an_error_line_and_a_nonzero_exit() -> None:
    code, rows = _probe(["not json", {"seed": "a question"}, {"seed": 1, "query": "x"},
                         {"seed": "Why is the sky blue?", "query": "Why is the sky blue?"}])
    assert code == 1
    assert [("error" in row) for row in rows] == [True, True, True, False]
    assert all("bad input line" in str(row["error"]) for row in rows[:3])
    assert rows[3] == {"hit": True, "similarity": 1.0}
