"""Shared fixtures: one scanner per session and the evaluation corpora in ../shared/data."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Hypothesis keeps caches in ./.hypothesis by default, which is in the work tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "tollgate-hypothesis"))
from hypothesis import HealthCheck, settings

# No example database and no deadline: a loaded 2-core CI machine must not turn timing into failures.
settings.register_profile(
    "guardrail", database=None, deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("guardrail")

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.fixture(scope="session")
def scanner() -> Any:
    from deployments.guardrail.scanner import default_scanner

    return default_scanner()


def shared_jsonl(relative: str) -> list[dict[str, Any]]:
    path = SHARED_DATA / relative
    if not path.exists():
        # A clone without ../shared beside it (a fresh CI checkout may be one) skips these rather than failing.
        pytest.skip(f"{path} is not here (the shared corpora sit beside the repository)")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
