"""The gateway's configuration: the ``args`` of the Serve application.

One pydantic model per section, every field described, unknown fields
forbidden so a typo fails at start with the field's path. YAML is loaded in
exactly one function, :func:`load_serve_config`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from tollgate_core.errors import ConfigError
from tollgate_core.model_config import (
    _ENV_REF,
    LOCAL_EMBEDDING_MODEL,
    ModelConfig,
    ModelType,
    Prices,
    PromptCacheMode,
    ProviderKind,
    RoutingPolicy,
    TargetConfig,
    _Strict,
)

if TYPE_CHECKING:
    from tollgate_core.judge_policy import JudgeRule

__all__ = [
    "LOCAL_EMBEDDING_MODEL",
    "AuditConfig",
    "AuthConfig",
    "GatewayConfig",
    "GovernanceConfig",
    "GuardrailsConfig",
    "JudgesConfig",
    "LocalLLMConfig",
    "ModelConfig",
    "ModelType",
    "Prices",
    "PromptCacheConfig",
    "PromptCacheMode",
    "ProviderKind",
    "RoutingConfig",
    "RoutingPolicy",
    "ServerConfig",
    "StateConfig",
    "TargetConfig",
    "TierPolicyConfig",
    "TieringConfig",
    "format_validation_error",
    "load_serve_config",
    "parse_gateway_config",
]


class RetryConfig(_Strict):
    """Retries on the same target before failing over."""

    attempts_per_target: int = Field(
        2, ge=1, le=10, description="Tries per target for 5xx, timeouts, resets, and a waited-out 429 (so a "
        "short Retry-After is waited out only when this is 2 or more).",
    )
    backoff_base_s: float = Field(0.05, ge=0, description="First backoff; doubles per retry, with full jitter.")
    backoff_max_s: float = Field(2.0, ge=0, description="Backoff cap.")
    retry_after_max_s: float = Field(
        2.0, ge=0, description="A 429 whose Retry-After is at most this is waited out on the same target; a longer "
        "one puts the target in cooldown until then and fails over at once.",
    )
    default_cooldown_s: float = Field(10.0, gt=0, description="Cooldown after a 429 without Retry-After.")


class CircuitConfig(_Strict):
    """When a failing target stops receiving traffic, and when it is probed again."""

    window_s: float = Field(30.0, gt=0, description="Sliding window for the error rate.")
    min_requests: int = Field(5, ge=1, description="Calls in the window before the error rate can open the circuit.")
    error_rate: float = Field(0.5, gt=0, le=1, description="Error rate that opens the circuit.")
    consecutive_failures: int = Field(5, ge=1, description="Consecutive failures that open the circuit.")
    open_s: float = Field(10.0, gt=0, description="How long the circuit stays open before one probe is let through.")


class RoutingConfig(_Strict):
    """Deadlines, timeouts, retries and circuit breaking for every request."""

    deadline_s: float = Field(
        120.0, gt=0, description="Total time for one request, all attempts included; clients may lower it with "
        "the x-tollgate-deadline-ms header.",
    )
    first_token_timeout_s: float = Field(30.0, gt=0, description="Longest wait for a stream's first chunk.")
    idle_timeout_s: float = Field(30.0, gt=0, description="Longest gap between two chunks of a stream.")
    sync_interval_s: float = Field(
        0.25, gt=0, description="How often each ingress replica exchanges observations with the Router deployment."
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="Retries.")
    circuit: CircuitConfig = Field(default_factory=CircuitConfig, description="Circuit breaking.")
    proxy_placement: Literal["deployment", "ingress"] = Field(
        "deployment", description="Where commercial providers are called: their proxy deployments (OpenAIProxy, "
        "AnthropicProxy, BedrockProxy, each scaled on its own), or each Ingress replica over its own pooled HTTP "
        "client (no hop). The local tier is always its own deployment.")


class LocalLLMConfig(_Strict):
    """The local tier: a vLLM engine run by Ray Serve LLM's ``LLMServer``."""

    enabled: bool = Field(True, description="Deploy the local tier at all.")
    model_id: str = Field("smollm2", description="Name the engine serves under; local targets use it as `model`.")
    model_source: str | None = Field(
        None,
        description="Hugging Face model folder or hub id; `${VAR}` and `~` are expanded. Unset means "
        "DATA_DIR/models/MODEL_ID, the folder `tollgate prepare-model` writes.",
    )
    engine_kwargs: dict[str, Any] = Field(default_factory=dict, description="Passed to vLLM's engine arguments.")
    accelerator_type: str | None = Field(None, description="Ray accelerator type for GPU replicas, e.g. H100.")
    placement_bundles: list[dict[str, float]] = Field(
        default_factory=lambda: [{"CPU": 1.0}], description="Ray placement group bundles for one replica."
    )
    runtime_env: dict[str, Any] = Field(default_factory=dict, description="Ray runtime_env of the engine replicas.")
    prefix_affinity: bool = Field(
        True, description="Route requests that share a prompt prefix to the replica that has it in its KV cache "
        "(Ray Serve LLM's PrefixCacheAffinityRouter; vLLM caches prefixes by itself).",
    )

    def resolved_model_source(self, data_dir: Path) -> str:
        """``model_source`` with environment variables and ``~`` expanded, or the prepared folder."""
        if self.model_source is None:
            return str(data_dir / "models" / self.model_id)
        return os.path.expanduser(os.path.expandvars(self.model_source))


