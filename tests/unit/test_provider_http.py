"""The HTTP seam: quota headers, Retry-After parsing."""

from __future__ import annotations

import httpx
import pytest

from deployments.providers._http import parse_retry_after
from deployments.providers.openai_compat import ratelimit_headers


def test_ratelimit_headers_keep_openai_names_and_rename_anthropics() -> None:
    headers = httpx.Headers({
        "x-ratelimit-remaining-requests": "5", "x-ratelimit-limit-requests": "100", "content-type": "json",
        "anthropic-ratelimit-tokens-remaining": "900", "anthropic-ratelimit-tokens-limit": "1000",
    })
    assert ratelimit_headers(headers) == {
        "x-ratelimit-remaining-requests": "5", "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-tokens": "900", "x-ratelimit-limit-tokens": "1000",
    }


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
     ({"retry-after": "soon"}, None), ({}, None), ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0)],
    ids=["seconds", "milliseconds-first", "garbage", "absent", "past-date"],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers)) == seconds


@pytest.mark.parametrize("value", ["inf", "1e999", "nan"])
def test_non_finite_retry_after_is_ignored(value: str) -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": value})) is None


def test_huge_retry_after_is_capped_at_a_day() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "99999999"})) == 86_400.0


def test_api_key_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    from deployments.providers.base import api_key_for
    from tollgate_core.config import ProviderKind, TargetConfig

    monkeypatch.setenv("STRIP_ME", "sk-live-123\n")
    target = TargetConfig(provider=ProviderKind.OPENAI, model="m", api_key_env="STRIP_ME")
    assert api_key_for(target) == "sk-live-123"
