"""Output policy on whole and streamed answers: new secrets masked, caller values restored."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployments.guardrail.errors import OutputBlocked
from deployments.guardrail.guard import Guard
from deployments.guardrail.policy import GuardrailPolicy

from ._values import aws_key, card, github_token, planted

GUARD = Guard()


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(max(c, 0), len(text)) for c in cuts})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def test_new_secret_in_answer_is_masked_and_caller_values_restored() -> None:
    placeholders = {"[EMAIL_1]": "bob@corp.io"}
    answer = "Sure [EMAIL_1], use key AKIAQYLPMN5HHHFPZAM2 and mail bob@corp.io"
    assert GUARD.check_output(answer, placeholders) == (
        "Sure bob@corp.io, use key [REDACTED_AWS_ACCESS_KEY] and mail bob@corp.io"
    )


def test_output_pii_allowed_by_default_but_cards_masked() -> None:
    answer = "Contact support@vendor.com; test card 4111 1111 1111 1111."
    assert GUARD.check_output(answer, {}) == "Contact support@vendor.com; test card [REDACTED_CREDIT_CARD]."


def test_masked_values_are_counted_per_type() -> None:
    scanner = GUARD.output_scanner({})
    answer = "Cards 4111 1111 1111 1111 and 5500 0000 0000 0004, key AKIAQYLPMN5HHHFPZAM2."
    masked = scanner.apply(answer)
    assert masked.count("[REDACTED_CREDIT_CARD]") == 2
    assert dict(scanner.counts) == {"CREDIT_CARD": 2, "AWS_ACCESS_KEY": 1}


def test_output_block_raises() -> None:
    guard = Guard(GuardrailPolicy.model_validate({"output": {"secrets": "block"}}))
    with pytest.raises(OutputBlocked) as info:
        guard.check_output("here: 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", {})
    assert info.value.types == ("GITHUB_TOKEN",) and info.value.status == 502


@given(st.sampled_from([aws_key, github_token, card]), st.integers(0, 2**32), st.lists(st.integers(0, 200)))
def test_secret_split_across_chunks_never_leaks(generate: object, seed: int, cuts: list[int]) -> None:
    value = generate(random.Random(seed))  # type: ignore[operator]
    answer = f"Here you go: {value} and that is all. Thanks [EMAIL_1]!"
    stream = GUARD.output_stream({"[EMAIL_1]": "bob@corp.io"})
    chunks = [stream.feed(c) for c in _split(answer, cuts)]
    out = "".join(chunks) + stream.flush()
    assert value not in out
    compact = value.replace(" ", "")
    assert all(compact[:8] not in c.replace(" ", "") for c in chunks if c)  # no prefix of it in any chunk
    assert out.endswith("and that is all. Thanks bob@corp.io!")
    assert "[REDACTED_" in out


@given(planted(), st.lists(st.integers(0, 200)))
def test_streamed_and_whole_answer_agree(plant: tuple[object, str, str], cuts: list[int]) -> None:
    _, _, phrase = plant
    answer = f"First line.\n{phrase} end [PHONE_1] done"
    placeholders = {"[PHONE_1]": "+1 415-555-2671"}
    stream = GUARD.output_stream(placeholders)
    streamed = "".join(stream.feed(c) for c in _split(answer, cuts)) + stream.flush()
    assert streamed == GUARD.check_output(answer, placeholders)


def test_stream_holds_only_the_partial_tail() -> None:
    stream = GUARD.output_stream({})
    assert stream.feed("Hello there, how") == "Hello there, "
    assert stream.feed(" are you") == "how are "
    assert stream.flush() == "you"


def test_stream_holds_an_open_private_key_block() -> None:
    stream = GUARD.output_stream({})
    out = stream.feed("key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c7x9k2mQ8sLw3Yd5Fh0 \n")
    assert "MIIE" not in out
    out += stream.feed("aT4gR1vN6jP8qZ2bXcE7uK9oW3iS\n-----END RSA PRIVATE KEY-----\nbye ")
    out += stream.flush()
    assert "MIIE" not in out and out.endswith("[REDACTED_PRIVATE_KEY]\nbye ")
