"""Fixtures of the unit tier: the fake providers on 127.0.0.1, shared by the in-process gateway tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fake_providers.server import FakeProviderServer


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviderServer]:
    """The fake OpenAI/Azure/Anthropic/Bedrock APIs; targets read their key from UNIT_OPENAI_KEY."""
    os.environ["UNIT_OPENAI_KEY"] = "sk-unit"
    with FakeProviderServer(verify_sigv4=False) as server:
        yield server
