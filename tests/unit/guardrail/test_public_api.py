"""The package's public surface: ``__all__`` and the names it exports stay in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deployments import guardrail


def test_all_names_exist() -> None:
    assert all(hasattr(guardrail, name) for name in guardrail.__all__)


def test_every_public_export_is_listed() -> None:
    public = {
        name
        for name, value in vars(guardrail).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("deployments.guardrail.")
    }
    assert public <= set(guardrail.__all__)


def test_no_ray_import() -> None:
    """The logic stays testable without Ray: importing every module (but the deployment wrapper) loads no Ray.

    Checked in a fresh interpreter, so transitive imports count too (``ast.parse`` deep in pytest's stack
    trips a CPython 3.11.7 bug, and would miss them anyway)."""
    modules = [m.stem for m in Path(guardrail.__file__).parent.glob("*.py") if m.stem != "deployment"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        f"    importlib.import_module('deployments.guardrail.' + name)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout
