"""The Ray-free packages: their public surface stays in step with ``__all__``, and importing them loads no Ray
(the audit CLI reads the store directly; guardrail and cache logic stay testable and usable without Ray)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# package → its modules that may import Ray (the Serve deployment wrappers)
RAY_FREE = {"serve_app.audit": (), "deployments.guardrail": ("deployment",), "deployments.cache": ("deployment",)}
WITH_ALL = ("serve_app.audit", "deployments.guardrail")


@pytest.mark.parametrize("package", WITH_ALL)
def test_all_names_exist(package: str) -> None:
    module = importlib.import_module(package)
    assert all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("package", WITH_ALL)
def test_every_public_export_is_listed(package: str) -> None:
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(package + ".")
    }
    assert public <= set(module.__all__)


@pytest.mark.parametrize("package", sorted(RAY_FREE))
def test_no_ray_import(package: str) -> None:
    """Checked in a fresh interpreter, so transitive imports count too (``ast.parse`` deep in pytest's stack
    trips a CPython 3.11.7 bug, and would miss them anyway)."""
    folder = Path(importlib.import_module(package).__file__ or "").parent
    modules = [m.stem for m in folder.glob("*.py") if m.stem not in RAY_FREE[package]]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        f"    importlib.import_module({package!r} + '.' + name)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("serve_app", "deployments", "tollgate_core")


# Read in a fresh interpreter: ``ast.parse`` deep in pytest's stack trips a CPython 3.11.7 bug (see above).
_FACTS = """
import ast, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
facts = {}
for package in sys.argv[2:]:
    for path in sorted((root / package).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        imports, classes = set(), {}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imports.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imports.add(node.module.split(".")[0])
            elif isinstance(node, ast.ClassDef):
                classes[node.name] = node.end_lineno - node.lineno + 1
        facts[str(path.relative_to(root))] = {"imports": sorted(imports), "lines": len(source.splitlines()),
                                              "classes": classes}
print(json.dumps(facts))
"""


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    """Per module of the product and its neighbours: top-level packages imported (lazy imports too), line count,
    class lengths."""
    done = subprocess.run([sys.executable, "-c", _FACTS, str(ROOT), *PRODUCT], capture_output=True, text=True,
                          timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("package", "forbidden"), [
    ("deployments", {"serve_app", "fake_providers", "training", "tests"}),
    ("tollgate_core", {"serve_app", "deployments", "fake_providers", "training", "tests"}),
    ("serve_app", {"fake_providers", "training", "tests"}),
])
def test_dependencies_point_one_way(package: str, forbidden: set[str], facts: dict[str, Any]) -> None:
    """The ingress application may import the deployments, both import tollgate_core, and the product imports
    neither its test fakes nor its training code (the CLI's fake-providers verb reaches them only from a checkout)."""
    cli = "serve_app/cli/main.py"
    offenders = {
        name: sorted(set(fact["imports"]) & forbidden)
        for name, fact in facts.items()
        if name.startswith(package + "/") and set(fact["imports"]) & forbidden and name != cli
    }
    assert offenders == {}
    if package == "serve_app":
        assert set(facts[cli]["imports"]) & forbidden == {"fake_providers"}


def test_the_wheel_holds_only_the_product(tmp_path: Path) -> None:
    """Built as pip builds it: the product packages and their shipped weights, no fake provider, no training."""
    import shutil
    import zipfile

    # From a copy without build outputs: setuptools packs a stale build/lib as it finds it.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv*", "build", "dist", "*.egg-info", ".git", "mutants", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(source),
                    "-w", str(tmp_path)], check=True, capture_output=True, timeout=300, cwd=tmp_path)
    (wheel,) = tmp_path.glob("tollgate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == set(PRODUCT)
    assert not [n for n in names if "fake" in n.rsplit("/", 1)[-1] or "train" in n.rsplit("/", 1)[-1]]
    for weights in ("deployments/guardrail/injection_weights.json", "deployments/cache/verifier_weights.npz",
                    "deployments/tiering/tier_weights.npz"):
        assert weights in names


def test_no_god_modules_or_classes(facts: dict[str, Any]) -> None:
    """The request path stays readable: no product module over 600 lines, no class over 300."""
    long_modules = {name: fact["lines"] for name, fact in facts.items() if fact["lines"] > 600}
    long_classes = {f"{name}:{cls}": size for name, fact in facts.items() for cls, size in fact["classes"].items()
                    if size > 300}
    assert long_modules == {} and long_classes == {}
