"""The fake provider server's memory: recorded requests, injected fault rules, prompt cache.

A fault rule, as posted to ``/_fake/faults``::

    {"match": {"path_contains"?: str, "model"?: str},
     "fault": "429" | "500" | "503" | "context_length" | "hang" | "drop" | "cut_stream" | "slow_first_token"
              | "slow_stream",
     "times"?: int,          # default: until cleared
     "retry_after"?: float | null,  # seconds, for "429" (default 1; null sends no Retry-After)
     "probability"?: float,  # chance that a matching request is hit (default 1); a miss spends no `times`
     "delay"?: float,        # seconds, for "slow_first_token" (default 2), or between chunks for "slow_stream"
     "after_chunks"?: int}   # chunks sent before "cut_stream" drops the connection (default 2)

Rules are kept in the order they were added; the first one that matches a request applies.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass
from typing import Any

from fake_providers.prompt_cache import PromptCache

__all__ = ["FAULT_KINDS", "FakeState", "FaultRule"]

Json = dict[str, Any]

FAULT_KINDS = ("429", "500", "503", "context_length", "hang", "drop", "cut_stream", "slow_first_token", "slow_stream")
"""Every fault a rule may inject."""

_RULE_KEYS = {"match", "fault", "times", "retry_after", "delay", "after_chunks", "probability"}


def _number(raw: Json, key: str, default: float, *, integer: bool = False) -> Any:
    value = raw.get(key, default)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        kind = "a non-negative integer" if integer else "a non-negative number"
        raise ValueError(f"fault rule '{key}' must be {kind}, got {value!r}")
    return value


@dataclass
class FaultRule:
    """One injected fault and the requests it applies to."""

    fault: str
    path_contains: str | None = None
    model: str | None = None
    times: int | None = None
    retry_after: float | None = 1.0
    probability: float = 1.0
    delay: float = 2.0
    after_chunks: int = 2

    @classmethod
    def from_json(cls, raw: Any) -> FaultRule:
        """Validate one rule as posted to ``/_fake/faults``; ``ValueError`` names the fix."""
        if not isinstance(raw, dict):
            raise ValueError(f"each fault rule must be an object, got {raw!r}")
        if unknown := set(raw) - _RULE_KEYS:
            raise ValueError(f"unknown fault rule keys {sorted(unknown)}; use {sorted(_RULE_KEYS)}")
        fault = str(raw.get("fault"))
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {raw.get('fault')!r}; use one of {list(FAULT_KINDS)}")
        match = raw.get("match") or {}
        if (
            not isinstance(match, dict)
            or set(match) - {"path_contains", "model"}
            or not all(isinstance(v, str) for v in match.values())
        ):
            raise ValueError(f"'match' takes only string 'path_contains' and 'model', got {match!r}")
        times = raw.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise ValueError(f"fault rule 'times' must be a positive integer, got {times!r}")
        return cls(
            fault=fault,
            path_contains=match.get("path_contains"),
            model=match.get("model"),
            times=times,
            retry_after=None if "retry_after" in raw and raw["retry_after"] is None
            else _number(raw, "retry_after", 1.0),
            probability=_probability(raw.get("probability", 1.0)),
            delay=_number(raw, "delay", 2.0),
            after_chunks=_number(raw, "after_chunks", 2, integer=True),
        )

    def matches(self, path: str, model: str | None) -> bool:
        """Whether a request to ``path`` for ``model`` is subject to this rule."""
        if self.path_contains is not None and self.path_contains not in path:
            return False
        return self.model is None or self.model == model


class FakeState:
    """What the fake remembers between requests: recorded requests, fault rules, prompt cache."""

    def __init__(self) -> None:
        self.cache = PromptCache()
        self._requests: list[Json] = []
        self._faults: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(20261127)
        # Routes run on the server's loop thread; tests read from theirs.
        self._lock = threading.Lock()

    def next_id(self) -> str:
        """A fresh id suffix (``fake000001`` …), unique for this server's lifetime."""
        with self._lock:
            return f"fake{next(self._ids):06d}"

    def record(self, entry: Json) -> None:
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[Json]:
        """Every provider request seen since the last clear, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_faults(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._faults.extend(rules)

    def faults(self) -> list[FaultRule]:
        with self._lock:
            return list(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, path: str, model: str | None) -> FaultRule | None:
        """The first rule matching the request (and its probability draw), spending one of its ``times``."""
        with self._lock:
            for rule in self._faults:
                if rule.matches(path, model) and (rule.probability >= 1 or self._rng.random() < rule.probability):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times == 0:
                            self._faults.remove(rule)
                    return rule
        return None

    def reset(self) -> None:
        """Forget requests, faults and cached prompt prefixes."""
        self.clear_requests()
        self.clear_faults()
        self.cache.clear()


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"fault rule 'probability' must be a number in (0, 1], got {value!r}")
    return float(value)
