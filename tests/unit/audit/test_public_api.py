"""The package's public surface stays in step with ``__all__``, and it never imports Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from serve_app import audit


def test_all_names_exist() -> None:
    assert all(hasattr(audit, name) for name in audit.__all__)


def test_every_public_export_is_listed() -> None:
    public = {
        name
        for name, value in vars(audit).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("serve_app.audit.")
    }
    assert public <= set(audit.__all__)


def test_no_ray_import() -> None:
    """The audit package works without Ray (the CLI reads the store directly): importing it loads no Ray.

    Checked in a fresh interpreter, so transitive imports count too (``ast.parse`` deep in pytest's stack
    trips a CPython 3.11.7 bug, and would miss them anyway)."""
    modules = [m.stem for m in Path(audit.__file__).parent.glob("*.py")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        f"    importlib.import_module('serve_app.audit.' + name)\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout
