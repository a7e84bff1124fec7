"""Benchmark the tier classifier: held-out quality, estimated cost of routing by it, and added latency.

    python benchmarks/tiering.py [--data training/tiering/data/tier_prompts.jsonl] [--weights PATH]
        [--embeddings-cache DIR] [--frontier-in 2.50 --frontier-out 10.00 --local-in 0.05 --local-out 0.10]
        [--t1-completion 150 --t2-completion 600] [--latency-requests 2000]

Ray-free. Three tables:

1. accuracy, Tier-2 precision / recall and the share kept on Tier 1 (predicted and true) on the held-out test
   rows (random split), the unseen-family rows and the third-party rows, at thresholds 0.3, 0.5 and 0.7;
2. the estimated cost of the test workload routed by the classifier at 0.5 vs everything to the frontier model
   vs everything to the local tier: prompt tokens ~ characters / 4, completion tokens a stated assumption per
   true tier, prices per 1M tokens from the command line (defaults: gpt-4o list prices for the frontier, an
   amortised GPU cost for the local Llama-3-8B class tier);
3. latency, p50 / p95 over N requests, of (a) embedding one text with ``shared_embedder`` (one lookup) and (b)
   ``request_features`` + ``TierModel.score``, and the ratio (b) / (a). The target is (b) <= 1 ms p50.
4. with ``--serve``, end to end through Ray Serve (Ingress → Guardrail → SemanticCache → TierClassifier →
   OpenAIProxy → a zero-latency fake upstream on 127.0.0.1), once per ``tiering.placement`` (``deployment``:
   the TierClassifier deployment; ``ingress``: scored in the Ingress replica), sequential requests, interleaved:
   the same new question sent once as ``model: "auto"`` and once as the catalog model the policy picks, both at temperature 0
   (the cache lookup embeds; the tiered request adds the classifier's call on that vector) and at temperature
   0.7 (no lookup: the tiered request has the TierClassifier ask the SemanticCache for the embedding). The
   difference of the p50s is what tiering adds to a request.
Timings use ``time.perf_counter`` and are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deployments.tiering.features import request_features
from deployments.tiering.model import DEFAULT_WEIGHTS, TierModel
from training.tiering.train_tiering import (
    DEFAULT_DATA,
    embed_texts,
    evaluation_sets,
    features_of,
    load_rows,
    metrics,
)

__all__ = ["main"]

THRESHOLDS = (0.3, 0.5, 0.7)
QUALITY_SETS = ("test (random)", "test (unseen families)", "test, third-party only")


def quality_table(scores: np.ndarray, tiers: np.ndarray, masks: dict[str, np.ndarray]) -> str:
    lines = ["(1) quality (Tier 2 = positive class)",
             f"{'set':<26}{'thr':>5}{'n':>6}{'accuracy':>10}{'prec T2':>9}{'recall T2':>10}{'T1 pred':>9}{'T1 true':>9}"]
    for name in QUALITY_SETS:
        mask = masks[name]
        for threshold in THRESHOLDS:
            m = metrics(scores[mask], tiers[mask], threshold)
            t1_pred = float((scores[mask] < threshold).mean())
            t1_true = float((tiers[mask] == 1).mean())
            lines.append(f"{name:<26}{threshold:>5.1f}{int(m['n']):>6}{m['accuracy']:>10.3f}{m['precision']:>9.3f}"
                         f"{m['recall']:>10.3f}{t1_pred:>9.1%}{t1_true:>9.1%}")
    return "\n".join(lines)


def cost_table(texts: list[str], scores: np.ndarray, tiers: np.ndarray, args: argparse.Namespace) -> str:
    prompt = np.array([len(t) / 4.0 for t in texts])
    completion = np.where(tiers == 2, args.t2_completion, args.t1_completion).astype(np.float64)
    frontier = (prompt * args.frontier_in + completion * args.frontier_out) / 1e6
    local = (prompt * args.local_in + completion * args.local_out) / 1e6
    to_frontier = scores >= 0.5
    routed = np.where(to_frontier, frontier, local)
    n = len(texts)
    lines = [
        "(2) estimated cost of the test workload (all test rows)",
        (f"assumptions: prompt tokens = chars / 4; completion tokens: Tier 1 {args.t1_completion}, Tier 2 "
        f"{args.t2_completion} (by true tier); prices per 1M tokens in/out: frontier ${args.frontier_in:.2f}/"
        f"${args.frontier_out:.2f}, local ${args.local_in:.2f}/${args.local_out:.2f}"),
        f"{'policy':<30}{'requests':>9}{'to frontier':>12}{'cost $':>10}{'per 1k req $':>14}{'vs frontier':>12}",
    ]
    for name, cost, share in (("everything to frontier", frontier.sum(), 1.0),
                              ("routed by classifier (0.5)", routed.sum(), float(to_frontier.mean())),
                              ("everything to local tier", local.sum(), 0.0)):
        lines.append(f"{name:<30}{n:>9}{share:>12.1%}{cost:>10.4f}{1000 * cost / n:>14.4f}"
                     f"{cost / frontier.sum():>12.3f}")
    missed = int((~to_frontier & (tiers == 2)).sum())
    lines.append(f"routed: {missed} Tier-2 requests ({missed / max(int((tiers == 2).sum()), 1):.1%}) go to the local "
                 f"tier; {int((to_frontier & (tiers == 1)).sum())} Tier-1 requests go to the frontier model")
    # The test rows are 58 % Tier 2; traffic mixes differ, so reweight the per-tier mean costs (the classifier's
    # mistakes included) to other shares of Tier-1 requests.
    lines.append(f"{'mixed workload, Tier-1 share':<30}{'frontier $/1k':>14}{'routed $/1k':>13}{'routed/frontier':>16}")
    t1, t2 = tiers == 1, tiers == 2
    for share in (0.5, 0.7, 0.9):
        all_frontier = share * frontier[t1].mean() + (1 - share) * frontier[t2].mean()
        mixed = share * routed[t1].mean() + (1 - share) * routed[t2].mean()
        lines.append(f"{share:<30.0%}{1000 * all_frontier:>14.4f}{1000 * mixed:>13.4f}{mixed / all_frontier:>16.3f}")
    return "\n".join(lines)


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.array(samples_ms), [50, 95])
    return float(p50), float(p95)


def latency_table(model: TierModel, texts: list[str], n: int) -> str:
    from deployments.cache.embedder import shared_embedder

    embedder = shared_embedder()
    embedder.embed(["warm up"])
    bodies: list[dict[str, Any]] = [{"messages": [{"role": "system", "content": "You are a helpful assistant."},
                            {"role": "user", "content": texts[i % len(texts)]}], "max_tokens": 512}
              for i in range(n)]
    vectors = embedder.embed(texts[:64])
    embed_times, score_times = [], []
    for i, body in enumerate(bodies):
        text = body["messages"][-1]["content"]
        start = time.perf_counter()
        embedder.embed([text])
        embed_times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        model.score(vectors[i % len(vectors)], request_features(body))
        score_times.append((time.perf_counter() - start) * 1000)
    e50, e95 = _percentiles(embed_times)
    s50, s95 = _percentiles(score_times)
    return "\n".join([
        f"(3) latency over {n} requests (test texts, CPU)",
        f"{'stage':<44}{'p50 ms':>9}{'p95 ms':>9}",
        f"{'(a) embed one text (shared_embedder)':<44}{e50:>9.3f}{e95:>9.3f}",
        f"{'(b) request_features + TierModel.score':<44}{s50:>9.4f}{s95:>9.4f}",
        f"{'(b) / (a)':<44}{s50 / e50:>9.4f}{s95 / e95:>9.4f}",
        "target: (b) <= 1 ms p50",
    ])


def serve_table(texts: list[str], requests: int) -> str:
    """Tiered against untiered requests through Ray Serve (section 4 of the module docstring)."""
    import http.client
    from contextlib import closing

    from ray import serve

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from overhead import MASTER_KEY, deploy_in_process, fake_target, post_chat, serve_beside_fake

    def post(conn: Any, model: str, text: str, temperature: float) -> tuple[float, str]:
        body = {"model": model, "temperature": temperature, "max_tokens": 32,
                "messages": [{"role": "user", "content": text}]}
        elapsed, response = post_chat(conn, body, MASTER_KEY)
        return elapsed, response.getheader("x-tollgate-tier") or ""

    skipped: dict[str, int] = {}
    times: dict[str, dict[str, list[float]]] = {}
    with serve_beside_fake(MASTER_KEY, "tollgate-tier-bench-") as (fake_port, port):
        for placement in ("deployment", "ingress"):
            deploy_in_process({
                "profile": "local", "auth": {"master_key_env": "TOLLGATE_MASTER_KEY"},
                "audit": {"generate_hmac_key": True},
                "models": {"bench-t1": {"targets": [fake_target(fake_port, "t1-fake")]},
                           "bench-t2": {"targets": [fake_target(fake_port, "t2-fake")]}},
                "tiering": {"placement": placement, "policies": {"auto": {"tier1": "bench-t1", "tier2": "bench-t2"}}},
            })
            kinds = times[placement] = {f"{k} {t}": [] for k in ("direct", "auto") for t in ("t=0", "t=0.7")}
            skipped[placement] = 0
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with closing(conn):
                for i in range(20):
                    post(conn, "auto", f"warm-up question {i}", 0.7)
                for i in range(requests):
                    text = texts[i % len(texts)]
                    for temperature in (0.0, 0.7):
                        label = "t=0" if temperature == 0.0 else "t=0.7"
                        # A fresh text for each pair, so temperature-0 requests are cache misses, not hits.
                        fresh = f"{text} (#{i}, {label}, {placement})"
                        try:
                            elapsed, tier = post(conn, "auto", fresh, temperature)
                        except RuntimeError:  # refused by the guardrail (the test set has injection-like items)
                            skipped[placement] += 1
                            continue
                        kinds[f"auto {label}"].append(elapsed)
                        model = "bench-t1" if tier == "1" else "bench-t2"
                        kinds[f"direct {label}"].append(post(conn, model, fresh, temperature)[0])
            serve.delete("tollgate")
    lines = [("(4) end to end through Ray Serve, zero-latency upstream, sequential pairs (texts the guardrail "
              f"refused left out: {skipped})"),
             f"{'tiering.placement / request':<44}{'p50 ms':>9}{'p95 ms':>9}"]
    for placement, kinds in times.items():
        for name, values in kinds.items():
            p50, p95 = _percentiles(values)
            lines.append(f"{placement + ': ' + name:<44}{p50:>9.2f}{p95:>9.2f}")
        for label in ("t=0", "t=0.7"):
            auto50 = _percentiles(kinds[f"auto {label}"])[0]
            direct50 = _percentiles(kinds[f"direct {label}"])[0]
            lines.append(f"{placement + ': added by tiering, ' + label:<44}{auto50 - direct50:>9.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--embeddings-cache", type=Path, default=None)
    parser.add_argument("--frontier-in", type=float, default=2.50)
    parser.add_argument("--frontier-out", type=float, default=10.00)
    parser.add_argument("--local-in", type=float, default=0.05)
    parser.add_argument("--local-out", type=float, default=0.10)
    parser.add_argument("--t1-completion", type=int, default=150, help="assumed completion tokens of a Tier-1 request")
    parser.add_argument("--t2-completion", type=int, default=600, help="assumed completion tokens of a Tier-2 request")
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument("--serve", action="store_true", help="also measure end to end through Ray Serve")
    parser.add_argument("--serve-requests", type=int, default=200)
    args = parser.parse_args(argv)

    rows = [r for r in load_rows(args.data) if r["split"] == "test"]
    texts = [str(r["text"]) for r in rows]
    tiers = np.array([int(r["tier"]) for r in rows])
    model = TierModel.load(args.weights)
    scores = model.score_batch(embed_texts(texts, args.embeddings_cache), features_of(texts))
    print(quality_table(scores, tiers, evaluation_sets(rows)))
    print()
    print(cost_table(texts, scores, tiers, args))
    print()
    print(latency_table(model, texts, args.latency_requests))
    if args.serve:
        print()
        print(serve_table(texts, args.serve_requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
