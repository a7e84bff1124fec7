"""The examples of docs/api/ run as written against a real HTTP server: the gateway over the fake providers."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployments.providers.proxy import ProviderProxy
from fake_providers.server import FakeProviderServer
from serve_app.http.api import create_api
from serve_app.pipeline.gateway import Gateway
from tests.unit._gateway_helpers import InProcessBackend, serve_http
from tollgate_core.config import ProviderKind, parse_gateway_config

KEY = "unit-master"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
PAGES = sorted(DOCS.glob("*.md"))


@pytest.fixture(scope="module")
def gateway_url(fake: FakeProviderServer) -> Iterator[str]:
    target = {"provider": "openai", "model": "smol", "api_base": f"{fake.base_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
    config = parse_gateway_config({"models": {
        "llama-3-8b": {"targets": [target]},
        "text-embedding-3-small": {"type": "embedding", "targets": [{**target, "model": "text-embedding-3-small"}]},
    }})
    gateway = Gateway(config, {ProviderKind.OPENAI: InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI}))},
                      KEY)
    with serve_http(create_api(gateway)) as url:
        yield url


def test_every_api_page_has_an_example() -> None:
    assert {p.stem for p in PAGES} >= {"messages", "responses", "completions", "embeddings"}
    for page in PAGES:
        assert "```python" in page.read_text(), page.name


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_the_pages_example_runs(page: Path, gateway_url: str, fake: FakeProviderServer) -> None:
    httpx.post(f"{fake.base_url}/_fake/reset")
    [example] = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)
    code = example.replace("http://127.0.0.1:8000", gateway_url).replace("YOUR_TOLLGATE_KEY", KEY)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(page), "exec"), {})  # noqa: S102 - our own documentation
    lines = [line for line in printed.getvalue().splitlines() if line.strip()]
    assert len(lines) >= 2, printed.getvalue()
    assert httpx.get(f"{fake.base_url}/_fake/requests").json(), "the example reached no provider"
