"""serve_app.heap: what a replica built at start is frozen out of the garbage collector's walks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from serve_app.heap import freeze_startup_heap
from tollgate_core.config import parse_gateway_config


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_freeze_leave_the_collectors_walks(unfrozen: None) -> None:
    built_at_start = {"model": [1.0] * 8}
    assert any(o is built_at_start for o in gc.get_objects())

    frozen = freeze_startup_heap()

    # Not compared with a later gc.get_freeze_count(): frozen objects released since have left the count.
    assert frozen > 0
    assert not any(o is built_at_start for o in gc.get_objects())
    allocated_later = {"request": []}
    assert any(o is allocated_later for o in gc.get_objects())


def test_garbage_made_before_the_freeze_is_collected_not_frozen(unfrozen: None) -> None:
    class Node:
        pass

    cycle = Node()
    cycle.self = cycle  # type: ignore[attr-defined]
    # type(), not isinstance(): isinstance reads __class__, which some objects of a full test session's heap (torch's
    # deprecated reduce_op) answer with a warning.
    nodes_before = sum(1 for o in gc.get_objects() if type(o) is Node)
    del cycle

    freeze_startup_heap()

    assert nodes_before == 1
    gc.unfreeze()
    assert not [o for o in gc.get_objects() if type(o) is Node]


def test_the_ingress_freezes_by_default_and_the_config_can_turn_it_off() -> None:
    base = {"models": {"m": {"targets": [{"provider": "openai", "model": "gpt-4o", "api_key_env": "K"}]}}}
    assert parse_gateway_config(base).server.gc_freeze is True
    assert parse_gateway_config({**base, "server": {"gc_freeze": False}}).server.gc_freeze is False