class ServerConfig(_Strict):
    """HTTP behaviour of the ingress."""

    max_request_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Larger request bodies get 413 (10 MiB: room for a few base64 images)."
    )
    max_in_flight: int = Field(
        256, gt=0,
        description="API requests one ingress replica works on at once (a stream counts until its end); past it "
        "a request gets 503 with Retry-After at once instead of waiting in a queue. Keep it below the Ingress "
        "deployment's max_ongoing_requests.",
    )
    gc_freeze: bool = Field(
        True,
        description="Once a replica has started, move what it built (imported modules, models, compiled patterns) "
        "out of the garbage collector's reach (gc.freeze), so a collection walks only what requests allocate.",
    )
    data_dir: str = Field(
        "~/.tollgate",
        description="Where the gateway keeps its files (generated master key, local model). "
        "TOLLGATE_DATA_DIR overrides it.",
    )

    def resolved_data_dir(self) -> Path:
        """The data directory, with TOLLGATE_DATA_DIR taking precedence."""
        return Path(os.path.expanduser(os.environ.get("TOLLGATE_DATA_DIR") or self.data_dir))


class AuthConfig(_Strict):
    """How callers authenticate."""

    master_key_env: str = Field("TOLLGATE_MASTER_KEY", description="Variable that holds the master key.")
    generate_master_key: bool = Field(
        False,
        description="When the variable is unset, generate a key once, keep it in DATA_DIR/master_key and print it. "
        "Allowed only in the local profile.",
    )


