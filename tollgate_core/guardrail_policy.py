"""The guardrail policy's schema (part of the gateway config): what happens to each entity type, per destination, and to injections.

Example (YAML, under a key's or team's ``guardrail:``)::

    external: {secrets: redact, pii: redact}          # commercial providers
    internal: {secrets: redact, pii: allow,           # the local tier, inside the perimeter
               entities: {CREDIT_CARD: block}}
    output: {secrets: redact, pii: allow}
    injection: {action: flag, threshold: 0.9, roles: [user, tool]}

``entities`` overrides the ``secrets``/``pii`` default for single types. A per-key or
per-team override is merged over the base policy with ``merge_policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_INJECTION_ACTION",
    "DEFAULT_INJECTION_ROLES",
    "DEFAULT_INJECTION_THRESHOLD",
    "PII_TYPES",
    "ROLES",
    "SECRET_TYPES",
    "Action",
    "Destination",
    "DestinationPolicy",
    "EntityType",
    "GuardrailPolicy",
    "InjectionPolicy",
    "Role",
    "merge_policy",
]

Role = Literal["system", "developer", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "developer", "user", "assistant", "tool")


class EntityType(StrEnum):
    """Every kind of value the guardrail detects; the names appear in placeholders and policies."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    US_SSN = "US_SSN"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    AWS_ACCESS_KEY = "AWS_ACCESS_KEY"
    AWS_SECRET_KEY = "AWS_SECRET_KEY"
    OPENAI_KEY = "OPENAI_KEY"
    ANTHROPIC_KEY = "ANTHROPIC_KEY"
    GITHUB_TOKEN = "GITHUB_TOKEN"
    SLACK_TOKEN = "SLACK_TOKEN"
    STRIPE_KEY = "STRIPE_KEY"
    GOOGLE_API_KEY = "GOOGLE_API_KEY"
    JWT = "JWT"
    PRIVATE_KEY = "PRIVATE_KEY"
    PASSWORD = "PASSWORD"
    GENERIC_SECRET = "GENERIC_SECRET"


PII_TYPES: frozenset[EntityType] = frozenset(
    {
        EntityType.EMAIL,
        EntityType.PHONE,
        EntityType.CREDIT_CARD,
        EntityType.US_SSN,
        EntityType.IBAN,
        EntityType.IP_ADDRESS,
    }
)
SECRET_TYPES: frozenset[EntityType] = frozenset(EntityType) - PII_TYPES


Action = Literal["redact", "block", "allow"]

# The shipped operating point of the injection detector (training/injection/train.py calibrates it and
# writes it into injection_weights.json; a test keeps the two equal).
DEFAULT_INJECTION_THRESHOLD = 0.9
# Flag, not block: at the operating point that refuses at most 1% of realistic benign requests, the
# detector finds well under half of the held-out attack families (docs/guardrails.md, "Why flag").
DEFAULT_INJECTION_ACTION: Literal["block", "flag"] = "flag"
DEFAULT_INJECTION_ROLES: tuple[Role, ...] = ("user", "tool")
Destination = Literal["external", "internal"]


class DestinationPolicy(BaseModel):
    """Actions for the values found in text bound for one destination (or coming back from the model)."""

    model_config = ConfigDict(extra="forbid")

    secrets: Action = Field("redact", description="Action for secret types (API keys, tokens, passwords, keys).")
    pii: Action = Field("redact", description="Action for PII types (email, phone, card, SSN, IBAN, IP address).")
    entities: dict[EntityType, Action] = Field(
        default_factory=dict, description="Per-type overrides of `secrets`/`pii`, e.g. {CREDIT_CARD: block}."
    )

    def action(self, entity: EntityType) -> Action:
        if entity in self.entities:
            return self.entities[entity]
        return self.secrets if entity in SECRET_TYPES else self.pii


def _default_output() -> DestinationPolicy:
    redact: Action = "redact"
    return DestinationPolicy(
        secrets="redact",
        pii="allow",
        entities={EntityType.CREDIT_CARD: redact, EntityType.US_SSN: redact, EntityType.IBAN: redact},
    )


class InjectionPolicy(BaseModel):
    """What to do with requests whose untrusted text scores as an injection or jailbreak attempt."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Score requests at all.")
    action: Literal["block", "flag"] = Field(
        DEFAULT_INJECTION_ACTION,
        description="`block`: refuse with 400 prompt_injection_detected; `flag`: answer, and mark the request in "
        "the x-tollgate-injection-* headers, the audit record and the metrics (docs/guardrails.md says why "
        "the default is what it is).",
    )
    threshold: float = Field(
        DEFAULT_INJECTION_THRESHOLD, ge=0.0, le=1.0,
        description="Score at or above which a request counts as an injection (0-1). The default is the "
        "operating point calibrated for at most 1% of realistic benign requests (docs/guardrails.md).",
    )
    roles: list[Role] = Field(
        default_factory=lambda: list(DEFAULT_INJECTION_ROLES),
        description="Message roles whose text is scored. The default scores what is untrusted: user turns and "
        "tool/function results (with any documents pasted into them); add system, developer or assistant to "
        "score the application's own prompts or the model's turns too.",
    )


class GuardrailPolicy(BaseModel):
    """The whole guardrail policy of a key, team or the gateway."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run the guardrail for this key or team.")
    external: DestinationPolicy = Field(
        default_factory=DestinationPolicy,
        description="Prompts sent outside the perimeter (OpenAI, Azure, Anthropic, Bedrock).",
    )
    internal: DestinationPolicy = Field(
        default_factory=DestinationPolicy,
        description="Prompts served inside the perimeter (the local tier); set pii/secrets to allow to skip redaction.",
    )
    output: DestinationPolicy = Field(
        default_factory=_default_output, description="Values found in the model's answer (before restore)."
    )
    injection: InjectionPolicy = Field(default_factory=InjectionPolicy, description="Prompt-injection detection.")
    min_score: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Findings scored below this are ignored (phone numbers that are only possible score 0.6).",
    )

    def for_destination(self, destination: Destination) -> DestinationPolicy:
        if destination not in ("external", "internal"):
            raise ValueError(f"destination must be 'external' or 'internal', not {destination!r}")
        return self.external if destination == "external" else self.internal


def merge_policy(base: GuardrailPolicy, override: Mapping[str, Any] | None) -> GuardrailPolicy:
    """``base`` with ``override`` merged in key by key (a key's or team's own settings)."""
    if not override:
        return base
    return GuardrailPolicy.model_validate(_deep_merge(base.model_dump(mode="json"), dict(override)))


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], dict(value))
        else:
            merged[key] = value
    return merged
