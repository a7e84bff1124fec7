"""An experiment for the cache's decision stage (docs/cache.md, "What was compared"): a small cross-encoder,
all-MiniLM-L6-v2's weights fine-tuned on this CPU to read both questions at once and say whether they ask the same,
in place of the verifier after the structured checks.

    PYTHONPATH=. python -m training.cache.cross_encoder train [--minutes 28] [--freeze-embeddings] [--out DIR]
    PYTHONPATH=. python -m training.cache.cross_encoder evaluate [--model DIR]

Training data is the verifier's own mix (:mod:`training.cache.train_verifier`: QQP training rows, the GPTCache
mock paraphrases, rule-made near misses and "X or Y" swaps), shuffled with a fixed seed and read once for as long
as ``--minutes`` allows. ``evaluate`` chooses the threshold on the development families
(``benchmarks/data/cache_families.jsonl``: the lowest with at most 2 % of hits wrong) and reports it there and on
the held-out families (``cache_families_b.jsonl``), beside the shipped strict decision, through the same path:
cosine floor, structured checks, same-text rule, then the scorer. The model is not shipped.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ROOT / "benchmarks" / "data"
DEFAULT_OUT = Path("/tmp/tollgate-cache-cross-encoder")
SEED = 0
BATCH = 32
MAX_LENGTH = 64
LEARNING_RATE = 4e-5
MAX_WRONG = 0.02


def training_pairs(data_dir: Path) -> tuple[list[str], list[str], np.ndarray]:
    from training.cache import train_verifier as tv

    pairs, _, _ = tv.load_pairs(data_dir)
    mock = tv.split_mock(data_dir)
    val_mask = tv.group_split(pairs)
    tr = pairs.subset(np.flatnonzero(~val_mask))
    nm_tr, _ = tv.near_misses(mock["train"], tr, "train", tv.SEED)
    und = tv.undirected_positives(tr.texts(), tv.UNDIRECTED_POSITIVES)
    mix = tv._concat(tr, *([mock["train"]] * tv.MOCK_REPEAT), nm_tr, und)
    order = list(range(len(mix)))
    random.Random(SEED).shuffle(order)
    return [mix.a[i] for i in order], [mix.b[i] for i in order], mix.label[order]


def train(data_dir: Path, out: Path, minutes: float, freeze_embeddings: bool = False) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from deployments.cache.embedder import bundled_model_path

    torch.manual_seed(SEED)
    a, b, y = training_pairs(data_dir)
    base = str(bundled_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if freeze_embeddings:  # then only the layers and the head differ from the bundled model: a smaller file to ship
        for parameter in model.base_model.embeddings.parameters():
            parameter.requires_grad = False
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE,
                                  weight_decay=0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    deadline = time.monotonic() + minutes * 60
    seen = 0
    losses: list[float] = []
    for start in range(0, len(a), BATCH):
        if time.monotonic() > deadline:
            break
        # Both orders: the cache compares a new question with a stored one, in either role.
        xa, xb = a[start:start + BATCH], b[start:start + BATCH]
        if (start // BATCH) % 2:
            xa, xb = xb, xa
        encoded = tokenizer(xa, xb, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        logits = model(**encoded).logits.squeeze(-1)
        loss = loss_fn(logits, torch.tensor(y[start:start + BATCH], dtype=torch.float32))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seen += len(xa)
        losses.append(float(loss.detach()))
        if len(losses) % 100 == 0:
            print(f"{seen} pairs, loss {np.mean(losses[-100:]):.4f}", file=sys.stderr, flush=True)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    print(f"trained on {seen} of {len(a)} pairs in {minutes} min; wrote {out}", file=sys.stderr)


def scorer(model_dir: Path) -> Callable[[list[tuple[str, str]]], np.ndarray]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()

    def score(pairs: list[tuple[str, str]]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(pairs), 64):
                chunk = pairs[start:start + 64]
                both = []
                for first, second in ((0, 1), (1, 0)):  # symmetric: the mean of both orders
                    enc = tokenizer([p[first] for p in chunk], [p[second] for p in chunk], padding=True,
                                    truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
                    both.append(torch.sigmoid(model(**enc).logits.squeeze(-1)).numpy())
                out.append((both[0] + both[1]) / 2)
        return np.concatenate(out)

    return score


def _families(name: str) -> list[dict[str, str]]:
    with open(FAMILIES / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _gate(rows: list[dict[str, str]]) -> tuple[list[str | None], np.ndarray, np.ndarray]:
    """Per pair: what the path before the scorer decides ("miss", "refused", "same" or None: up to the scorer),
    the shipped verifier's score, and the cosine."""
    from deployments.cache.conflicts import conflict
    from deployments.cache.embedder import shared_embedder
    from deployments.cache.same_text import same_question
    from deployments.cache.verifier import Verifier

    verifier = Verifier.load()
    embed = shared_embedder().embed
    va, vb = embed([r["a"] for r in rows]), embed([r["b"] for r in rows])
    cos = np.sum(va * vb, axis=1)
    gates: list[str | None] = []
    scores = np.zeros(len(rows))
    for i, r in enumerate(rows):
        if cos[i] < verifier.min_cosine:
            gates.append("miss")
        elif conflict(r["a"], r["b"]) is not None:
            gates.append("refused")
        elif same_question(r["a"], r["b"]):
            gates.append("same")
        else:
            gates.append(None)
            scores[i] = float(verifier.score(r["a"], va[i], [r["b"]], vb[i:i + 1])[0])
    return gates, scores, cos


