"""The gateway's configuration: the ``args`` of the Serve application.

One pydantic model per section, every field described, unknown fields
forbidden so a typo fails at start with the field's path. YAML is loaded in
exactly one function, :func:`load_serve_config`.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tollgate_core.errors import ConfigError

__all__ = [
    "LOCAL_EMBEDDING_MODEL",
    "AuditConfig",
    "AuthConfig",
    "GatewayConfig",
    "GovernanceConfig",
    "GuardrailsConfig",
    "LocalLLMConfig",
    "ModelConfig",
    "ModelType",
    "Prices",
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderKind(str, Enum):
    """Which wire format and proxy deployment a target uses."""

    OPENAI = "openai"
    AZURE = "azure"
    ANTHROPIC = "anthropic"
    BEDROCK = "bedrock"
    LOCAL = "local"


class Prices(_Strict):
    """USD per one million tokens."""

    input: float = Field(0.0, ge=0, description="Price per 1M uncached input tokens.")
    output: float = Field(0.0, ge=0, description="Price per 1M output tokens.")
    cached_input: float | None = Field(
        None, ge=0, description="Price per 1M input tokens read from the provider's prompt cache; defaults to `input`."
    )
    cache_write: float | None = Field(
        None, ge=0, description="Price per 1M input tokens written to the provider's prompt cache; defaults to `input`."
    )


_ENV_REF = re.compile(r"\$\{(\w+)\}")

_DEFAULT_API_BASES = {
    ProviderKind.OPENAI: "https://api.openai.com/v1",
    ProviderKind.ANTHROPIC: "https://api.anthropic.com",
}


class TargetConfig(_Strict):
    """One place a public model can be served from."""

    provider: ProviderKind = Field(description="Wire format: openai, azure, anthropic, bedrock or local.")
    model: str = Field(
        description="Upstream model id (OpenAI/Anthropic model, Azure deployment name, Bedrock modelId, local model_id)."
    )
    api_base: str | None = Field(
        None,
        description="Base URL. OpenAI: https://api.openai.com/v1; Azure: https://RESOURCE.openai.azure.com; "
        "Anthropic: https://api.anthropic.com; Bedrock: defaults to https://bedrock-runtime.REGION.amazonaws.com.",
    )
    api_version: str | None = Field(None, description="Azure OpenAI `api-version` query parameter (required for azure).")
    region: str | None = Field(None, description="Region label; for bedrock also the SigV4 signing region.")
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable that holds the API key. Bedrock uses the standard AWS "
        "variables instead; local needs none.",
    )
    prices: Prices = Field(default_factory=Prices, description="Prices per 1M tokens.")
    context_window: int | None = Field(None, gt=0, description="Maximum prompt + completion tokens.")
    timeout_s: float = Field(
        600.0, gt=0, description="Longest wait for any read or write of one upstream call (httpx); the request's "
        "deadline bounds the call as a whole.",
    )
    connect_timeout_s: float = Field(10.0, gt=0, description="Time allowed to open the upstream connection.")
    first_token_timeout_s: float | None = Field(
        None, gt=0, description="Longest wait for this target's first streamed chunk; defaults to "
        "routing.first_token_timeout_s (a CPU-served local tier may need longer than a commercial API).",
    )

    @model_validator(mode="after")
    def _check_kind_fields(self) -> TargetConfig:
        if self.provider is ProviderKind.AZURE:
            if not self.api_base:
                raise ValueError("azure targets need api_base, e.g. https://RESOURCE.openai.azure.com")
            if not self.api_version:
                raise ValueError("azure targets need api_version, e.g. 2024-10-21")
        if self.provider is ProviderKind.BEDROCK and not self.region:
            raise ValueError("bedrock targets need region, e.g. us-east-1 (it is the SigV4 signing region)")
        if self.provider in (ProviderKind.OPENAI, ProviderKind.AZURE, ProviderKind.ANTHROPIC) and not self.api_key_env:
            raise ValueError(f"{self.provider.value} targets need api_key_env, the variable that holds the key")
        return self

    @property
    def base_url(self) -> str:
        """The API base (``${VAR}`` expanded) with the provider default filled in, no trailing slash."""
        if self.api_base:
            return os.path.expandvars(self.api_base).rstrip("/")
        if self.provider is ProviderKind.BEDROCK:
            return f"https://bedrock-runtime.{self.region}.amazonaws.com"
        return _DEFAULT_API_BASES.get(self.provider, "")

    @property
    def label(self) -> str:
        """A name for this target in headers and logs: ``provider/model[@region]``."""
        return f"{self.provider.value}/{self.model}" + (f"@{self.region}" if self.region else "")

    def unavailable_reason(self, environ: dict[str, str] | os._Environ[str] | None = None) -> str | None:
        """Why this target cannot be called now (a missing credential), or None."""
        env = os.environ if environ is None else environ
        if self.provider is ProviderKind.BEDROCK:
            if not (env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")) and not env.get("AWS_PROFILE"):
                return "AWS credentials are not set (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
            return None
        if self.api_key_env and not env.get(self.api_key_env):
            return f"environment variable {self.api_key_env} is not set"
        for var in _ENV_REF.findall(self.api_base or ""):
            if not env.get(var):
                return f"environment variable {var} (used in api_base) is not set"
        return None


class RoutingPolicy(str, Enum):
    """How the router orders a model's targets for each request."""

    LATENCY = "latency"
    WEIGHTED = "weighted"
    PRIORITY = "priority"


