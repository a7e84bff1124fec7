"""The cross-encoder's thresholds are chosen as the rule says: the lowest one with few enough wrong hits overall and,
for strict, no near-miss family of any one set over its limit."""

from __future__ import annotations

import numpy as np

from training.cache.cross_encoder import _choose, _worst_family


def _rows(name: str, families: dict[str, str], count: int) -> list[dict[str, str]]:
    return [{"set": name, "family": family, "kind": kind} for family, kind in families.items() for _ in range(count)]


def test_strict_rises_until_no_family_of_one_set_is_over_its_limit() -> None:
    families = {"synonyms": "paraphrase", "negation": "near_miss", "role": "near_miss"}
    rows = _rows("a", families, 20) + _rows("b", families, 20)
    served = np.full(len(rows), -1.0)
    served[0:20] = served[60:80] = 0.9          # every paraphrase of both sets, at 0.9
    served[20:22] = 0.3                          # two negation near misses of set a (10 %), at 0.3
    served[100] = 0.5                            # one role near miss of set b (5 %), at 0.5
    undecided = [None] * len(rows)
    # 3 wrong of 43 hits at 0.05: 7 %. Over 0.3 only one is left: 1 of 41, 2.4 %, and no family is over 5 %.
    assert _choose(rows, undecided, served, max_wrong=0.07) == 0.05
    assert _choose(rows, undecided, served, max_wrong=0.07, max_family=0.05) == 0.31
    assert _choose(rows, undecided, served, max_wrong=0.02) == 0.51
    hits = served >= 0.05
    assert _worst_family(rows, hits) == 0.10


def test_no_threshold_meets_the_rule_then_nothing_is_served() -> None:
    rows = _rows("a", {"synonyms": "paraphrase", "negation": "near_miss"}, 2)
    served = np.array([0.9, 0.9, 0.99, -1.0])
    assert _choose(rows, [None] * 4, served, max_wrong=0.0) == 1.0
