"""The judges' policy schema (part of the gateway config): which judge runs on which answers, how, and what its
failure does.

Example (YAML, under the application's ``args``)::

    judges:
      enabled: true
      policy:
        prompt_leak: {mode: inline, action: block, confidential: ["ORION-7731"]}
      teams:
        acme/support: {prompt_leak: {mode: sampled, sample: 0.1}}
      models:
        llama-3-8b: {prompt_leak: {action: flag}}

A team's override is merged over the model's, and the model's over ``policy``, field by field
(:func:`resolve_rules`); the merged rule is validated as a whole, so a typo fails at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "JUDGE_NAMES",
    "DeniedTopic",
    "DeniedTopicsRule",
    "GroundedRule",
    "JudgeRule",
    "PromptLeakRule",
    "RubricRule",
    "merge_rules",
    "resolve_rules",
]

# Every judge the config may name.
JUDGE_NAMES = ("prompt_leak", "denied_topics", "grounded", "rubric")


class JudgeRule(BaseModel):
    """What one judge does on the answers it applies to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Whether the judge calls a model through the gateway's routing (it runs in the Ingress), and whether it is
    # cheap enough to run again every few hundred characters of a stream.
    routed: ClassVar[bool] = False
    incremental: ClassVar[bool] = True

    mode: Literal["inline", "sampled", "off"] = Field(
        "inline", description="inline: judged before the answer is released; sampled: a fraction judged after it "
        "was sent, off the request path; off: not judged.")
    action: Literal["block", "flag"] = Field(
        "flag", description="inline only. block: the answer is refused (judge_failed); flag: released, marked.")
    sample: float = Field(1.0, ge=0, le=1, description="sampled only: the fraction of answers judged.")
    on_error: Literal["allow", "block"] | None = Field(
        None, description="When the judge errors or times out. Default: block for inline block, allow otherwise; "
        "the outcome is recorded as error either way.")
    timeout_s: float = Field(2.0, gt=0, description="How long the judge may take before its outcome is error.")
    alert_failure_rate: float | None = Field(
        None, gt=0, le=1, description="A team's failure rate over judges.alert_window_s at or above which a log "
        "alert fires and tollgate_judge_alert is 1.")

    @property
    def fails_closed(self) -> bool:
        """Whether an error blocks the answer."""
        if self.on_error is not None:
            return self.on_error == "block" and self.mode == "inline"
        return self.mode == "inline" and self.action == "block"

    def applies(self, messages: list[dict[str, Any]], context: str | None) -> bool:
        """Whether the request gives the judge anything to judge (saves a call when it does not); ``context`` is
        the retrieved context the request carries (deployments/judges/context.py), if any."""
        return True

    def action_for(self, verdict: str) -> str:
        """What a verdict (pass, fail, error) does to the answer under this rule: allow, flag or block. Only an
        inline judge can act; one that could not judge blocks only where the rule fails closed."""
        if verdict == "pass" or self.mode != "inline":
            return "allow"
        if verdict == "error":
            return "block" if self.fails_closed else "allow"
        return self.action

    def params(self) -> dict[str, Any]:
        """What the judge itself needs (the fields a subclass adds), as plain data for the Judge deployment."""
        return self.model_dump(exclude=set(JudgeRule.model_fields))


class PromptLeakRule(JudgeRule):
    """``prompt_leak``: the answer reproduces the system/developer prompt or a value marked confidential."""

    threshold: float = Field(0.5, gt=0, le=1, description="The leak score at which an answer fails.")
    confidential: tuple[str, ...] = Field(
        (), description="Values that must never appear in an answer, whatever the prompt (codes, names, URLs).")

    def applies(self, messages: list[dict[str, Any]], context: str | None) -> bool:
        """Only an answer to a request with a system or developer prompt, or under confidential values, can leak."""
        return bool(self.confidential) or any(m.get("role") in ("system", "developer") for m in messages)

    @model_validator(mode="after")
    def _nonempty_values(self) -> PromptLeakRule:
        if any(not value.strip() for value in self.confidential):
            raise ValueError("confidential: every value must be non-empty")
        return self