def _hits(gates: list[str | None], scores: np.ndarray, threshold: float) -> np.ndarray:
    return np.array([g == "same" or (g is None and s >= threshold) for g, s in zip(gates, scores, strict=True)])


def _summary(rows: list[dict[str, str]], hits: np.ndarray) -> tuple[float, float, str]:
    para = np.array([r["kind"] == "paraphrase" for r in rows])
    recall = float(hits[para].mean())
    wrong = float(hits[~para].sum() / max(1, hits.sum()))
    by_family: dict[str, list[bool]] = defaultdict(list)
    for r, h in zip(rows, hits, strict=True):
        if r["kind"] != "paraphrase":
            by_family[r["family"]].append(bool(h))
    worst = max(by_family.items(), key=lambda kv: np.mean(kv[1]))
    return recall, wrong, f"{worst[0]} {np.mean(worst[1]):.0%}"


def _choose(rows: list[dict[str, str]], gates: list[str | None], scores: np.ndarray) -> float:
    """The lowest threshold with at most MAX_WRONG of the hits wrong (on these rows)."""
    for t in np.round(np.arange(0.05, 1.0, 0.01), 2):
        if _summary(rows, _hits(gates, scores, float(t)))[1] <= MAX_WRONG:
            return float(t)
    return 1.0


def evaluate(model_dir: Path) -> None:
    from deployments.cache.verifier import Verifier

    score = scorer(model_dir)
    strict = Verifier.load().threshold
    print("| families | decision | threshold | paraphrase recall | wrong hits | worst near-miss family |\n"
          "|---|---|---|---|---|---|")
    chosen: dict[str, float] = {}
    for name, label in (("cache_families.jsonl", "development"), ("cache_families_b.jsonl", "held out")):
        rows = _families(name)
        gates, verifier_scores, _ = _gate(rows)
        pending = [i for i, g in enumerate(gates) if g is None]
        ce = np.zeros(len(rows))
        ce[pending] = score([(rows[i]["a"], rows[i]["b"]) for i in pending])
        mean = (ce + verifier_scores) / 2
        if label == "development":
            chosen = {"cross-encoder": _choose(rows, gates, ce), "mean of both": _choose(rows, gates, mean)}
        for decision, s, t in (("verifier (strict, shipped)", verifier_scores, strict),
                               ("cross-encoder", ce, chosen["cross-encoder"]),
                               ("mean of both", mean, chosen["mean of both"])):
            recall, wrong, worst = _summary(rows, _hits(gates, s, t))
            print(f"| {label} | {decision} | {t:.2f} | {recall:.2f} | {wrong:.1%} | {worst} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=("train", "evaluate"))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--out", "--model", dest="model", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--freeze-embeddings", action="store_true",
                        help="train the layers and the head only (the embeddings stay the bundled model's)")
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args.data, args.model, args.minutes, args.freeze_embeddings)
    else:
        evaluate(args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
