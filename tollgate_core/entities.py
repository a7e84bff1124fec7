"""The governance hierarchy: organisation → team → key, with budgets and limits on each level.

These pydantic models are both the admin API's request bodies and the JSON kept in
the store's ``budgets`` / ``limits`` columns. Amounts are USD; the store counts
nano-dollars (integers) so sums are exact.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tollgate_core.windows import Window

__all__ = [
    "MASTER",
    "NANO",
    "Budget",
    "Budgets",
    "EntityUpdate",
    "KeyCreate",
    "KeyUpdate",
    "Level",
    "OrgCreate",
    "Principal",
    "RateLimits",
    "Scope",
    "TeamCreate",
    "to_nano",
]

NANO = 1_000_000_000
Level = Literal["org", "team", "key", "end_user"]


def to_nano(usd: float) -> int:
    return round(usd * NANO)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Budget(_Strict):
    """One window's limits in USD."""

    hard: float | None = Field(None, gt=0, description="Refuse with 429 budget_exceeded once this would be passed.")
    soft: float | None = Field(None, gt=0, description="Only alert (log and metric) when spend passes this.")

    @model_validator(mode="after")
    def _soft_below_hard(self) -> Budget:
        if self.hard is not None and self.soft is not None and self.soft > self.hard:
            raise ValueError(f"soft limit {self.soft} is above the hard limit {self.hard}; lower it")
        return self


class Budgets(_Strict):
    """Budgets per calendar window (UTC) and over the entity's lifetime."""

    hourly: Budget | None = Field(None, description="Resets at the top of every UTC hour.")
    daily: Budget | None = Field(None, description="Resets at 00:00 UTC.")
    monthly: Budget | None = Field(None, description="Resets on the 1st of the month, 00:00 UTC.")
    lifetime: Budget | None = Field(None, description="Never resets.")

    def items(self) -> list[tuple[Window, Budget]]:
        pairs = [(Window.HOURLY, self.hourly), (Window.DAILY, self.daily), (Window.MONTHLY, self.monthly),
                 (Window.LIFETIME, self.lifetime)]
        return [(w, b) for w, b in pairs if b is not None]


class RateLimits(_Strict):
    """Request-rate, token-rate and concurrency limits."""

    rpm: int | None = Field(None, gt=0, description="Requests per calendar minute.")
    tpm: int | None = Field(None, gt=0, description="Tokens (prompt + completion) per calendar minute.")
    max_concurrency: int | None = Field(None, gt=0, description="Requests in flight at once.")


class OrgCreate(_Strict):
    name: str = Field(min_length=1, max_length=128, description="Unique organisation name.")
    budgets: Budgets = Field(default_factory=Budgets, description="The organisation's budgets.")
    limits: RateLimits = Field(default_factory=RateLimits, description="Limits shared by all its keys.")


class TeamCreate(_Strict):
    org: str = Field(min_length=1, description="Organisation id or name.")
    name: str = Field(min_length=1, max_length=128, description="Team name, unique within the organisation.")
    budgets: Budgets = Field(default_factory=Budgets, description="The team's budgets, shared by its keys.")
    limits: RateLimits = Field(default_factory=RateLimits, description="Limits shared by the team's keys.")
    end_user_budgets: Budgets = Field(
        default_factory=Budgets, description="Budgets for each end user (the request's `user` field) of this team."
    )
    models: list[str] = Field(default_factory=list, description="Models the team may call; empty means all.")


class KeyCreate(_Strict):
    team: str = Field(min_length=1, description="Team id, or ORG/TEAM by names.")
    name: str = Field(min_length=1, max_length=128, description="What the key is for, e.g. the service's name.")
    models: list[str] = Field(default_factory=list, description="Models the key may call; empty means the team's.")
    budgets: Budgets = Field(default_factory=Budgets, description="The key's own budgets.")
    limits: RateLimits = Field(default_factory=RateLimits, description="The key's own limits.")
    expires_at: float | None = Field(None, description="Unix time after which the key is refused.")


class EntityUpdate(_Strict):
    """Replace budgets, limits or allowed models of an existing entity (fields left out stay)."""

    budgets: Budgets | None = None
    limits: RateLimits | None = None
    end_user_budgets: Budgets | None = None
    models: list[str] | None = None
    expires_at: float | None = None


KeyUpdate = EntityUpdate


class Scope(BaseModel):
    """One level of a caller's hierarchy, as the enforcer needs it."""

    model_config = ConfigDict(frozen=True)

    level: Level
    id: str
    name: str
    budgets: Budgets = Budgets()
    limits: RateLimits = RateLimits()

    @property
    def counter_scope(self) -> str:
        return f"{self.level}:{self.id}"


class Principal(BaseModel):
    """Who is calling: the key and its hierarchy, or the master key (ungoverned)."""

    model_config = ConfigDict(frozen=True)

    key_id: str | None = None
    key_name: str | None = None
    team_id: str | None = None
    org_id: str | None = None
    models: tuple[str, ...] = ()
    scopes: tuple[Scope, ...] = ()
    end_user_budgets: Budgets = Budgets()

    @property
    def is_master(self) -> bool:
        return self.key_id is None

    @property
    def team_path(self) -> str | None:
        """``ORG/TEAM`` by name, as guardrail policy overrides name teams."""
        names = {scope.level: scope.name for scope in self.scopes}
        return f"{names['org']}/{names['team']}" if "org" in names and "team" in names else None

    def may_use(self, model: str) -> bool:
        return not self.models or model in self.models


# The master key's caller: ungoverned (no key, no hierarchy).
MASTER = Principal()


def dump_json(model: BaseModel | list[str]) -> str:
    if isinstance(model, list):
        return json.dumps(model)
    return model.model_dump_json(exclude_none=True)


def load_json(text: str | None, kind: type[BaseModel]) -> Any:
    return kind.model_validate_json(text or "{}")