class DeniedTopic(BaseModel):
    """One topic an answer must not engage in, described as an operator would."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="How verdicts, headers and reports name the topic.")
    description: str = Field(min_length=1, description="One line: what engaging in the topic means.")
    examples: tuple[str, ...] = Field(
        min_length=1, description="A few short answers that engage in the topic (three is typical).")

    @model_validator(mode="after")
    def _nonempty_examples(self) -> DeniedTopic:
        if any(not example.strip() for example in self.examples):
            raise ValueError("examples: every example must be non-empty")
        return self


class DeniedTopicsRule(JudgeRule):
    """``denied_topics``: the answer engages in a topic the operator forbids (deployments/judges/denied_topics.py).

    It embeds the answer, so it is not run again every few hundred characters of a stream: a stream is judged at
    its end, and a failure under ``block`` ends it with an error event instead of ``[DONE]``."""

    incremental: ClassVar[bool] = False

    topics: tuple[DeniedTopic, ...] = Field(min_length=1, description="The topics answers must not engage in.")
    threshold: float | None = Field(
        None, gt=0, lt=1, description="The score at which an answer fails; default: the shipped operating point "
        "(docs/judges.md has its measured recall and false flags).")
    timeout_s: float = Field(5.0, gt=0, description="How long the judge may take (it embeds the answer).")

    @model_validator(mode="after")
    def _unique_names(self) -> DeniedTopicsRule:
        names = [t.name for t in self.topics]
        if len(names) != len(set(names)):
            raise ValueError("topics: every topic needs its own name")
        return self


class GroundedRule(JudgeRule):
    """``grounded``: every claim of the answer is supported by the retrieved context the request carried (tool
    results, documents the client marks); deployments/judges/grounded.py. A request without context is not judged.

    It embeds the answer and the context, so a stream is judged at its end."""

    incremental: ClassVar[bool] = False

    threshold: float | None = Field(
        None, gt=0, lt=1, description="The score at which an answer fails; default: the shipped operating point "
        "(docs/judges.md has its measured balanced accuracy).")
    timeout_s: float = Field(5.0, gt=0, description="How long the judge may take (it embeds answer and context).")

    def applies(self, messages: list[dict[str, Any]], context: str | None) -> bool:
        return context is not None


class RubricRule(JudgeRule):
    """``rubric``: a chat model of the catalog judges the answer against an operator-written rubric."""

    routed: ClassVar[bool] = True
    incremental: ClassVar[bool] = False

    model: str = Field(description="The catalog model that judges (prod: the local Llama-3-8B tier).")
    rubric: str = Field(min_length=1, description="What a passing answer does, in a sentence or a short list.")
    key_env: str | None = Field(
        None, description="Variable holding the virtual key the judge's calls are admitted and charged to (its "
        "own budget); without one they are charged to nobody but still recorded and counted.")
    max_tokens: int = Field(16, gt=0, le=512, description="The judge model's reply: a word and a short reason.")
    timeout_s: float = Field(30.0, gt=0, description="How long the judge model may take.")


_RULES: dict[str, type[JudgeRule]] = {"prompt_leak": PromptLeakRule, "denied_topics": DeniedTopicsRule,
                                      "grounded": GroundedRule, "rubric": RubricRule}


def merge_rules(base: Mapping[str, Mapping[str, Any]], *overrides: Mapping[str, Mapping[str, Any]]
                ) -> dict[str, dict[str, Any]]:
    """``base`` with each override merged over it, judge by judge and field by field (plain data)."""
    merged = {name: dict(fields) for name, fields in base.items()}
    for override in overrides:
        for name, fields in override.items():
            merged[name] = {**merged.get(name, {}), **fields}
    return merged


def resolve_rules(merged: Mapping[str, Mapping[str, Any]]) -> dict[str, JudgeRule]:
    """The validated rule of every judge in ``merged``; a ValueError names each problem's judge and field."""
    rules: dict[str, JudgeRule] = {}
    for name, fields in merged.items():
        if name not in JUDGE_NAMES:
            raise ValueError(f"{name}: not a judge; the judges are {', '.join(JUDGE_NAMES)}")
        if not isinstance(fields, Mapping):
            raise ValueError(f"{name}: expected a mapping like {{mode: inline, action: block}}")
        try:
            rules[name] = _RULES[name].model_validate(dict(fields))
        except ValidationError as exc:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in (name, *e['loc']))}: {e['msg']}"
                                       for e in exc.errors())) from None
    return rules