class ModelType(str, Enum):
    """What a catalog model answers: chat endpoints, or ``/v1/embeddings``."""

    CHAT = "chat"
    EMBEDDING = "embedding"


# The embedding model the semantic cache loads; an embedding model's ``local`` target names it.
LOCAL_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_EMBEDDING_PROVIDERS = frozenset({"openai", "azure", "bedrock", "local"})


class ModelConfig(_Strict):
    """A public model name and the targets that serve it."""

    type: ModelType = Field(
        ModelType.CHAT,
        description="chat (the chat, messages, responses and completions endpoints) or embedding (/v1/embeddings; "
        "targets: openai, azure, bedrock, or local for the semantic cache's own all-MiniLM-L6-v2).",
    )
    targets: list[TargetConfig] = Field(min_length=1, description="Targets (config order is the priority order).")
    description: str | None = Field(None, description="Shown in /v1/models.")
    policy: RoutingPolicy = Field(
        RoutingPolicy.LATENCY,
        description="latency: lowest expected latency, power of two choices, penalties for errors, load and low "
        "quota; weighted: random by `weights`; priority: config order. Targets cooling down or with an open "
        "circuit are left out; a half-open one is probed first.",
    )
    weights: list[float] | None = Field(None, description="One weight per target for the weighted policy.")
    fallbacks: list[str] = Field(
        default_factory=list,
        description="Comparable catalog models tried, in order, after every target of this one has failed.",
    )
    context_fallback: str | None = Field(
        None, description="A catalog model with a larger context window, used when a prompt does not fit."
    )

    @model_validator(mode="after")
    def _check_weights(self) -> ModelConfig:
        if self.type is ModelType.EMBEDDING:
            for i, target in enumerate(self.targets):
                if target.provider.value not in _EMBEDDING_PROVIDERS:
                    raise ValueError(f"targets.{i}: {target.provider.value} serves no embeddings; an embedding "
                                     "model's targets are openai, azure, bedrock or local")
                if target.provider is ProviderKind.LOCAL and target.model != LOCAL_EMBEDDING_MODEL:
                    raise ValueError(f"targets.{i}.model: the local embedding model is {LOCAL_EMBEDDING_MODEL!r}")
        if self.weights is not None:
            if len(self.weights) != len(self.targets):
                raise ValueError(f"weights has {len(self.weights)} entries for {len(self.targets)} targets")
            if any(w < 0 for w in self.weights) or not any(w > 0 for w in self.weights):
                raise ValueError("weights must be non-negative with at least one above zero")
        elif self.policy is RoutingPolicy.WEIGHTED:
            raise ValueError("the weighted policy needs weights, one per target")
        return self


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

    def resolved_model_source(self, data_dir: Path) -> str:
        """``model_source`` with environment variables and ``~`` expanded, or the prepared folder."""
        if self.model_source is None:
            return str(data_dir / "models" / self.model_id)
        return os.path.expanduser(os.path.expandvars(self.model_source))


class ServerConfig(_Strict):
    """HTTP behaviour of the ingress."""

    max_request_bytes: int = Field(4 * 1024 * 1024, gt=0, description="Larger request bodies get 413.")
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

    enabled: bool = Field(True, description="Run the Guardrail deployment on every chat request.")
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
    decision: Literal["verifier", "cosine"] = Field(
        "verifier", description="verifier: the learned decision stage; cosine: a plain similarity threshold.",
    )
    cosine_threshold: float = Field(0.92, gt=0, le=1, description="The threshold of decision: cosine.")
    verifier_threshold: float | None = Field(
        None, gt=0, lt=1, description="Override the verifier's shipped operating point (higher: fewer, safer hits).",
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
