"""configs/prod.yaml with the CPU overlay on top, and what the overlay is allowed to change.

Merging: mappings merge key by key (``null`` deletes a key), lists of mappings with a ``name`` (applications,
deployments) merge by name, a model's ``targets`` merge by position, and any other list is replaced.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ALLOWED", "OVERLAY", "PROD", "changed_paths", "disallowed_changes", "merge", "prod_on_cpu"]

ROOT = Path(__file__).resolve().parents[1]
PROD = ROOT / "configs" / "prod.yaml"
OVERLAY = ROOT / "configs" / "overlays" / "prod-on-cpu.yaml"

_APP = "applications[tollgate]"
# What needs hardware or secrets, and nothing else (patterns over changed_paths' dotted paths; * is any text).
ALLOWED = (
    "http_options.host",                                   # listen on this machine only
    f"{_APP}.args.local_llm.*",                            # SmolLM2 on vLLM's CPU build, not Llama-3-8B on a GPU
    f"{_APP}.args.models.llama-3-8b.targets[0].context_window",  # SmolLM2's context, as the engine is set up
    f"{_APP}.args.models.*.targets[*].api_base",           # the fake providers on 127.0.0.1
    f"{_APP}.deployments[*].ray_actor_options.*",          # no GPUs; CPU shares that fit two cores
)


def _load(path: Path) -> dict[str, Any]:
    with open(path) as f:
        return dict(yaml.safe_load(f))


def merge(base: Any, overlay: Any, key: str = "") -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for k, v in overlay.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = merge(base.get(k), v, k) if k in base else copy.deepcopy(v)
        return merged
    if isinstance(base, list) and isinstance(overlay, list):
        if all(isinstance(x, dict) and "name" in x for x in [*base, *overlay]):
            by_name = {x["name"]: x for x in overlay}
            unknown = set(by_name) - {x["name"] for x in base}
            if unknown:
                raise ValueError(f"the overlay names {sorted(unknown)}, which the base config does not have")
            return [merge(x, by_name[x["name"]]) if x["name"] in by_name else copy.deepcopy(x) for x in base]
        if key == "targets":
            if len(overlay) > len(base):
                raise ValueError(f"the overlay has {len(overlay)} targets where the base has {len(base)}")
            return [merge(b, o) for b, o in zip(base, overlay, strict=False)] + copy.deepcopy(base[len(overlay):])
    return copy.deepcopy(overlay)


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Dotted paths (list items by ``[name]`` or ``[index]``) where ``after`` differs from ``before``."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [p for k in sorted(set(before) | set(after), key=str)
                for p in changed_paths(before.get(k), after.get(k), f"{path}.{k}" if path else str(k))]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        named = all(isinstance(x, dict) and "name" in x for x in [*before, *after])
        return [p for i, (b, a) in enumerate(zip(before, after, strict=True))
                for p in changed_paths(b, a, f"{path}[{b['name'] if named else i}]")]
    return [] if before == after else [path]


def disallowed_changes(prod: dict[str, Any], merged: dict[str, Any]) -> list[str]:
    allowed = re.compile("|".join(re.escape(a).replace(r"\*", ".*") for a in ALLOWED))
    return [p for p in changed_paths(prod, merged) if not allowed.fullmatch(p)]


def prod_on_cpu() -> dict[str, Any]:
    """The Serve config ``make prod-cpu`` deploys."""
    return merge(_load(PROD), _load(OVERLAY))
