"""The KubeRay manifest: generated from configs/prod.yaml (one source of truth) and valid against KubeRay's
RayService CRD (vendored in tests/data/kuberay/, Apache-2.0, from ray-project/kuberay at feeaf72)."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from serve_app.cli.kuberay import IMAGE, render

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "kuberay" / "rayservice.yaml"
PROD = ROOT / "configs" / "prod.yaml"


@functools.cache
def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(gzip.decompress((ROOT / "tests/data/kuberay/ray.io_rayservices.yaml.gz").read_bytes()))
    [v1] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return dict(v1["schema"]["openAPIV3Schema"])


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text()))


def test_the_committed_manifest_is_the_generated_one() -> None:
    assert MANIFEST.read_text() == render(Path("configs/prod.yaml"), IMAGE), \
        "run: .venv/bin/tollgate kuberay --config configs/prod.yaml > deploy/kuberay/rayservice.yaml"


def test_its_serve_config_is_configs_prod_yaml(manifest: dict[str, Any]) -> None:
    assert yaml.safe_load(manifest["spec"]["serveConfigV2"]) == yaml.safe_load(PROD.read_text())


def test_it_validates_against_the_rayservice_crd(manifest: dict[str, Any]) -> None:
    errors = sorted(Draft4Validator(crd_schema()).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def test_the_crd_check_catches_a_wrong_field(manifest: dict[str, Any]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(manifest))
    broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["replicas"] = "two"
    assert list(Draft4Validator(crd_schema()).iter_errors(broken))


def test_the_gpu_group_asks_for_gpus_and_secrets_come_from_kubernetes(manifest: dict[str, Any]) -> None:
    groups = {g["groupName"]: g for g in manifest["spec"]["rayClusterConfig"]["workerGroupSpecs"]}
    [gpu_container] = groups["gpu"]["template"]["spec"]["containers"]
    assert gpu_container["resources"]["limits"]["nvidia.com/gpu"] == 1
    env = {e["name"]: e for e in gpu_container["env"]}
    for var in ("TOLLGATE_MASTER_KEY", "TOLLGATE_AUDIT_HMAC_KEY", "TOLLGATE_DATABASE_URL"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "tollgate-secrets"
        assert "value" not in env[var]
