"""cluster.yaml stays valid for Ray's cluster launcher: Ray's own schema (ray/autoscaler/ray-schema.json) and the
checks `ray up` makes before it starts anything (head node type, worker counts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray.autoscaler
import yaml

CLUSTER = Path(__file__).resolve().parents[2] / "cluster.yaml"
SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


def cluster() -> dict[str, Any]:
    return dict(yaml.safe_load(CLUSTER.read_text()))


def test_cluster_yaml_matches_rays_launcher_schema() -> None:
    jsonschema.validate(cluster(), SCHEMA)


def test_its_node_types_are_consistent() -> None:
    config = cluster()
    nodes = config["available_node_types"]
    assert config["head_node_type"] in nodes
    assert sum(n.get("min_workers", 0) for n in nodes.values()) <= config["max_workers"]
    assert any(n.get("resources", {}).get("GPU") for n in nodes.values())  # the vLLM tier's workers


def test_the_schema_check_catches_a_misspelt_field() -> None:
    broken = cluster()
    broken["max_worker"] = broken.pop("max_workers")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