class StateConfig(_Strict):
    """Where keys, budgets, the spend ledger, cache entries and the audit log live."""

    url: str | None = Field(
        None,
        description="sqlite:///PATH (embedded; the default is DATA_DIR/state.db) or postgresql://USER:PASS@HOST:PORT/DB "
        "(one store for many ingress replicas on many nodes). ${VAR} references are expanded.",
    )
    responses_retention_days: float = Field(
        30.0, gt=0, description="How long a stored Responses API response (store: true) is kept for "
        "previous_response_id and GET /v1/responses/{id}; OpenAI keeps them 30 days.",
    )

    @field_validator("url")
    @classmethod
    def _check_scheme(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^(sqlite|postgres|postgresql)://|^\$\{\w+\}", url):
            raise ValueError(f"{url!r} is not a sqlite:/// or postgresql:// URL (or a ${{VAR}} that holds one)")
        return url

    def resolved_url(self, data_dir: Path) -> str:
        """The URL with ``${VAR}`` expanded; :class:`ConfigError` if a variable is unset."""
        if self.url is None:
            return f"sqlite:///{data_dir / 'state.db'}"
        missing = [name for name in _ENV_REF.findall(self.url) if not os.environ.get(name)]
        if missing:
            raise ConfigError(f"state.url needs {', '.join(missing)}; set it to the store's URL, "
                              "e.g. postgresql://tollgate:PASSWORD@db.internal:5432/tollgate")
        return os.path.expandvars(self.url)


class GovernanceConfig(_Strict):
    """Budgets and rate limits on virtual keys."""

    default_max_tokens: int = Field(
        4096, gt=0,
        description="Output-token cap for requests that set no max_tokens; it is sent upstream and bounds the "
        "worst case reserved against budgets.",
    )
    reservation_grace_s: float = Field(
        60.0, gt=0,
        description="A reservation that is still open this long after the request's deadline belonged to a "
        "replica that died; it is then charged at its worst case.",
    )
    sweep_interval_s: float = Field(30.0, gt=0, description="How often each ingress looks for such reservations.")


class AuditConfig(_Strict):
    """The tamper-evident audit log of every request (docs/audit.md)."""

    enabled: bool = Field(True, description="Write one audit record per chat request.")
    hmac_key_env: str = Field(
        "TOLLGATE_AUDIT_HMAC_KEY", description="Variable holding the key that signs the chain's checkpoints."
    )
    generate_hmac_key: bool = Field(
        False, description="When the variable is unset, generate a key once into DATA_DIR/audit_hmac_key. "
        "Allowed only in the local profile.",
    )
    flush_interval_ms: float = Field(
        0.0, ge=0, le=1000,
        description="Group commit: how long a record may wait for others before its batch commits. 0 commits as "
        "soon as the writer is free; records that arrive during a commit form the next batch.",
    )
    max_batch: int = Field(256, gt=0, description="Records per committed batch at most.")
    retention_days: float | None = Field(
        None, gt=0, description="Prune records older than this, hourly in each Ingress replica (and with "
        "`tollgate audit prune`); none keeps them all."
    )
    store_text_teams: list[str] = Field(
        default_factory=list,
        description="Teams (ORG/TEAM) whose redacted prompts and answers are kept, encrypted, in the record.",
    )
    encryption_key_env: str = Field(
        "TOLLGATE_AUDIT_ENCRYPTION_KEY",
        description="Variable holding the Fernet key that encrypts stored texts (needed when store_text_teams is set).",
    )


class GuardrailsConfig(_Strict):
    """PII and secret redaction, prompt-injection detection and output checks (docs/guardrails.md)."""

    enabled: bool = Field(True, description="Scan every chat request (in the Guardrail deployment or the Ingress).")
    placement: Literal["deployment", "ingress"] = Field(
        "deployment", description="Where requests are scanned: the Guardrail deployment (scales on its own), or in "
        "each Ingress replica (no hop; a request's texts over inline_max_chars are scanned on a worker thread so "
        "the event loop keeps serving).")
    inline_max_chars: int = Field(
        4000, gt=0, description="placement: ingress: texts up to this many characters are scanned on the event "
        "loop (about 1 ms per 1,000), longer ones on a worker thread.")
    policy: dict[str, Any] = Field(
        default_factory=dict,
        description="The gateway's policy: external / internal / output actions per entity type, injection "
        "action and threshold (tollgate_core/guardrail_policy.py GuardrailPolicy). Empty means the defaults.",
    )
    teams: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Overrides merged over `policy` for a team, by ORG/TEAM name."
    )
    keys: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Overrides merged over the team's policy for one key, by key id."
    )

    @model_validator(mode="after")
    def _check_policies(self) -> GuardrailsConfig:
        from tollgate_core.guardrail_policy import GuardrailPolicy, merge_policy

        try:
            base = GuardrailPolicy.model_validate(self.policy)
        except ValidationError as exc:
            raise ValueError(_problems(exc, "policy")) from exc
        for section, overrides in (("teams", self.teams), ("keys", self.keys)):
            for name, override in overrides.items():
                try:
                    merge_policy(base, override)
                except ValidationError as exc:
                    raise ValueError(_problems(exc, f"{section}.{name}")) from exc
        return self


