"""The package's public surface stays in step with ``__all__``, and it never imports Ray."""

from __future__ import annotations

import ast
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
    for path in Path(audit.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "ray" not in imported, path.name
