"""The package's public surface: ``__all__`` and the names it exports stay in step."""

from __future__ import annotations

import ast
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
    """The logic stays testable without Ray; only the deployment wrapper module may import it."""
    for path in Path(guardrail.__file__).parent.glob("*.py"):
        if path.name == "deployment.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "ray" not in imported, path.name