class JudgesConfig(_Strict):
    """Evaluation judges of answers: inline before release, or sampled after it (docs/judges.md)."""

    enabled: bool = Field(False, description="Judge answers at all (adds the Judge deployment to the graph).")
    placement: Literal["deployment", "ingress"] = Field(
        "deployment", description="Where inline judges run: the Judge deployment (scales on its own), or in the "
        "ingress process (saves the hop for cheap deterministic judges). Sampled judges always use the deployment "
        "when there is one.")
    policy: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Each judge's rule (tollgate_core/judge_policy.py): mode, action, sample, "
        "on_error, timeout_s, alert_failure_rate, and the judge's own fields.")
    models: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="Overrides merged over `policy` for answers of one catalog model.")
    teams: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="Overrides merged over the model's rules for one team, by ORG/TEAM name.")
    queue_size: int = Field(1000, gt=0, description="Sampled judgements waiting at most; more are dropped and "
                            "counted (tollgate_judge_dropped).")
    workers: int = Field(2, gt=0, le=64, description="Sampled judgements running at once per ingress replica.")
    stream_check_chars: int = Field(
        400, gt=0, description="A stream under an inline block judge is judged again each time this many more "
        "characters arrived, and at its end.")
    alert_window_s: float = Field(3600.0, gt=0, description="The window of a team's failure rate for alerts.")
    alert_min_verdicts: int = Field(20, gt=0, description="Verdicts in the window before an alert can fire.")

    def rules(self, team_path: str, model: str) -> dict[str, JudgeRule]:
        """The rule of each judge for one team's answers from ``model``: ``policy``, the model's override, then the
        team's."""
        from tollgate_core.judge_policy import merge_rules, resolve_rules

        return resolve_rules(merge_rules(self.policy, self.models.get(model, {}), self.teams.get(team_path, {})))

    def every_rule(self) -> list[tuple[str, JudgeRule]]:
        """Each distinct rule any team's answers from any model can get (to build those judges at start)."""
        from tollgate_core.judge_policy import merge_rules, resolve_rules

        combos = [(), *((m,) for m in self.models.values()), *((t,) for t in self.teams.values()),
                  *((m, t) for t in self.teams.values() for m in self.models.values())]
        seen: dict[str, tuple[str, JudgeRule]] = {}
        for layers in combos:
            for name, rule in resolve_rules(merge_rules(self.policy, *layers)).items():
                if rule.mode != "off":
                    seen.setdefault(name + rule.model_dump_json(), (name, rule))
        return list(seen.values())

    @property
    def needs_deployment(self) -> bool:
        """Whether the graph needs the Judge deployment: inline judges placed there, or any sampled judge."""
        if not self.enabled:
            return False
        layers = [self.policy, *self.models.values(), *self.teams.values()]
        sampled = any(rule.get("mode") == "sampled" for layer in layers for rule in layer.values())
        return self.placement == "deployment" or sampled

    @model_validator(mode="after")
    def _check_rules(self) -> JudgesConfig:
        from tollgate_core.judge_policy import merge_rules, resolve_rules

        def check(where: str, *layers: dict[str, dict[str, Any]]) -> None:
            try:
                resolve_rules(merge_rules(self.policy, *layers))
            except ValueError as exc:
                raise ValueError(f"{where}.{exc}") from None

        check("policy")
        for model, override in self.models.items():
            check(f"models.{model}", override)
        for team, override in self.teams.items():
            check(f"teams.{team}", override)
            for model_override in self.models.values():
                check(f"teams.{team}", model_override, override)
        return self


