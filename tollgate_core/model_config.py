"""The model catalog's configuration: providers, targets, their prices, and the models they serve.

Part of the ``args`` schema (:mod:`tollgate_core.config` re-exports every name here).
"""

from __future__ import annotations

import os
import re
from enum import Enum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "LOCAL_EMBEDDING_MODEL",
    "ModelConfig",
    "ModelType",
    "Prices",
    "PromptCacheMode",
    "ProviderKind",
    "RoutingPolicy",
    "TargetConfig",
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


# Each provider's published cache prices as multiples of the input price: (read, write, write for 1 hour).
# OpenAI's cache writes are free (reported as uncached input); Bedrock prices Claude as Anthropic does.
_CACHE_PRICE_FACTORS = {
    "anthropic": (0.1, 1.25, 2.0), "bedrock": (0.1, 1.25, 2.0),
    "openai": (0.5, 1.0, 1.0), "azure": (0.5, 1.0, 1.0), "local": (0.0, 0.0, 0.0),
}


class Prices(_Strict):
    """USD per one million tokens."""

    input: float = Field(0.0, ge=0, description="Price per 1M uncached input tokens.")
    output: float = Field(0.0, ge=0, description="Price per 1M output tokens.")
    cached_input: float | None = Field(
        None, ge=0, validation_alias=AliasChoices("cache_read", "cached_input"),
        description="Price per 1M input tokens read from the provider's prompt cache (`cache_read`; `cached_input` "
        "also accepted); defaults to the provider's published share of `input` (Anthropic and Bedrock 0.1, OpenAI "
        "and Azure 0.5).",
    )
    cache_write: float | None = Field(
        None, ge=0, description="Price per 1M input tokens written to the prompt cache with the 5-minute TTL; "
        "defaults to 1.25 x `input` on Anthropic and Bedrock, `input` elsewhere.",
    )
    cache_write_1h: float | None = Field(
        None, ge=0, description="Price per 1M input tokens written with the 1-hour TTL; defaults to 2 x `input` on "
        "Anthropic and Bedrock.",
    )

    def for_provider(self, provider: str) -> Prices:
        """These prices with the provider's published cache prices filled in where the config left them out."""
        read, write, write_1h = _CACHE_PRICE_FACTORS.get(provider, (1.0, 1.0, 1.0))
        return self.model_copy(update={
            "cached_input": self.input * read if self.cached_input is None else self.cached_input,
            "cache_write": self.input * write if self.cache_write is None else self.cache_write,
            "cache_write_1h": self.input * write_1h if self.cache_write_1h is None else self.cache_write_1h,
        })


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
    prompt_caching: bool | None = Field(
        None, description="Whether this target takes prompt-cache directives: cache markers (Anthropic, Bedrock) or "
        "prompt_cache_key (OpenAI). Default: Anthropic yes; Bedrock for Claude and Nova models (others refuse "
        "cachePoint); OpenAI at api.openai.com only (other OpenAI-compatible servers may refuse the field).",
    )
    min_cacheable_tokens: int | None = Field(
        None, gt=0, description="The shortest prompt prefix the provider caches; defaults to 1024 (2048 for Claude "
        "Haiku models). Automatic cache markers are placed only where the prefix reaches it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_cache_prices(cls, data: Any) -> Any:
        if not isinstance(data, dict) or isinstance(data.get("prices"), Prices):
            return data
        provider = data.get("provider")
        try:
            prices = Prices.model_validate(data.get("prices") or {})
        except ValidationError:
            return data  # reported, with its path, by the normal validation
        return {**data, "prices": prices.for_provider(str(getattr(provider, "value", provider)))}

    @property
    def takes_prompt_cache(self) -> bool:
        if self.prompt_caching is not None:
            return self.prompt_caching
        if self.provider is ProviderKind.ANTHROPIC:
            return True
        if self.provider is ProviderKind.BEDROCK:
            return "anthropic.claude" in self.model or "amazon.nova" in self.model
        if self.provider is ProviderKind.OPENAI:
            return self.base_url.startswith("https://api.openai.com")
        return False

    @property
    def min_cache_tokens(self) -> int:
        if self.min_cacheable_tokens is not None:
            return self.min_cacheable_tokens
        return 2048 if "haiku" in self.model.lower() else 1024

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


class PromptCacheMode(str, Enum):
    """``auto``: cache markers placed by the gateway where a provider needs them; ``off``: none sent."""

    AUTO = "auto"
    OFF = "off"


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
    prompt_cache: PromptCacheMode = Field(
        PromptCacheMode.AUTO,
        description="auto: the gateway marks the stable prefix (tools, system prompt, earlier turns) for the "
        "provider's prompt cache; off: no markers are sent, the client's own included. A team's setting "
        "(prompt_cache.teams) and the x-tollgate-prompt-cache header override it.",
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
