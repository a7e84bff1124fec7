"""Compare the candidate detectors on the held-out families, and their cost; prints Markdown tables.

    python -m training.injection.compare [--data ../shared/data] [--skip-finetune]

Every candidate is trained on the training families only, its threshold calibrated on
those families alone (at most 1% of their benign requests flagged, as ``train`` does for
the shipped model, but on in-family scores: out-of-family refits of the transformer would
take hours here), then scored on the held-out families, whole requests as the gateway
scores them; also the TPR each reaches at the threshold that would flag 1% of the held-out
benign requests (a ranking independent of calibration, never used to set a default).
Latency is one 1 KB text on one core (``torch.set_num_threads(1)``).
About 15 minutes on 2 cores with the fine-tune, 5 without.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from deployments.guardrail.injection import InjectionDetector
from deployments.guardrail.injection_text import windows
from training.injection.candidates import rules_only, train_embedding, train_finetuned
from training.injection.corpus import DEFAULT_DATA, held_out, load_samples, training_set
from training.injection.evaluate import rates, request_scorer, request_texts
from training.injection.samples import Sample
from training.injection.train import calibrate, classifier_examples, fit

__all__ = ["main"]


def _windows_of(samples: Sequence[Sample]) -> list[str]:
    from deployments.guardrail.injection_text import deobfuscated

    out: list[str] = []
    for sample in samples:
        for text in request_texts(sample)[0]:
            for view in (text, deobfuscated(text)):
                if view:
                    out.extend(windows(view))
    return out


def _latency_ms(score: Callable[[str], object]) -> tuple[float, float]:
    text = ("Please summarise the attached travel policy for new staff and list the approval steps for trips "
            "abroad, the per-diem rates and who to contact in finance. ") * 7
    text = text[:1024]
    for _ in range(3):
        score(text + " warm")
    times = []
    for i in range(40):
        start = time.perf_counter()
        score(f"{text} {i}")  # a new text each time: the candidates memoise window scores
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-finetune", action="store_true", help="leave the fine-tuned transformer out")
    parser.add_argument("--only", choices=["ngram", "rules", "embedding", "finetuned"], action="append",
                        help="compare only these candidates (repeatable)")
    args = parser.parse_args(argv)

    import torch

    from deployments.cache.embedder import bundled_model_path, shared_embedder

    torch.set_num_threads(1)
    samples = load_samples(args.data)
    train, test = training_set(samples), held_out(samples)
    texts, labels, families = classifier_examples(train)
    wanted = set(args.only or ["ngram", "rules", "embedding", "finetuned"])
    if args.skip_finetune:
        wanted.discard("finetuned")
    candidates: dict[str, InjectionDetector] = {}
    if "ngram" in wanted:
        candidates["word n-gram LR (shipped)"] = InjectionDetector(fit(texts, labels, families), 0.0)
    if "rules" in wanted:
        candidates["rules only"] = rules_only()
    if "embedding" in wanted:
        started = time.perf_counter()
        candidates["MiniLM embedding + LR"] = train_embedding(shared_embedder(), texts, labels)
        print(f"embedding LR trained in {time.perf_counter() - started:.0f} s", flush=True)
    if "finetuned" in wanted:
        torch.set_num_threads(2)
        started = time.perf_counter()
        candidates["MiniLM fine-tuned"] = train_finetuned(str(bundled_model_path()), texts, labels)
        print(f"fine-tune trained in {time.perf_counter() - started:.0f} s", flush=True)
        torch.set_num_threads(1)

    header = "| detector | threshold | held-out benign FPR | held-out attack TPR | worst benign family | " \
             "worst attack family | TPR at 1% held-out FPR | 1 KB p50 ms | 1 KB max ms |"
    lines = [header, "|" + "---|" * 9]
    for name, detector in candidates.items():
        prime = getattr(detector, "prime", None)
        if prime is not None:
            torch.set_num_threads(2)
            prime(_windows_of(train) + _windows_of(test))
            torch.set_num_threads(1)
        score = request_scorer(detector)
        threshold = calibrate(train, [score(s) for s in train])
        test_scores = [score(s) for s in test]
        rows = rates(test, test_scores, threshold)
        # The operating point each would need on the held-out benign requests: a ranking that does not
        # depend on how well in-family calibration transfers (reported, never used to set a default).
        oracle = calibrate(test, test_scores)
        oracle_rows = [r for r in rates(test, test_scores, oracle) if r.label == 1]
        oracle_tpr = sum(r.flagged for r in oracle_rows) / sum(r.n for r in oracle_rows)
        benign = [r for r in rows if r.label == 0]
        attacks = [r for r in rows if r.label == 1]
        fpr = sum(r.flagged for r in benign) / sum(r.n for r in benign)
        tpr = sum(r.flagged for r in attacks) / sum(r.n for r in attacks)
        worst_benign = max(benign, key=lambda r: r.rate)
        worst_attack = min(attacks, key=lambda r: r.rate)
        p50, worst = _latency_ms(detector.score)
        lines.append(f"| {name} | {threshold} | {fpr:.3f} | {tpr:.3f} | {worst_benign.family} {worst_benign.rate:.3f} "
                     f"| {worst_attack.family} {worst_attack.rate:.3f} | {oracle_tpr:.3f} (t={oracle}) | {p50:.2f} | {worst:.2f} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
