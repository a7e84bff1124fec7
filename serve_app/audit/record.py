"""One audit record per request, whatever its outcome: what happened, never what was said.

The record holds identifiers, routing, token counts, cost, timings, the outcome and the
guardrail's verdict as counts. It never holds the prompt, the answer or a key; a team
that opts in gets its redacted texts sealed (encrypted) in ``sealed_text``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuditRecord"]


class AuditRecord(BaseModel):
    """The fields of an audit record (kept as canonical JSON in the chain)."""

    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(description="The gateway's id of the request (the spend ledger's too).")
    kind: Literal["request", "judgement"] = Field(
        "request", description="request: what happened to the request; judgement: the verdicts of its sampled "
        "judges, written after the answer was sent (same request_id).")
    client_request_id: str | None = Field(None, description="x-request-id as the client or Serve set it.")
    time: float = Field(description="Unix time the request arrived.")
    org_id: str | None = None
    team_id: str | None = None
    key_id: str | None = Field(None, description="The virtual key's id (never the key); null for the master key.")
    end_user: str | None = Field(None, description="The request's `user` field.")
    client_ip: str | None = None
    endpoint: str = "/v1/chat/completions"
    stream: bool = False
    model: str | None = Field(None, description="The model the client asked for.")
    target: str | None = Field(None, description="provider/upstream-model[@region] that answered.")
    provider: str | None = None
    region: str | None = None
    tier: int | None = Field(None, description="1 for the local tier, 2 for a commercial provider.")
    cache: str = Field("bypass", description="hit, miss or bypass.")
    tier_policy: str | None = Field(None, description="The tiering policy that chose the model (model: auto, ...).")
    tier_decided: int | None = Field(None, description="The tier the policy chose from the classifier's score.")
    tier_score: float | None = Field(None, description="The classifier's probability that Tier 2 is needed.")
    attempts: int = 0
    failovers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = Field(None, description="Arrival to the last byte sent.")
    ttft_ms: float | None = Field(None, description="Time to first token (streams), or to the answer.")
    upstream_ms: float | None = Field(None, description="Time the answering upstream took (to its first chunk).")
    overhead_ms: float | None = Field(None, description="Gateway time (latency minus upstream).")
    status: int = Field(200, description="HTTP status sent (200 for a stream that began).")
    outcome: str = Field("ok", description="ok, or the error type / client_disconnected / output_blocked.")
    error_type: str | None = None
    error_code: str | None = None
    guardrail_findings: dict[str, int] = Field(default_factory=dict, description="Values found, per entity type.")
    injection_score: float | None = None
    injection_flagged: bool = False
    injection_action: str | None = Field(None, description="allow, flag or block: what the injection policy did.")
    injection_message_index: int | None = Field(
        None, description="Index in `messages` of the message that was flagged (never its text).")
    injection_reasons: list[str] = Field(default_factory=list, description="Why it was flagged (rule names).")
    judges: list[dict[str, Any]] = Field(
        default_factory=list, description="Each judge's verdict on the answer: judge, mode, verdict (pass, fail, "
        "error), score, action (allow, flag, block); never the texts.")
    sealed_text: str | None = Field(None, description="Fernet token of the redacted texts, for opted-in teams.")

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
