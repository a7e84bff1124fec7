"""The shipped cross-encoder reads a question and a cached one together: it serves paraphrases the embeddings
alone score low, refuses near misses the structured checks do not name, leaves pairs too long for it to the
verifier, and runs off the event loop."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest

from deployments.cache.cross_encoder import MAX_TOKENS, THRESHOLDS, CrossEncoder, shared_cross_encoder
from deployments.cache.decision import Choice, Decision, Refusal
from deployments.cache.embedder import Embedder
from deployments.cache.service import SemanticCacheService
from tests.unit.cache.conftest import Embed
from tests.unit.cache.test_service import ANSWER, _key
from tests.unit.governance.conftest import Clock
from tollgate_core.config import CacheConfig
from tollgate_core.store import Database


@pytest.fixture(scope="module")
def model() -> CrossEncoder:
    return shared_cross_encoder()


def test_the_shipped_operating_points_are_read_from_the_thresholds_file(model: CrossEncoder) -> None:
    chosen = json.loads(THRESHOLDS.read_text(encoding="utf-8"))
    assert (model.threshold, model.balanced_threshold) == (chosen["strict"], chosen["balanced"])
    assert 0 < model.balanced_threshold <= model.threshold < 1


def test_a_paraphrase_scores_above_the_threshold_and_a_near_miss_below(model: CrossEncoder) -> None:
    query = "How do I create a virtual environment in Python?"
    paraphrase = "Could you explain how to set up a Python virtual environment?"
    near_miss = "Why would I create a virtual environment in Python?"  # no structured check names this
    para, miss = model.score(query, [paraphrase, near_miss])
    assert para is not None and miss is not None
    assert para >= model.threshold > miss


def test_only_the_nearest_candidates_are_read(model: CrossEncoder) -> None:
    from deployments.cache.decision import READ_AT_MOST

    vector = np.ones(4, dtype=np.float32)
    decision = Decision("cross_encoder", cross_encoder=model, verifier=_CountingVerifier())  # type: ignore[arg-type]
    near_misses = [(f"e{i}", "Why would I create a virtual environment in Python?", vector, 0.95 - i / 100)
                   for i in range(READ_AT_MOST)]
    paraphrase = ("p", "Could you explain how to set up a Python virtual environment?", vector, 0.8)
    query = "How do I create a virtual environment in Python?"
    assert decision.decide(query, vector, [*near_misses, paraphrase]) == Refusal("cross_encoder")
    assert isinstance(decision.decide(query, vector, [*near_misses[:-1], paraphrase]), Choice)


def test_a_pair_too_long_to_read_whole_is_not_scored(model: CrossEncoder) -> None:
    long_text = "Our expense policy says receipts are needed above 25 dollars. " * 12 + "Can I expense a taxi?"
    assert not model.fits(long_text, "Can I expense a taxi?")
    assert model.score(long_text, ["Can I expense a taxi?", "Can I expense a taxi ride?"]) == [None, None]
    assert model.fits("Can I expense a taxi?", "May I expense a taxi?")
    assert MAX_TOKENS == 128


class _CountingVerifier:
    """Scores every candidate 0.99 and counts the candidates it was asked about."""

    threshold = 0.83
    min_cosine = 0.5

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, query: str, query_vec: object, candidates: list[str], vecs: object) -> list[float]:
        self.asked += candidates
        return [0.99] * len(candidates)


def test_the_decision_reads_short_pairs_and_leaves_long_ones_to_the_verifier(model: CrossEncoder) -> None:
    verifier = _CountingVerifier()
    decision = Decision("cross_encoder", verifier=verifier, cross_encoder=model)  # type: ignore[arg-type]
    assert decision.reads_pairs
    vector = np.ones(4, dtype=np.float32)
    near_miss = [("e1", "Why would I create a virtual environment in Python?", vector, 0.9)]
    # The verifier would accept anything; the cross-encoder refuses the near miss, which no check names.
    assert decision.decide("How do I create a virtual environment in Python?", vector, near_miss) == \
        Refusal("cross_encoder")
    paraphrase = [("e2", "How do I create a virtual environment in Python?", vector, 0.8)]
    chosen = decision.decide("Could you explain how to set up a Python virtual environment?", vector, paraphrase)
    assert isinstance(chosen, Choice) and chosen.entry_id == "e2"
    verifier.asked.clear()
    long_text = "Our expense policy says receipts are needed above 25 dollars. " * 12
    long_pair = [("e3", long_text + "Can I expense a taxi ride?", vector, 0.95)]
    assert isinstance(decision.decide(long_text + "May I expense a taxi ride?", vector, long_pair), Choice)
    assert verifier.asked == [long_text + "Can I expense a taxi ride?"]


def test_the_verifier_vetoes_what_the_cross_encoder_is_unsure_of(model: CrossEncoder, embedder: Embedder) -> None:
    from deployments.cache.decision import SURE, VERIFIER_VETO

    stored = "How can I improve my English speaking skills?"
    near_miss = "How can I improve my English writing skills?"
    read = model.score(near_miss, [stored])[0]
    assert read is not None and model.threshold <= read < SURE  # the cross-encoder alone would serve it
    vectors = embedder.embed([near_miss, stored])
    decision = Decision("cross_encoder", cross_encoder=model)
    candidate = [("e1", stored, vectors[1], float(vectors[0] @ vectors[1]))]
    assert decision.decide(near_miss, vectors[0], candidate) == Refusal("cross_encoder")
    assert VERIFIER_VETO > 0
    paraphrase = "How do I get better at speaking English?"
    vectors = embedder.embed([paraphrase, stored])
    candidate = [("e1", stored, vectors[1], float(vectors[0] @ vectors[1]))]
    assert isinstance(decision.decide(paraphrase, vectors[0], candidate), Choice)


def test_the_config_selects_it_and_may_move_its_threshold() -> None:
    decision = Decision.from_config(CacheConfig(decision="cross_encoder", cross_encoder_threshold=0.97))
    assert decision.reads_pairs and decision.cross_encoder_threshold == 0.97
    assert not Decision.from_config(CacheConfig(decision="verifier")).reads_pairs


async def test_the_service_serves_a_paraphrase_deciding_in_a_worker_thread(db: Database, embed: Embed, clock: Clock,
                                                                         model: CrossEncoder) -> None:
    threads: list[str] = []

    class _Recording(Decision):
        def decide(self, *args: Any, **kwargs: Any) -> Choice | Refusal | None:
            threads.append(threading.current_thread().name)
            return super().decide(*args, **kwargs)

    service = SemanticCacheService(db, embed, _Recording("cross_encoder", cross_encoder=model), clock=clock)
    await service.store(_key("How do I create a virtual environment in Python?"), ANSWER, 3600)
    hit = await service.lookup(_key("Could you explain how to set up a Python virtual environment?"))
    assert hit.hit and hit.kind == "semantic" and hit.response == ANSWER
    miss = await service.lookup(_key("Why would I create a virtual environment in Python?"))
    assert not miss.hit and miss.refusal == "cross_encoder"
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_a_choice_names_what_served_it(model: CrossEncoder) -> None:
    vector = np.ones(4, dtype=np.float32)
    decision = Decision("cross_encoder", cross_encoder=model, verifier=_CountingVerifier())  # type: ignore[arg-type]
    query = "How do I create a virtual environment in Python?"
    read = decision.decide(query, vector, [("p", "Could you explain how to set up a Python virtual environment?",
                                            vector, 0.8)])
    same = decision.decide(query, vector, [("s", "Hi! How do I create a virtual environment in Python? Thanks", vector,
                                            0.95)])
    assert isinstance(read, Choice) and read.by == "cross_encoder" and read.score >= model.threshold
    assert same == Choice("s", 0.95, 1.0, "same_text")
