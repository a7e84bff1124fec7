"""Reversible redaction and streaming restore, mostly as properties."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from deployments.guardrail.findings import EntityType
from deployments.guardrail.policy import GuardrailPolicy, Redacted, apply_input_policy
from deployments.guardrail.redaction import PLACEHOLDER_PATTERN, RedactionState, StreamRestorer, redact, restore
from deployments.guardrail.scanner import Scanner

from ._values import message_with_plants, planted

T = EntityType
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["[EMAIL_1]", "[EMA", "see [CREDIT_CARD_1] and [X_2]", "[", "]", "[[EMAIL_1]]"]
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(max(c, 0), len(text)) for c in cuts})
    bounds = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@given(st.lists(st.one_of(ANY_TEXT, planted().map(lambda p: p[2])), min_size=1, max_size=6))
def test_redact_then_restore_is_identity(scanner: Scanner, pieces: list[str]) -> None:
    texts = [" ".join(pieces), *pieces]
    outcome = apply_input_policy(texts, "external", scanner, GuardrailPolicy())
    assert isinstance(outcome, Redacted)
    assert [restore(t, outcome.state.placeholders) for t in outcome.texts] == texts


@given(message_with_plants(), message_with_plants())
def test_planted_values_never_survive_and_are_stable(
    scanner: Scanner, a: tuple[str, list[str]], b: tuple[str, list[str]]
) -> None:
    (text_a, values_a), (text_b, values_b) = a, b
    outcome = apply_input_policy([text_a, text_b, text_a], "external", scanner, GuardrailPolicy())
    assert isinstance(outcome, Redacted)
    for value in values_a + values_b:
        assert all(value not in t for t in outcome.texts), value
    assert outcome.texts[0] == outcome.texts[2]  # the same value, the same placeholder, across messages
    assert restore(outcome.texts[1], outcome.state.placeholders) == text_b


@given(message_with_plants(), st.lists(st.integers(0, 400), max_size=12))
def test_stream_restore_equals_restore(scanner: Scanner, message: tuple[str, list[str]], cuts: list[int]) -> None:
    text, _ = message
    outcome = apply_input_policy([text], "external", scanner, GuardrailPolicy())
    assert isinstance(outcome, Redacted)
    redacted = outcome.texts[0]
    restorer = StreamRestorer(outcome.state.placeholders)
    streamed = "".join(restorer.feed(chunk) for chunk in _split(redacted, cuts)) + restorer.flush()
    assert streamed == restore(redacted, outcome.state.placeholders) == text
    assert not any(p in streamed for p in outcome.state.placeholders)


@given(st.text(alphabet="[]EMAIL_0123 xy", max_size=60), st.lists(st.integers(0, 60), max_size=10))
def test_stream_restore_of_arbitrary_text(text: str, cuts: list[int]) -> None:
    mapping = {"[EMAIL_1]": "a@b.io", "[EMAIL_12]": "c@d.io"}
    restorer = StreamRestorer(mapping)
    out = []
    for chunk in _split(text, cuts):
        out.append(restorer.feed(chunk))
        # Held back: only a proper prefix of a placeholder, never more.
        assert restorer.pending == "" or any(p.startswith(restorer.pending) and p != restorer.pending for p in mapping)
    assert "".join(out) + restorer.flush() == restore(text, mapping)


def test_restorer_releases_as_soon_as_a_prefix_cannot_complete() -> None:
    restorer = StreamRestorer({"[EMAIL_1]": "a@b.io"})
    assert restorer.feed("write to [EMA") == "write to "
    assert restorer.feed("IL_1") == ""
    assert restorer.feed("] now [x") == "a@b.io now [x"
    assert restorer.feed("[EMAIL_2]") == "[EMAIL_2]"  # not a placeholder of this request
    assert restorer.flush() == ""


def test_restorer_without_placeholders_passes_through() -> None:
    restorer = StreamRestorer({})
    assert restorer.feed("[EMA") == "[EMA"


def test_caller_literal_placeholders_are_reserved() -> None:
    state = RedactionState()
    state.reserve("I typed [EMAIL_1] myself")
    assert state.placeholder_for(T.EMAIL, "a@b.io") == "[EMAIL_2]"
    assert state.placeholder_for(T.EMAIL, "a@b.io") == "[EMAIL_2]"
    assert state.placeholder_for(T.EMAIL, "c@d.io") == "[EMAIL_3]"


def test_state_round_trips_as_plain_data() -> None:
    state = RedactionState()
    state.placeholder_for(T.PHONE, "+1 415-555-2671")
    again = RedactionState.from_dict(state.to_dict())
    assert again.placeholders == {"[PHONE_1]": "+1 415-555-2671"}
    assert again.placeholder_for(T.PHONE, "+1 415-555-2671") == "[PHONE_1]"
    assert again.placeholder_for(T.PHONE, "+1 212-555-0000") == "[PHONE_2]"


def test_placeholder_pattern_matches_multiword_types(scanner: Scanner) -> None:
    text = "card 4111111111111111"
    redacted = redact(text, scanner.scan(text), RedactionState())
    assert redacted == "card [CREDIT_CARD_1]"
    assert PLACEHOLDER_PATTERN.fullmatch("[CREDIT_CARD_1]")