class CacheBatchConfig(_Strict):
    """``@serve.batch`` settings of the embedding call."""

    max_batch_size: int = Field(32, gt=0, description="Queries embedded together at most.")
    batch_wait_timeout_s: float = Field(
        0.0, ge=0, description="How long a batch waits to fill; 0: it takes what queued while the previous one ran.",
    )


class CacheConfig(_Strict):
    """Exact and semantic response caching (docs/cache.md)."""

    enabled: bool = Field(True, description="Run the SemanticCache deployment and look up cacheable requests.")
    semantic: bool = Field(True, description="Look for paraphrases after an exact miss (false: exact match only).")
    scope: Literal["team", "org", "key", "global"] = Field(
        "team", description="Who shares entries: a hit is only possible within the same scope.",
    )
    ttl_s: float = Field(86400.0, gt=0, description="How long an entry may be served.")
    decision: Literal["cross_encoder", "verifier", "cosine"] = Field(
        "cross_encoder", description="cross_encoder: a model reads each candidate with the question (pairs over 128 "
        "tokens go to the verifier); verifier: a learned scorer over the two embeddings and conflict features; "
        "cosine: a plain similarity threshold.",
    )
    cosine_threshold: float = Field(0.92, gt=0, le=1, description="The threshold of decision: cosine.")
    operating_point: Literal["strict", "balanced"] = Field(
        "strict", description="How sure the decision stage must be: strict (fewest wrong answers) or balanced "
        "(more hits, more wrong ones; docs/cache.md gives both operating points' figures).",
    )
    operating_points: dict[str, Literal["strict", "balanced"]] = Field(
        default_factory=dict, description="Per team (ORG/TEAM) or per model name: its operating point; a team's "
        "setting wins over its model's.",
    )
    checks: bool = Field(
        True, description="Structured checks before the decision: a candidate that disagrees with the question on "
        "a number, identifier, negation, direction, opposite, date, unit, scope or role is never served.",
    )
    verifier_threshold: float | None = Field(
        None, gt=0, lt=1, description="Override the verifier's shipped operating point (higher: fewer, safer hits).",
    )
    cross_encoder_threshold: float | None = Field(
        None, gt=0, lt=1, description="Override the cross-encoder's shipped operating point (higher: fewer, safer "
        "hits).",
    )
    candidates: int = Field(4, gt=0, le=64, description="Nearest entries the decision stage considers.")
    sync_interval_s: float = Field(
        0.5, gt=0, description="How often a replica picks up entries other replicas stored.",
    )
    expiry_sweep_s: float = Field(600.0, gt=0, description="How often expired entries are deleted from the store.")
    batch: CacheBatchConfig = Field(default_factory=CacheBatchConfig, description="Embedding batching.")
    embed_threads: int | None = Field(
        None, gt=0, description="CPU threads of the embedding model (default: Ray's, one per num_cpus of the "
        "replica; more only helps where the replica has cores to itself).",
    )
    teams: dict[str, bool] = Field(default_factory=dict, description="Per team (ORG/TEAM): false turns caching off.")
    keys: dict[str, bool] = Field(default_factory=dict, description="Per key id: false turns caching off.")
    index_device: Literal["cpu", "gpu"] = Field(
        "cpu", description="gpu (the GPU profile, faiss-gpu): a scope of at least gpu_min_entries entries is "
        "searched exactly on the replica's GPU; smaller scopes stay on the CPU HNSW graph, faster for them. Without "
        "a GPU the replica logs so and searches on the CPU.",
    )
    gpu_min_entries: int = Field(20000, gt=0, description="Entries a scope needs before it moves to the GPU.")


