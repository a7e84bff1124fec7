"""The published OpenAPI document, and Schemathesis (``st run``, every check) against the whole request path over
the fake providers: guardrail, keys and budgets, spend ledger, audit log, stored responses.

A failure prints Schemathesis's report: each failing case with a curl command that reproduces it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from fake_providers.embeddings import OPENAI_MAX_DIMENSIONS
from fake_providers.server import FakeProviderServer
from tests.unit._gateway_helpers import MASTER_KEY, serve_http
from tollgate_core.config import parse_gateway_config

CHAT_MODELS = ["gpt", "claude"]
EMBEDDING_MODELS = ["embed"]
ST = Path(sys.executable).with_name("st")
REPO = Path(__file__).resolve().parents[2]
# Each operation gets this many generated cases per phase: about 30 s for the whole API on 2 cores. A longer
# hunt: TOLLGATE_FUZZ_EXAMPLES=500 TOLLGATE_FUZZ_SEED=7 pytest tests/unit/test_openapi.py
EXAMPLES = os.environ.get("TOLLGATE_FUZZ_EXAMPLES", "40")
SEED = int(os.environ.get("TOLLGATE_FUZZ_SEED", "20"))


class GovernedGateway:
    """The gateway's app, built in the server's own event loop (its store connections belong to that loop)."""

    def __init__(self, fake_url: str, state_db: Path) -> None:
        self._fake_url, self._state_db = fake_url, state_db
        self._app: ASGIApp | None = None
        self._close: Any = None

    async def _build(self) -> None:
        from deployments.guardrail.service import GuardrailService
        from deployments.guardrail.step import LocalGuardrailLink
        from deployments.providers.proxy import ProviderProxy
        from serve_app.audit.writer import AuditWriter
        from serve_app.governance.enforcer import Governance
        from serve_app.http.api import create_api
        from serve_app.pipeline.gateway import Bookkeeping, Deployments, Gateway
        from tests.unit._gateway_helpers import InProcessBackend
        from tollgate_core.config import ProviderKind
        from tollgate_core.store import open_database

        openai = {"provider": "openai", "api_base": f"{self._fake_url}/v1", "api_key_env": "UNIT_OPENAI_KEY"}
        config = parse_gateway_config({"models": {
            "gpt": {"targets": [{**openai, "model": "gpt-4o"}]},
            "claude": {"targets": [{"provider": "anthropic", "model": "claude-x", "api_base": self._fake_url,
                                    "api_key_env": "UNIT_OPENAI_KEY"}]},
            "embed": {"type": "embedding", "targets": [{**openai, "model": "text-embedding-3-small"}]},
        }})
        db = await open_database(f"sqlite:///{self._state_db}")
        writer = AuditWriter(db, hmac_key=b"fuzz-audit-key")
        rails = config.guardrails
        service = GuardrailService(rails.policy, rails.teams, rails.keys)
        proxy = InProcessBackend(ProviderProxy(config, {ProviderKind.OPENAI, ProviderKind.ANTHROPIC}))
        gateway = Gateway(config, {ProviderKind.OPENAI: proxy, ProviderKind.ANTHROPIC: proxy}, MASTER_KEY,
                          Deployments(guardrail=LocalGuardrailLink(service), guards=service),
                          Bookkeeping(governance=Governance(db, config), audit=writer))
        self._app = create_api(gateway)

        async def close() -> None:
            await gateway.drain()
            await writer.close()
            await db.close()

        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":  # startup
                await self._build()
                await send({"type": "lifespan.startup.complete"})
            await self._close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self._app is not None
        await self._app(scope, receive, send)


@pytest.fixture(scope="module")
def gateway_url(fake: FakeProviderServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_http(GovernedGateway(fake.base_url, tmp_path_factory.mktemp("fuzz") / "state.db")) as url:
        yield url


@pytest.fixture(scope="module")
def virtual_key(gateway_url: str) -> str:
    master = {"authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=gateway_url, headers=master) as admin:
        assert admin.post("/admin/orgs", json={"name": "fuzz"}).status_code == 201
        assert admin.post("/admin/teams", json={"org": "fuzz", "name": "api"}).status_code == 201
        created = admin.post("/admin/keys", json={"team": "fuzz/api", "name": "schemathesis"})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def narrowed(document: dict[str, Any]) -> dict[str, Any]:
    """The document for this gateway's catalog: ``model`` names one of its chat (or, on /v1/embeddings, embedding)
    models, and ``dimensions`` stays within what the fake's embedding model makes, as a deployment's own document
    would say; left open, nearly every generated request would be a 404 for an unknown model."""

    def narrow(node: Any, models: list[str]) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and "model" in properties:
                properties["model"] = {"enum": models}
            if isinstance(properties, dict) and "dimensions" in properties:
                properties["dimensions"] = {"anyOf": [
                    {"type": "integer", "minimum": 1, "maximum": OPENAI_MAX_DIMENSIONS}, {"type": "null"}]}
            for value in node.values():
                narrow(value, models)
        elif isinstance(node, list):
            for value in node:
                narrow(value, models)

    for path, operations in document["paths"].items():
        narrow(operations, EMBEDDING_MODELS if path == "/v1/embeddings" else CHAT_MODELS)
    narrow(document["components"], CHAT_MODELS)
    return document


def schemathesis(url: str, document: Path, key: str, seed: int) -> subprocess.CompletedProcess[str]:
    headers = [f"Authorization: Bearer {key}", f"x-api-key: {key}", f"api-key: {key}"]
    return subprocess.run(
        [str(ST), "run", str(document), "--url", url, "--checks", "all", "--max-examples", EXAMPLES,
         "--seed", str(seed), "--workers", "1", "--request-timeout", "15", "--generation-database", "none",
         "--no-color", *[arg for header in headers for arg in ("-H", header)]],
        capture_output=True, text=True, timeout=600, check=False, cwd=REPO,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "PYTHONPATH": str(REPO)},
    )


def report(result: subprocess.CompletedProcess[str]) -> str:
    """Schemathesis's findings, each case's curl command cut to 2,000 characters (generated bodies are long)."""
    lines = [line if len(line) <= 2000 else line[:2000] + " ..." for line in result.stdout.splitlines()]
    return "\n".join(lines)[-30000:] + result.stderr[-2000:]


def test_the_document_lists_every_public_endpoint(gateway_url: str) -> None:
    document = httpx.get(f"{gateway_url}/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) >= {
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/messages", "/v1/messages/count_tokens",
        "/v1/responses", "/v1/responses/{response_id}", "/v1/models", "/healthz", "/readyz",
        "/admin/orgs", "/admin/teams", "/admin/keys", "/admin/keys/{id}/rotate", "/admin/spend",
    }
    messages = document["paths"]["/v1/messages"]["post"]["responses"]["default"]
    assert messages["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AnthropicError"}


@pytest.mark.parametrize("credential", ["virtual key", "bad key"])
def test_schemathesis_finds_nothing(gateway_url: str, virtual_key: str, credential: str, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(narrowed(httpx.get(f"{gateway_url}/openapi.json").json())))
    key = virtual_key if credential == "virtual key" else "tg-not-a-key-of-this-gateway"
    result = schemathesis(gateway_url, document, key, seed=SEED)
    assert result.returncode == 0, report(result)
    operations = sum(1 for item in json.loads(document.read_text())["paths"].values() for method in item
                     if method != "parameters")
    assert f"Tested: {operations}" in result.stdout  # every operation of the document was exercised
