"""The cache's cross-encoder (:mod:`deployments.cache.cross_encoder`, docs/cache.md): all-MiniLM-L6-v2's layers
fine-tuned on this CPU to read both questions at once and say whether they ask the same.

    PYTHONPATH=. python -m training.cache.cross_encoder train [--minutes 25] [--freeze-embeddings] [--out DIR]
    PYTHONPATH=. python -m training.cache.cross_encoder export [--model DIR]     # writes the shipped weights
    PYTHONPATH=. python -m training.cache.cross_encoder calibrate                # chooses the shipped thresholds
    PYTHONPATH=. python -m training.cache.cross_encoder evaluate [--model DIR]   # the experiment's comparison table

Training data is the verifier's own mix (:mod:`training.cache.train_verifier`: QQP training rows, the GPTCache
mock paraphrases, rule-made near misses and "X or Y" swaps), shuffled with a fixed seed and read once for as long
as ``--minutes`` allows, with application-style pairs (``training/cache/data/app_pairs_*.jsonl``) making up
``APP_PER_BATCH`` of every batch. ``export`` writes the layers, pooler and head in fp16, then calibrates.
``calibrate`` chooses the strict and balanced thresholds on the calibration families (``CALIBRATION_SETS`` in
``benchmarks/data``: sets whose rows no check was written against), through the deployment's own decision stage,
and writes ``cross_encoder_thresholds.json``. ``benchmarks/cache_quality.py --families-only`` then reports the
shipped decision per family on every set. ``evaluate`` is the first comparison (docs/cache.md): the model against
the verifier on the first development and held-out sets.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deployments.cache.cross_encoder import CrossEncoder

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ROOT / "benchmarks" / "data"
APP_PAIRS = ROOT / "training" / "cache" / "data"
# The structured checks were written against the development families (benchmarks/cache_quality.py lists every
# set), so wrong hits there say little about another author's wording (0.5 % there became 2.7 % on the next three
# sets). Thresholds are chosen on sets no check was written against; the held-out sets are only reported.
CALIBRATION_SETS = ("cache_families_b.jsonl", "cache_families_c.jsonl", "cache_families_f.jsonl")
DEFAULT_OUT = Path("/tmp/tollgate-cache-cross-encoder")
SEED = 0
BATCH = 32
APP_PER_BATCH = 6
MAX_LENGTH = 128  # deployments.cache.cross_encoder.MAX_TOKENS
LEARNING_RATE = 4e-5
MAX_WRONG = 0.02
# The shipped operating points on the calibration families: strict keeps under the 2 % of hits wrong with a
# margin, and no near-miss family of any one set over 5 % (one pair in twenty); balanced allows 3 %.
STRICT_WRONG = 0.015
STRICT_FAMILY = 0.05
BALANCED_WRONG = 0.03


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


def app_pairs() -> list[tuple[str, str, float]]:
    """Application-style paraphrases (1) and near misses (0) written for training (training/cache/data/README.md)."""
    rows = []
    for path in sorted(APP_PAIRS.glob("app_pairs_*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return [(r["a"], r["b"], float(r["kind"] == "paraphrase")) for r in rows]


def batches(a: list[str], b: list[str], y: np.ndarray, app: list[tuple[str, str, float]]
            ) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
    """Batches of the mix with ``APP_PER_BATCH`` application pairs in each (reshuffled every pass over them)."""
    rng = random.Random(SEED)
    pool: list[tuple[str, str, float]] = []
    step = BATCH - (APP_PER_BATCH if app else 0)
    for start in range(0, len(a), step):
        xa, xb, xy = a[start:start + step], b[start:start + step], list(y[start:start + step])
        if app:
            while len(pool) < APP_PER_BATCH:
                fresh = list(app)
                rng.shuffle(fresh)
                pool += fresh
            for pa, pb, py in pool[:APP_PER_BATCH]:
                xa, xb, xy = xa + [pa], xb + [pb], xy + [py]
            del pool[:APP_PER_BATCH]
        yield xa, xb, np.asarray(xy, dtype=np.float32)


def train(data_dir: Path, out: Path, minutes: float, freeze_embeddings: bool = False) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from deployments.cache.embedder import bundled_model_path

    torch.manual_seed(SEED)
    a, b, y = training_pairs(data_dir)
    app = app_pairs()
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
    for step, (xa, xb, xy) in enumerate(batches(a, b, y, app)):
        if time.monotonic() > deadline:
            break
        # Both orders: the cache compares a new question with a stored one, in either role.
        if step % 2:
            xa, xb = xb, xa
        encoded = tokenizer(xa, xb, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
        logits = model(**encoded).logits.squeeze(-1)
        loss = loss_fn(logits, torch.tensor(xy))
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
    print(f"trained on {seen} pairs ({len(a)} in the mix, {len(app)} application pairs) in {minutes} min; "
          f"wrote {out}", file=sys.stderr)


def scorer(model_dir: Path) -> Callable[[list[tuple[str, str]]], np.ndarray]:
    """The first comparison's scorer (``evaluate``): a saved model directory, the mean of both reading orders."""
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
        return [{**json.loads(line), "set": name} for line in fh if line.strip()]


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


def _near_miss_shares(rows: list[dict[str, str]], hits: np.ndarray, per_set: bool) -> dict[str, float]:
    """The share of pairs served per near-miss family, pooled over the sets or per set ("set family")."""
    by_family: dict[str, list[bool]] = defaultdict(list)
    for r, h in zip(rows, hits, strict=True):
        if r["kind"] != "paraphrase":
            by_family[f"{r.get('set', '')} {r['family']}" if per_set else r["family"]].append(bool(h))
    return {family: float(np.mean(served)) for family, served in by_family.items()}


