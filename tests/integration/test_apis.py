"""The endpoints beside chat completions, through Ray Serve as users run it, with the official SDKs.

Anthropic's Messages API and OpenAI's Responses API over a provider proxy deployment; embeddings
from the SemanticCache deployment's own model and through the OpenAI and Bedrock proxy
deployments; legacy completions from the local tier.
"""

from __future__ import annotations

import anthropic
import numpy as np
import openai
import pytest

from fake_providers.embeddings import fake_vector
from fake_providers.server import FakeProviderServer
from tests.integration.conftest import LOCAL_MODEL, MASTER_KEY, recorded

pytestmark = pytest.mark.integration


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=MASTER_KEY, max_retries=0)


def test_messages_streams_from_an_openai_target(gateway_url: str, fake: FakeProviderServer) -> None:
    claude = anthropic.Anthropic(base_url=gateway_url, api_key=MASTER_KEY, max_retries=0)
    with claude.messages.stream(model="fake-openai", max_tokens=50,
                                messages=[{"role": "user", "content": "alpha beta gamma"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.endswith("alpha beta gamma") and final.stop_reason == "end_turn"
    assert recorded(fake)[-1]["path"] == "/v1/chat/completions"


def test_responses_continue_a_stored_conversation(client: openai.OpenAI, fake: FakeProviderServer) -> None:
    first = client.responses.create(model="fake-anthropic", input="remember the word heron")
    second = client.responses.create(model="fake-anthropic", input="which word?", previous_response_id=first.id)
    assert second.output_text
    sent = recorded(fake)[-1]["body"]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert client.responses.retrieve(first.id).output_text == first.output_text


def test_embeddings_from_the_caches_model_and_through_the_proxies(client: openai.OpenAI,
                                                                 fake: FakeProviderServer) -> None:
    local = client.embeddings.create(model="minilm", input=["reset my password", "I forgot my password"])
    vectors = np.asarray([d.embedding for d in local.data])
    assert vectors.shape == (2, 384) and vectors[0] @ vectors[1] > 0.5
    for model in ("fake-embed", "titan-embed"):
        result = client.embeddings.create(model=model, input=["proxied text"], encoding_format="float")
        assert np.allclose(result.data[0].embedding, fake_vector("proxied text"), atol=1e-6), model
    assert [r["path"] for r in recorded(fake)] == ["/v1/embeddings", "/model/amazon.titan-embed-text-v2:0/invoke"]


def test_completions_from_the_local_tier(client: openai.OpenAI) -> None:
    result = client.completions.create(model=LOCAL_MODEL, prompt="Say hello.", max_tokens=8)
    assert result.object == "text_completion" and result.choices[0].text
    assert result.usage is not None and 0 < result.usage.completion_tokens <= 8
