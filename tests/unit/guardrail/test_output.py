"""Output policy on whole and streamed answers: new secrets masked, caller values restored."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployments.guardrail.errors import OutputBlocked
from deployments.guardrail.guard import Guard
from deployments.guardrail.output import OutputStream
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


# --- The stream's hold-back, exactly (each test kills mutants that the round trips above let live) ---------------


def _stream(max_hold: int = 4096, **policy: object) -> OutputStream:
    guard = Guard(GuardrailPolicy.model_validate({"output": policy})) if policy else GUARD
    return OutputStream(guard.output_scanner({}), {}, max_hold=max_hold)


def test_a_value_recognised_only_by_its_label_in_an_earlier_chunk_is_masked() -> None:
    # "hunter2hunter2" alone is no finding; after the "password:" already sent it is.
    stream = _stream()
    sent = stream.feed("password: ")
    assert sent == "password: "
    assert stream.feed("hunter2hunter2 ok ") + stream.flush() == "[REDACTED_PASSWORD] ok "


def test_a_value_cut_by_the_hold_limit_is_held_whole() -> None:
    # No whitespace: the hold limit forces a cut inside the card number; the card is kept back whole.
    stream = _stream(max_hold=5)
    assert stream.feed("4111111111111111") == ""
    assert stream.flush() == "[REDACTED_CREDIT_CARD]"


def test_two_values_before_a_forced_cut_are_both_settled() -> None:
    stream = _stream(max_hold=5)
    released = stream.feed("4111111111111111 5500000000000004")
    assert released == "[REDACTED_CREDIT_CARD] "
    assert stream.flush() == "[REDACTED_CREDIT_CARD]"


def test_the_default_hold_limit_is_4_kib() -> None:
    stream = _stream()
    assert len(stream.feed("x" * 5000)) == 5000 - 4096


def test_text_is_released_up_to_the_last_whitespace_of_any_kind() -> None:
    assert _stream().feed("a\nb\nhel") == "a\nb\n"
    assert _stream().feed("a\tb\thel") == "a\tb\t"
    assert _stream().feed(" hel") == " "


def test_a_trailing_number_is_held_until_it_ends() -> None:
    stream = _stream()
    assert stream.feed("call me at +44 20 ") == "call me at "
    assert stream.feed("7946 0958 today ") == "+44 20 7946 0958 today "


def test_an_open_private_key_block_is_held_even_at_the_start_and_after_a_closed_one() -> None:
    header, body = "-----BEGIN RSA PRIVATE KEY-----\n", "MIIEowIBAAKCAQEA7bq98 "
    assert _stream().feed(header + body) == ""
    closed = f"-----BEGIN EC PRIVATE KEY-----\n{'MHcCAQEEIBx' * 8}\n-----END EC PRIVATE KEY-----\nnext: "
    assert _stream().feed(closed + header + body) == "[REDACTED_PRIVATE_KEY]\nnext: "


def test_a_value_that_ended_in_an_earlier_release_is_not_masked_again() -> None:
    stream = _stream(pii="redact")
    assert stream.feed("mail bob@corp.io") == "mail "
    assert stream.flush() == "[REDACTED_EMAIL]"
    assert stream.feed(" thanks ") + stream.flush() == " thanks "