def _summary(rows: list[dict[str, str]], hits: np.ndarray) -> tuple[float, float, str]:
    para = np.array([r["kind"] == "paraphrase" for r in rows])
    recall = float(hits[para].mean())
    wrong = float(hits[~para].sum() / max(1, hits.sum()))
    shares = _near_miss_shares(rows, hits, per_set=False)
    worst = max(shares, key=shares.__getitem__)
    return recall, wrong, f"{worst} {shares[worst]:.0%}"


def _worst_family(rows: list[dict[str, str]], hits: np.ndarray) -> float:
    """The highest share of pairs served in any near-miss family of any one set."""
    return max(_near_miss_shares(rows, hits, per_set=True).values())


def _choose(rows: list[dict[str, str]], gates: list[str | None], scores: np.ndarray,
            max_wrong: float = MAX_WRONG, max_family: float = 1.0) -> float:
    """The lowest threshold with at most ``max_wrong`` of the hits wrong and no near-miss family over
    ``max_family`` (on these rows)."""
    for t in np.round(np.arange(0.05, 1.0, 0.01), 2):
        hits = _hits(gates, scores, float(t))
        if _summary(rows, hits)[1] <= max_wrong and _worst_family(rows, hits) <= max_family:
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


def export(model_dir: Path, out: Path) -> None:
    """The fine-tuned layers, pooler and head in fp16; then the thresholds for them (:func:`calibrate`)."""
    import torch
    from safetensors.torch import load_file, save_file

    from deployments.cache.embedder import bundled_model_path

    state = load_file(str(model_dir / "model.safetensors"))
    bundled = load_file(str(bundled_model_path() / "model.safetensors"))
    for name, tensor in state.items():
        original = bundled.get(name.removeprefix("bert."))
        if name.startswith("bert.embeddings.") and original is not None and not torch.equal(tensor, original):
            raise SystemExit(f"{name} differs from the bundled model: train with --freeze-embeddings")
    shipped = {k: v.half().contiguous() for k, v in state.items() if not k.startswith("bert.embeddings.")}
    save_file(shipped, str(out))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    calibrate(out, out.with_name("cross_encoder_thresholds.json"))


def calibrate(weights: Path, out: Path) -> None:
    """Chooses the strict and balanced thresholds on ``CALIBRATION_SETS`` and writes them to ``out``."""
    from deployments.cache.cross_encoder import CrossEncoder

    rows = [r for name in CALIBRATION_SETS for r in _families(name)]
    model = CrossEncoder(weights, thresholds=None)
    served = _served_at(rows, model)
    undecided: list[str | None] = [None] * len(rows)  # _served_at has already applied every rule before the model
    strict = _choose(rows, undecided, served, STRICT_WRONG, STRICT_FAMILY)
    balanced = min(strict, _choose(rows, undecided, served, BALANCED_WRONG))
    for label, t in (("strict", strict), ("balanced", balanced)):
        hits = _hits(undecided, served, t)
        recall, wrong, worst = _summary(rows, hits)
        print(f"{label}: threshold {t:.2f}, calibration recall {recall:.2f} at {wrong:.1%} wrong hits "
              f"(worst family of one set {_worst_family(rows, hits):.0%}; pooled: {worst})")
    out.write_text(json.dumps({
        "strict": strict, "balanced": balanced, "chosen_on": list(CALIBRATION_SETS),
        "rule": f"lowest threshold with at most {STRICT_WRONG:.1%} of hits wrong and no near-miss family of one set "
                f"over {STRICT_FAMILY:.0%} (strict); at most {BALANCED_WRONG:.0%} wrong (balanced)",
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def _served_at(rows: list[dict[str, str]], model: CrossEncoder) -> np.ndarray:
    """Per pair, up to which cross-encoder threshold the deployment's decision stage serves it: its score where the
    cross-encoder decides, 1.0 where the same-text rule or the verifier serves it whatever that threshold, -1.0 where
    nothing serves it. ``Decision.decide`` runs at a threshold just above 0, so the veto and every other rule apply
    as deployed, and its choice says which of them served."""
    from deployments.cache.decision import Choice, Decision
    from deployments.cache.embedder import shared_embedder

    decision = Decision("cross_encoder", cross_encoder=model, cross_encoder_threshold=1e-9)
    embed = shared_embedder().embed
    va, vb = embed([r["a"] for r in rows]), embed([r["b"] for r in rows])
    served = np.full(len(rows), -1.0)
    for i, r in enumerate(rows):
        choice = decision.decide(r["b"], vb[i], [("a", r["a"], va[i], float(va[i] @ vb[i]))])
        if isinstance(choice, Choice):
            served[i] = choice.score if choice.by == "cross_encoder" else 1.0
    return served


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=("train", "export", "calibrate", "evaluate"))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--out", "--model", dest="model", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--freeze-embeddings", action="store_true",
                        help="train the layers and the head only (the embeddings stay the bundled model's)")
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args.data, args.model, args.minutes, args.freeze_embeddings)
    elif args.command == "export":
        from deployments.cache.cross_encoder import WEIGHTS

        export(args.model, WEIGHTS)
    elif args.command == "calibrate":
        from deployments.cache.cross_encoder import THRESHOLDS, WEIGHTS

        calibrate(WEIGHTS, THRESHOLDS)
    else:
        evaluate(args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
