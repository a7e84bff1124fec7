"""``denied_topics``: the answer engages in a topic the operator forbids (medical advice, competitor comparisons,
…), as opposed to refusing it, pointing elsewhere, or talking about a neighbouring, allowed subject.

An operator describes each topic as an operator would: a name, a one-line description and a few example answers
that engage in it. The decision is a small classifier over the embedding model the gateway already loads for
the cache (all-MiniLM-L6-v2), trained across many topics so that it carries over to topics it never saw
(``training/judges/train_denied_topics.py``). Its features compare the answer with the topic: the answer's
sentences against the description and the examples (how close the closest sentence is, and in which directions
of the embedding space it agrees with the topic), and what that sentence is doing (giving advice, refusing,
stating a fact), which is what separates "take 400 mg every six hours" from "your plan covers ten physiotherapy
sessions".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deployments.judges.logistic import LogisticClassifier
from deployments.judges.sentences import sentences
from deployments.judges.verdict import JudgeInput, Verdict

__all__ = [
    "DeniedTopicsJudge",
    "Topic",
    "TopicVectors",
    "answer_features",
    "answer_vectors",
    "sentences",
    "topic_vectors",
]

DEFAULT_WEIGHTS = Path(__file__).with_name("denied_topics_weights.npz")

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit-length rows


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class TopicVectors:
    description: np.ndarray  # (d,)
    examples: np.ndarray     # (k, d)
    centroid: np.ndarray     # (d,) unit: the examples' and description's mean direction


def topic_vectors(topic: Topic, embed: Embed) -> TopicVectors:
    vectors = embed([topic.description, *topic.examples])
    centroid = vectors[0] + vectors[1:].mean(axis=0)
    return TopicVectors(vectors[0], vectors[1:], centroid / max(float(np.linalg.norm(centroid)), 1e-9))


def answer_vectors(answer: str, embed: Embed) -> tuple[np.ndarray, np.ndarray]:
    """(the answer's sentence embeddings, the whole answer's): what :func:`answer_features` compares with a topic."""
    vectors = embed([*sentences(answer), answer])  # the embedder keeps the short sentences apart from the answer
    return vectors[:-1], vectors[-1]


def answer_features(sentence_vecs: np.ndarray, answer_vec: np.ndarray, topic: TopicVectors) -> np.ndarray:
    """One row of features for (answer, topic): how close the answer comes to the topic, then the embedding of
    the sentence that comes closest (what it is doing: advising, refusing, stating a fact).

    ``sentence_vecs`` are the answer's sentences, ``answer_vec`` the whole answer (all unit vectors)."""
    to_examples = sentence_vecs @ topic.examples.T          # (n, k)
    to_description = sentence_vecs @ topic.description      # (n,)
    to_centroid = sentence_vecs @ topic.centroid            # (n,)
    ranked = np.sort(to_centroid)[::-1]
    scalars = np.array([
        float(to_examples.max()),
        float(to_examples.max(axis=1).mean()),
        float(to_description.max()),
        float(ranked[0]),
        float(ranked[1]) if len(ranked) > 1 else float(ranked[0]),
        float(to_centroid.mean()),
        float(answer_vec @ topic.centroid),
        float(np.max(answer_vec @ topic.examples.T)),
        float(np.log1p(len(ranked))),
    ], dtype=np.float32)
    row: np.ndarray = np.concatenate([scalars, sentence_vecs[int(np.argmax(to_centroid))]]).astype(np.float32)
    return row


class DeniedTopicsJudge:
    """Fails an answer that engages in any of the configured topics; the reason names the topic, never the text."""

    name = "denied_topics"

    def __init__(self, topics: Sequence[Topic], threshold: float | None = None, embed: Embed | None = None,
                 classifier: LogisticClassifier | None = None) -> None:
        if embed is None:
            from deployments.cache.embedder import shared_embedder

            embed = shared_embedder().embed
        self._embed = embed
        self._classifier = classifier or LogisticClassifier.load(DEFAULT_WEIGHTS)
        self.threshold = self._classifier.threshold if threshold is None else float(threshold)
        self._topics = [(t.name, topic_vectors(t, embed)) for t in topics]

    def scores(self, answer: str) -> dict[str, float]:
        """Each topic's score (0 … 1) for ``answer``."""
        sentence_vecs, answer_vec = answer_vectors(answer, self._embed)
        rows = np.stack([answer_features(sentence_vecs, answer_vec, t) for _, t in self._topics])
        return dict(zip((n for n, _ in self._topics), (float(p) for p in self._classifier.predict(rows)),
                        strict=True))

    def judge(self, item: JudgeInput) -> Verdict:
        if not item.answer.strip() or not self._topics:
            return Verdict(self.name, True, 0.0, "nothing to judge")
        scores = self.scores(item.answer)
        topic, score = max(scores.items(), key=lambda kv: kv[1])
        if score >= self.threshold:
            return Verdict(self.name, False, score, f"the answer engages in the denied topic {topic}")
        return Verdict(self.name, True, score, f"no denied topic engaged (closest: {topic})")
