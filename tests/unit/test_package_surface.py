"""The Ray-free packages: their public surface stays in step with ``__all__``, and importing them loads no Ray
(the audit CLI reads the store directly; guardrail and cache logic stay testable and usable without Ray)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

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