class TierPolicyConfig(_Strict):
    """One tiering policy: which catalog model serves each tier, and where the line between them is."""

    tier1: str = Field(description="Catalog model for Tier 1 (cheap: the local tier or a low-cost endpoint).")
    tier2: str = Field(description="Catalog model for Tier 2 (a frontier model).")
    threshold: float = Field(
        0.5, gt=0, lt=1, description="A request whose score (probability it needs Tier 2) is at least this goes to "
        "Tier 2; lower keeps more on Tier 1 (cheaper), higher sends more to Tier 2 (safer).",
    )
    escalate: bool = Field(
        True, description="When every target of the Tier-1 model (and its fallbacks) fails, try the Tier-2 model.",
    )
    description: str | None = Field(None, description="Shown in /v1/models.")


class TieringConfig(_Strict):
    """Context-aware model tiering (docs/tiering.md): ``model: "auto"`` or a named policy picks a tier per request."""

    enabled: bool = Field(True, description="Classify requests that name a policy (when one is configured).")
    placement: Literal["deployment", "ingress"] = Field(
        "deployment", description="deployment: the TierClassifier deployment scores, scaled on its own; ingress: "
        "each Ingress replica scores in process (the model is 10 KB of numpy; no deployment hop).",
    )
    policies: dict[str, TierPolicyConfig] = Field(
        default_factory=dict, description="Policy name (what clients send as `model`) → tiers and threshold.",
    )
    teams: dict[str, str] = Field(
        default_factory=dict, description='Per team (ORG/TEAM): the policy that `model: "auto"` means for it.',
    )
    keys: dict[str, str] = Field(
        default_factory=dict, description='Per key id: the policy that `model: "auto"` means for it (before its team\'s).',
    )

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.policies)


class PromptCacheConfig(_Strict):
    """Prompt caching choices beyond each model's own ``prompt_cache``."""

    teams: dict[str, PromptCacheMode] = Field(
        default_factory=dict,
        description="Team path (org/team) → auto or off, overriding the model's setting for that team's keys.",
    )


