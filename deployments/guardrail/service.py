"""The guardrail for a gateway config: one ``Guard`` per effective policy (gateway, team, key).

Both the Guardrail deployment (input checks) and the ingress (the way back: output
policy and restore) build one from the same config, so they agree on every policy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from deployments.guardrail.guard import Guard, GuardVerdict
from deployments.guardrail.injection_request import normalise_role
from deployments.guardrail.policy import Destination, GuardrailPolicy, merge_policy

__all__ = ["DEFAULT_POLICY", "GuardrailService", "policy_name"]

DEFAULT_POLICY = "default"


def policy_name(overrides_teams: Mapping[str, Any], overrides_keys: Mapping[str, Any], team_path: str | None,
                key_id: str | None) -> str:
    """Which policy applies to a caller: its key's override, its team's, or the gateway's."""
    if key_id and key_id in overrides_keys:
        return f"key:{key_id}"
    if team_path and team_path in overrides_teams:
        return f"team:{team_path}"
    return DEFAULT_POLICY


class GuardrailService:
    """Guards for every policy a config names, sharing detectors where their settings agree."""

    def __init__(self, policy: Mapping[str, Any], teams: Mapping[str, Mapping[str, Any]],
                 keys: Mapping[str, Mapping[str, Any]], *, preload_injection: bool = True) -> None:
        base = GuardrailPolicy.model_validate(dict(policy))
        policies = {DEFAULT_POLICY: base}
        policies.update({f"team:{name}": merge_policy(base, override) for name, override in teams.items()})
        # A key's override applies over the gateway policy (its team's override is not known here).
        policies.update({f"key:{key_id}": merge_policy(base, override) for key_id, override in keys.items()})
        self.teams = dict(teams)
        self.keys = dict(keys)
        shared: dict[str, Guard] = {}
        self._guards: dict[str, Guard] = {}
        for name, effective in policies.items():
            fingerprint = json.dumps(effective.model_dump(mode="json"), sort_keys=True)
            self._guards[name] = shared.setdefault(fingerprint, Guard(effective))
        if preload_injection:
            self._guards[DEFAULT_POLICY].injection_detector  # noqa: B018  load the classifier now, not on a request

    @property
    def names(self) -> list[str]:
        """Every policy name the config defines (``default``, ``team:…``, ``key:…``)."""
        return list(self._guards)

    def guard(self, name: str) -> Guard:
        return self._guards.get(name, self._guards[DEFAULT_POLICY])

    def name_for(self, team_path: str | None, key_id: str | None) -> str:
        return policy_name(self.teams, self.keys, team_path, key_id)

    def check(self, texts: Sequence[str], destination: Destination, policy: str,
              origins: Sequence[Sequence[Any]] | None = None) -> GuardVerdict:
        """Scan, score and redact a request's texts.

        ``origins[i]`` is ``(message index, role)`` of ``texts[i]`` (``text_origins``); checked again here, at the
        deployment boundary, since it arrives over a Ray call.
        """
        where = [(int(index), normalise_role(role)) for index, role in origins] if origins is not None else None
        return self.guard(policy).check_request(list(texts), destination, where)
