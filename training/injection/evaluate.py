"""Figures per family: the share of requests (or single texts) a detector flags at a threshold.

A *request* is scored as the gateway scores it: its untrusted texts (the default policy's
roles), findings masked, split payloads joined (``Guard.score_injection``). A *single
text* is each text of a request scored alone, whatever its role: the attack's own message
for an attack, every message (system prompts included) for a benign request; this is what
a policy that opts system or assistant text in would see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from deployments.guardrail.guard import Guard, masked_texts
from deployments.guardrail.injection import InjectionDetector
from deployments.guardrail.message_texts import message_texts, text_origins
from training.injection.samples import Sample

__all__ = ["FamilyRate", "rates", "request_scorer", "request_texts", "single_texts"]

# (request or text) -> score
Scorer = Callable[[Sample], float]


@dataclass(frozen=True)
class FamilyRate:
    family: str
    label: int
    n: int
    flagged: int

    @property
    def rate(self) -> float:
        return self.flagged / self.n if self.n else 0.0


def request_texts(sample: Sample) -> tuple[list[str], list[tuple[int, str]]]:
    """The sample's texts and their ``(message index, role)``, as the gateway extracts them."""
    request = {"messages": sample.messages}
    refs, texts = message_texts(request)
    return texts, text_origins(request, refs)


def request_scorer(detector: InjectionDetector, guard: Guard | None = None) -> Scorer:
    """Score whole requests the way the gateway does under the default policy (``threshold`` only joins turns)."""
    guard = guard if guard is not None else Guard({"injection": {"action": "flag"}}, injection=detector)

    def score(sample: Sample) -> float:
        texts, origins = request_texts(sample)
        scans = [guard.scanner.scan(t) for t in texts]
        return guard.score_injection(masked_texts(texts, scans), origins).score

    return score


def single_texts(samples: Iterable[Sample]) -> list[Sample]:
    """One single-message sample per text: the attack's message of an attack, every text of a benign request."""
    out: list[Sample] = []
    for sample in samples:
        texts, origins = request_texts(sample)
        for n, (text, (index, _role)) in enumerate(zip(texts, origins, strict=True)):
            if sample.label and index != sample.attack_index:
                continue
            if not text.strip():
                continue
            message = {"role": "user", "content": text}
            out.append(Sample(f"{sample.id}/{n}", sample.family, sample.source, sample.label, [message],
                              0 if sample.label else None))
    return out


def rates(samples: Sequence[Sample], scores: Sequence[float], threshold: float) -> list[FamilyRate]:
    """Flagged share per family at ``threshold`` (attack families: TPR; benign families: FPR)."""
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for sample, score in zip(samples, scores, strict=True):
        row = counts[(sample.family, sample.label)]
        row[0] += 1
        row[1] += score >= threshold
    return [FamilyRate(family, label, n, flagged) for (family, label), (n, flagged) in sorted(counts.items())]