class GatewayConfig(_Strict):
    """Everything under ``args:`` of the Tollgate Serve application."""

    profile: str = Field("local", pattern=r"^(local|prod)$", description="local (one machine) or prod (a cluster).")
    server: ServerConfig = Field(default_factory=ServerConfig, description="HTTP settings.")
    auth: AuthConfig = Field(default_factory=AuthConfig, description="Authentication.")
    local_llm: LocalLLMConfig | None = Field(None, description="The local vLLM tier; omit to run without one.")
    models: dict[str, ModelConfig] = Field(min_length=1, description="The model catalog: public name → targets.")
    routing: RoutingConfig = Field(default_factory=RoutingConfig, description="Routing and resilience.")
    state: StateConfig = Field(default_factory=StateConfig, description="The state store.")
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig, description="Budgets and rate limits.")
    guardrails: GuardrailsConfig = Field(default_factory=GuardrailsConfig, description="Redaction and injection checks.")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="The audit log.")
    cache: CacheConfig = Field(default_factory=CacheConfig, description="Exact and semantic response caching.")
    tiering: TieringConfig = Field(default_factory=TieringConfig, description="Tier classifier and policies.")
    prompt_cache: PromptCacheConfig = Field(default_factory=PromptCacheConfig,
                                            description="Per-team prompt caching (docs/prompt-caching.md).")
    judges: JudgesConfig = Field(default_factory=JudgesConfig, description="Evaluation judges of answers.")

    @field_validator("models")
    @classmethod
    def _check_names(cls, models: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        for name in models:
            if not name or name.strip() != name:
                raise ValueError(f"model name {name!r} must be non-empty without surrounding spaces")
        return models

    @model_validator(mode="after")
    def _check_cross_fields(self) -> GatewayConfig:
        for name, model in self.models.items():
            for other in [*model.fallbacks, *([model.context_fallback] if model.context_fallback else [])]:
                if other not in self.models:
                    raise ValueError(f"models.{name}: fallback {other!r} is not a model in the catalog")
                if other == name:
                    raise ValueError(f"models.{name}: a model cannot be its own fallback")
                if self.models[other].type is not model.type:
                    raise ValueError(f"models.{name}: fallback {other!r} is a {self.models[other].type.value} model")
        self._check_tiering()
        for name in self.judges.models:
            if name not in self.models and name not in self.tiering.policies:
                raise ValueError(f"judges.models.{name}: not a model in the catalog")
        judges = self.judges
        for where, layer in [("policy", judges.policy), *((f"models.{m}", o) for m, o in judges.models.items()),
                             *((f"teams.{t}", o) for t, o in judges.teams.items())]:
            judge_model = (layer.get("rubric") or {}).get("model")
            if judge_model is not None and (judge_model not in self.models
                                            or self.models[judge_model].type is ModelType.EMBEDDING):
                raise ValueError(f"judges.{where}.rubric.model: {judge_model!r} is not a chat model in the catalog")
        if self.auth.generate_master_key and self.profile != "local":
            raise ValueError("auth.generate_master_key is allowed only with profile: local; set TOLLGATE_MASTER_KEY")
        if self.audit.generate_hmac_key and self.profile != "local":
            raise ValueError(f"audit.generate_hmac_key is allowed only with profile: local; set {self.audit.hmac_key_env}")
        for name, model in self.models.items():
            for i, target in enumerate(model.targets):
                if target.provider is not ProviderKind.LOCAL or model.type is ModelType.EMBEDDING:
                    continue
                if self.local_llm is None or not self.local_llm.enabled:
                    raise ValueError(f"models.{name}.targets.{i}: a local target needs local_llm to be configured")
                if target.model != self.local_llm.model_id:
                    raise ValueError(
                        f"models.{name}.targets.{i}.model is {target.model!r} but local_llm.model_id is "
                        f"{self.local_llm.model_id!r}; they must match"
                    )
        return self

    def _check_tiering(self) -> None:
        tiering = self.tiering
        for name, policy in tiering.policies.items():
            if name in self.models:
                raise ValueError(f"tiering.policies.{name}: a policy cannot have the name of a catalog model")
            for tier in ("tier1", "tier2"):
                if getattr(policy, tier) not in self.models:
                    raise ValueError(f"tiering.policies.{name}.{tier}: {getattr(policy, tier)!r} is not a model "
                                     "in the catalog")
                if self.models[getattr(policy, tier)].type is ModelType.EMBEDDING:
                    raise ValueError(f"tiering.policies.{name}.{tier}: {getattr(policy, tier)!r} is an embedding "
                                     "model")
        for section in ("teams", "keys"):
            for who, name in getattr(tiering, section).items():
                if name not in tiering.policies:
                    raise ValueError(f"tiering.{section}.{who}: {name!r} is not a policy in tiering.policies")

    def provider_kinds(self) -> set[ProviderKind]:
        """Provider kinds whose proxy (or LocalLLM) some target needs; local embeddings need neither."""
        return {t.provider for m in self.models.values() for t in m.targets
                if not (m.type is ModelType.EMBEDDING and t.provider is ProviderKind.LOCAL)}


def _problems(exc: ValidationError, prefix: str) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in (prefix, *e['loc']))}: {e['msg']}" for e in exc.errors())


def format_validation_error(exc: ValidationError, prefix: str = "args") -> str:
    """One line per problem, each naming the field's full path."""
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in (prefix, *err["loc"]))
        lines.append(f"{path}: {err['msg']}")
    return "invalid Tollgate config:\n  " + "\n  ".join(lines)


def parse_gateway_config(args: dict[str, Any]) -> GatewayConfig:
    """Validate application args; raise :class:`ConfigError` naming every bad field."""
    try:
        return GatewayConfig.model_validate(args)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from exc


def load_serve_config(path: str | Path) -> dict[str, Any]:
    """Read a Serve config YAML file into a dict (the only place YAML is loaded)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a YAML mapping with an `applications:` list")
    return data
