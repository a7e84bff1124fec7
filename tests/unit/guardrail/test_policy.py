"""Policy config and its application: redact, block and allow per destination and type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deployments.guardrail.errors import InjectionDetected, PiiBlocked
from deployments.guardrail.findings import EntityType
from deployments.guardrail.policy import Blocked, GuardrailPolicy, Redacted, apply_input_policy, merge_policy
from deployments.guardrail.scanner import Scanner

T = EntityType
TEXTS = ["email bob@corp.io about card 4111111111111111", "and key AKIAQYLPMN5HHHFPZAM2"]


def test_defaults_redact_everything_for_both_destinations(scanner: Scanner) -> None:
    for destination in ("external", "internal"):
        outcome = apply_input_policy(TEXTS, destination, scanner, GuardrailPolicy())
        assert isinstance(outcome, Redacted)
        assert outcome.texts == ["email [EMAIL_1] about card [CREDIT_CARD_1]", "and key [AWS_ACCESS_KEY_1]"]
        assert outcome.counts == {"EMAIL": 1, "CREDIT_CARD": 1, "AWS_ACCESS_KEY": 1}


def test_block_names_types_never_values(scanner: Scanner) -> None:
    policy = GuardrailPolicy.model_validate({"external": {"entities": {"CREDIT_CARD": "block"}}})
    outcome = apply_input_policy(TEXTS, "external", scanner, policy)
    assert isinstance(outcome, Blocked)
    assert outcome.types == ("CREDIT_CARD",)
    error = PiiBlocked(outcome.types)
    assert "CREDIT_CARD" in str(error) and "4111" not in str(error)
    assert error.to_dict() == {"message": str(error), "type": "pii_blocked", "param": None, "code": "pii_blocked"}


def test_internal_destination_can_allow_pii(scanner: Scanner) -> None:
    policy = GuardrailPolicy.model_validate({"internal": {"pii": "allow"}})
    internal = apply_input_policy(TEXTS, "internal", scanner, policy)
    external = apply_input_policy(TEXTS, "external", scanner, policy)
    assert isinstance(internal, Redacted) and isinstance(external, Redacted)
    assert internal.texts == ["email bob@corp.io about card 4111111111111111", "and key [AWS_ACCESS_KEY_1]"]
    assert "[EMAIL_1]" in external.texts[0]


@pytest.mark.parametrize(
    ("override", "entity", "action"),
    [
        ({"external": {"secrets": "block"}}, T.GITHUB_TOKEN, "block"),
        ({"external": {"entities": {"EMAIL": "allow"}}}, T.EMAIL, "allow"),
        ({"external": {"entities": {"EMAIL": "allow"}}}, T.PHONE, "redact"),
        ({}, T.PASSWORD, "redact"),
    ],
    ids=["secrets-block", "type-allow", "other-type-default", "no-override"],
)
def test_merge_policy(override: dict[str, object], entity: EntityType, action: str) -> None:
    merged = merge_policy(GuardrailPolicy(), override)
    assert merged.external.action(entity) == action


def test_merge_keeps_base_settings() -> None:
    base = GuardrailPolicy.model_validate({"injection": {"action": "flag", "threshold": 0.8}})
    merged = merge_policy(base, {"injection": {"threshold": 0.6}})
    assert (merged.injection.action, merged.injection.threshold) == ("flag", 0.6)


@pytest.mark.parametrize(
    "bad",
    [
        {"external": {"pii": "mask"}},
        {"external": {"entities": {"NAME": "redact"}}},
        {"unknown": 1},
        {"injection": {"threshold": 1.5}},
    ],
    ids=["bad-action", "bad-type", "extra-field", "threshold-range"],
)
def test_config_is_strict(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GuardrailPolicy.model_validate(bad)


def test_every_field_is_described() -> None:
    from deployments.guardrail.policy import DestinationPolicy, InjectionPolicy

    for model in (GuardrailPolicy, DestinationPolicy, InjectionPolicy):
        assert all(field.description for field in model.model_fields.values()), model.__name__


def test_injection_error_carries_score_and_reasons() -> None:
    error = InjectionDetected(0.97123, ["ignore_previous_instructions"])
    assert error.type == "prompt_injection_detected" and error.status == 400
    assert "0.971" in str(error) and "ignore_previous_instructions" in str(error)


def test_unknown_destination_is_rejected() -> None:
    with pytest.raises(ValueError, match="destination"):
        GuardrailPolicy().for_destination("moon")  # type: ignore[arg-type]
