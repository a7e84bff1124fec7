"""Train the semantic cache's decision stage and write ``verifier_weights.npz``, deterministically.

    python -m deployments.cache.train_verifier [--data ../shared/data] [--embeddings-cache DIR] [--out PATH]

Data: ``semantic_cache/similiar_qqp_full.json.gz`` (a tar.gz holding the 80,854 labelled QQP pairs).
Evaluation: ``semantic_cache/qqp_pairs_every4th.jsonl`` (the benchmark's file, every 4th row of the full file)
and ``mock_pairs.jsonl`` (all positive: recall only). Training uses the rows of the full file in which *neither*
question occurs anywhere in the evaluation file, so no evaluation question is seen in training. A fifth of the
training rows, split by connected groups of questions (rows that share a question stay together), is held out
for the cosine floor and the operating threshold; the model is not refitted on it.

Model: 5 one-hidden-layer MLPs (32 ReLU units, L2 alpha 1.0, 8 epochs, seeds 0-4) averaged, over the features
of :func:`~deployments.cache.verifier.pair_features_batch`; the IDF table comes from the training texts.

What QQP allows: its labels are noisy (of the evaluation pairs with cosine >= 0.99, near-verbatim copies, 5.5 %
are labelled "not a duplicate"), so precision >= 0.95 is reached only by the most confident ~10 % of true
paraphrases; the run prints the verifier at lower precision targets too (``--target-precision`` ships another).

Embeddings: with ``--embeddings-cache DIR``, every ``emb_<name>.npy`` + ``texts_<name>.json`` pair in DIR
(rows aligned with the JSON list of texts, all-MiniLM-L6-v2 with ``normalize_embeddings=True``) is used; texts
missing there are embedded with :class:`~deployments.cache.embedder.Embedder` (slow on a CPU: ~130 texts/s)
and, when DIR is writable, saved there as ``emb_extra.npy`` / ``texts_extra.json`` for the next run.

Needs scikit-learn at training time only; the runtime (:mod:`deployments.cache.verifier`) needs numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deployments.cache.verifier import (
    DEFAULT_WEIGHTS,
    FEATURE_VERSION,
    IDF_BUCKETS,
    LEXICAL_FEATURE_NAMES,
    Verifier,
    analyze,
    pair_features_batch,
)

__all__ = ["Pairs", "choose_min_cosine", "choose_threshold", "idf_table", "load_pairs", "main", "train"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
FULL_MEMBER = "examples/benchmark/similiar_qqp_full.json"
SEED = 0
VALIDATION_SHARE = 5  # one group in five is held out
HIDDEN = 32  # x ENSEMBLE: 160 hidden units in all, so a lookup's matrix product stays ~0.1 ms
ALPHA = 1.0  # strong L2: QQP's labels are noisy, so a strongly regularised average of several nets
EPOCHS = 8  # a fixed number of passes (early stopping on QQP's noisy accuracy picked erratic members)
ENSEMBLE = 5
TARGET_PRECISION = 0.967  # on the validation rows: margin for another held-out set to stay >= 0.95
FLOOR_GRID = np.round(np.arange(0.50, 0.7001, 0.01), 2)
FLOOR_MAX_POSITIVE_LOSS = 0.01  # the floor may turn away at most 1 % of the validation positives


@dataclass
class Pairs:
    a: list[str]
    b: list[str]
    label: np.ndarray  # int8, 1 = paraphrase

    def __len__(self) -> int:
        return len(self.a)

    def texts(self) -> set[str]:
        return set(self.a) | set(self.b)

    def subset(self, index: np.ndarray) -> Pairs:
        return Pairs([self.a[i] for i in index], [self.b[i] for i in index], self.label[index])


def _jsonl(path: Path) -> Iterable[dict[str, object]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_full(data_dir: Path) -> list[dict[str, object]]:
    """The rows of ``similiar_qqp_full.json.gz`` (which is a tar.gz despite its name)."""
    with tarfile.open(data_dir / "semantic_cache" / "similiar_qqp_full.json.gz", "r:gz") as tar:
        member = tar.extractfile(FULL_MEMBER)
        if member is None:
            raise FileNotFoundError(FULL_MEMBER)
        rows: list[dict[str, object]] = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    return rows


def load_pairs(data_dir: Path) -> tuple[Pairs, Pairs, Pairs]:
    """(training rows of the full file, the evaluation file, the mock pairs)."""
    folder = data_dir / "semantic_cache"
    evaluation = list(_jsonl(folder / "qqp_pairs_every4th.jsonl"))
    mock = list(_jsonl(folder / "mock_pairs.jsonl"))
    held_out = {str(r[k]) for r in evaluation for k in ("a", "b")}
    train = [r for r in load_full(data_dir) if r["text_a"] not in held_out and r["text_b"] not in held_out]

    def pairs(rows: list[dict[str, object]], a: str, b: str) -> Pairs:
        return Pairs([str(r[a]) for r in rows], [str(r[b]) for r in rows],
                     np.array([int(r["label"]) for r in rows], dtype=np.int8))  # type: ignore[call-overload]

    return pairs(train, "text_a", "text_b"), pairs(evaluation, "a", "b"), pairs(mock, "a", "b")


def group_split(pairs: Pairs) -> np.ndarray:
    """A boolean mask of validation rows: whole connected groups of questions, chosen by a hash."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs.a, pairs.b, strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = [find(a) for a in pairs.a]
    sizes: dict[str, int] = {}
    for r in roots:
        sizes[r] = sizes.get(r, 0) + 1
    limit = max(len(pairs) // 100, 1)  # a giant group (if any) stays in training

    def held(root: str) -> bool:
        digest = hashlib.sha256(f"{SEED}:{root}".encode()).digest()
        return sizes[root] <= limit and digest[0] % VALIDATION_SHARE == 0

    return np.array([held(r) for r in roots], dtype=bool)


class EmbeddingStore:
    """Text -> unit vector, from the precomputed cache files, embedding what is missing."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self.vectors: dict[str, np.ndarray] = {}
        if cache_dir is not None and cache_dir.is_dir():
            for npy in sorted(cache_dir.glob("emb_*.npy")):
                names = cache_dir / f"texts_{npy.stem[4:]}.json"
                if not names.exists():
                    continue
                matrix = np.load(npy)
                texts = json.loads(names.read_text(encoding="utf-8"))
                if len(texts) != len(matrix):
                    raise ValueError(f"{npy} has {len(matrix)} rows but {names} has {len(texts)} texts")
                self.vectors.update(zip(texts, matrix.astype(np.float32), strict=True))
            print(f"embeddings: {len(self.vectors)} texts from {cache_dir}", file=sys.stderr)

    def ensure(self, texts: Iterable[str]) -> None:
        missing = sorted(set(texts) - self.vectors.keys())
        if not missing:
            return
        from deployments.cache.embedder import shared_embedder

        print(f"embedding {len(missing)} texts with the Embedder (slow on a CPU)...", file=sys.stderr)
        started = time.monotonic()
        matrix = shared_embedder().embed(missing)
        print(f"  done in {time.monotonic() - started:.0f} s", file=sys.stderr)
        self.vectors.update(zip(missing, matrix, strict=True))
        if self.cache_dir is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                extra_npy, extra_json = self.cache_dir / "emb_extra.npy", self.cache_dir / "texts_extra.json"
                known: list[str] = json.loads(extra_json.read_text()) if extra_json.exists() else []
                old = np.load(extra_npy) if extra_npy.exists() and known else np.zeros((0, matrix.shape[1]))
                np.save(extra_npy, np.concatenate([old, matrix]).astype(np.float32))
                extra_json.write_text(json.dumps(known + missing))
            except OSError as exc:  # a read-only cache is fine
                print(f"  (not saved to {self.cache_dir}: {exc})", file=sys.stderr)

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def idf_table(texts: Iterable[str]) -> np.ndarray:
    """Bucketed inverse document frequency of stemmed words over distinct texts, rounded to float16."""
    counts = np.zeros(IDF_BUCKETS, dtype=np.int64)
    n = 0
    for text in sorted(set(texts)):
        n += 1
        for b in set(analyze(text).buckets.values()):
            counts[b] += 1
    return np.log((n + 1) / (counts + 1)).astype(np.float16).astype(np.float32)


def features(pairs: Pairs, store: EmbeddingStore, idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(feature matrix, cosines) of the pairs."""
    x = pair_features_batch(pairs.a, store.matrix(pairs.a), pairs.b, store.matrix(pairs.b), idf)
    return x, x[:, x.shape[1] - 1 - len(LEXICAL_FEATURE_NAMES)]


def fit(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> dict[str, np.ndarray]:
    """Standardise, then train ENSEMBLE one-hidden-layer MLPs (seeds SEED, SEED+1, ...); return the weights."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    xs = (x - mean) / scale
    xv = (x_val - mean) / scale
    w1, b1, w2, b2 = [], [], [], []
    for k in range(ENSEMBLE):
        model = MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=ALPHA, batch_size=256, learning_rate_init=1e-3,
                              max_iter=EPOCHS, early_stopping=False, random_state=SEED + k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # EPOCHS is deliberately short
            model.fit(xs, y)
        p = model.predict_proba(xv)[:, 1]
        print(f"  member {k}: {model.n_iter_} epochs, validation log-loss {_logloss(y_val, p):.4f}", file=sys.stderr)
        w1.append(model.coefs_[0])
        b1.append(model.intercepts_[0])
        w2.append(model.coefs_[1][:, 0])
        b2.append(model.intercepts_[1][0])
    # The big matrix is shipped as float16 (half the file); everything downstream uses the rounded weights.
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "w1": np.stack(w1).astype(np.float16), "b1": np.stack(b1).astype(np.float32),
            "w2": np.stack(w2).astype(np.float32), "b2": np.array(b2, dtype=np.float32)}


def _logloss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_min_cosine(cosines: np.ndarray, y: np.ndarray) -> float:
    """The highest floor on the grid that turns away at most FLOOR_MAX_POSITIVE_LOSS of the positives."""
    positives = cosines[y == 1]
    best = float(FLOOR_GRID[0])
    for floor in FLOOR_GRID:
        if np.mean(positives < floor) <= FLOOR_MAX_POSITIVE_LOSS:
            best = float(floor)
    return best


def choose_threshold(scores: np.ndarray, y: np.ndarray, target: float = TARGET_PRECISION) -> float:
    """The lowest threshold t whose hits (score >= t) have precision >= target: sort by score, take the
    deepest cut-off (between distinct scores) at which the cumulative precision is still >= target."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    last_of_run = np.r_[s[1:] != s[:-1], True]
    ok = np.flatnonzero(last_of_run & (precision >= target) & (s > 0))
    if not ok.size:
        return float(np.nextafter(np.float32(s[0]), np.float32(2)))  # accept nothing
    return float(s[ok.max()])


def metrics(accepted: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    hits = int(accepted.sum())
    true_hits = int((accepted & (y == 1)).sum())
    precision = true_hits / hits if hits else float("nan")
    recall = true_hits / max(int((y == 1).sum()), 1)
    return precision, recall, hits


def train(data_dir: Path, cache_dir: Path | None, out: Path, target: float = TARGET_PRECISION) -> Verifier:
    np.random.seed(SEED)
    pairs, evaluation, mock = load_pairs(data_dir)
    store = EmbeddingStore(cache_dir)
    store.ensure(pairs.texts() | evaluation.texts() | mock.texts())
    val_mask = group_split(pairs)
    tr, va = pairs.subset(np.flatnonzero(~val_mask)), pairs.subset(np.flatnonzero(val_mask))
    print(f"training rows: {len(tr)} ({int(tr.label.sum())} positive), validation rows: {len(va)} "
          f"({int(va.label.sum())} positive), evaluation rows: {len(evaluation)}", file=sys.stderr)
    idf = idf_table(tr.texts())
    x_tr, _ = features(tr, store, idf)
    x_va, cos_va = features(va, store, idf)
    weights = fit(x_tr, tr.label, x_va, va.label)

    min_cosine = choose_min_cosine(cos_va, va.label)
    probe = Verifier(**weights, threshold=0.5, min_cosine=min_cosine, idf=idf)
    p_va = np.where(cos_va >= min_cosine, probe.predict_features(x_va), 0.0)
    threshold = choose_threshold(p_va, va.label, target)
    verifier = Verifier(**weights, threshold=threshold, min_cosine=min_cosine, idf=idf)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **weights, idf=idf.astype(np.float16), threshold=np.float64(threshold),
                        min_cosine=np.float64(min_cosine), feature_version=np.int64(FEATURE_VERSION),
                        training_rows=np.int64(len(tr)), validation_rows=np.int64(len(va)),
                        hidden=np.int64(HIDDEN), ensemble=np.int64(ENSEMBLE), alpha=np.float64(ALPHA),
                        epochs=np.int64(EPOCHS),
                        target_precision=np.float64(target), seed=np.int64(SEED))
    print(f"wrote {out} ({out.stat().st_size} bytes): threshold {threshold:.4f}, min_cosine {min_cosine:.2f}",
          file=sys.stderr)
    report(verifier, store, va, p_va, evaluation, mock)
    return verifier


def report(verifier: Verifier, store: EmbeddingStore, validation: Pairs, p_va: np.ndarray, evaluation: Pairs,
           mock: Pairs) -> None:
    """The table: the shipped operating point, plain cosine thresholds, and (for reference) the verifier at
    thresholds chosen on the validation rows for lower precision targets."""
    others = {t: choose_threshold(p_va, validation.label, t) for t in (0.90, 0.93, 0.95)}
    rules: list[tuple[str, float, bool]] = [(f"verifier >= {verifier.threshold:.3f} *", verifier.threshold, True)]
    rules += [(f"verifier >= {t:.3f} (val P {q:.2f})", t, True) for q, t in others.items()]
    rules += [(f"cosine >= {c:.2f}", c, False) for c in (0.80, 0.92, 0.95)]
    print(f"\n{'set':<20} {'rule':<32} {'precision':>9} {'recall':>7} {'hits':>6}")
    for name, pairs in (("validation", validation), ("qqp_pairs_every4th", evaluation), ("mock_pairs", mock)):
        x, cos = features(pairs, store, verifier.idf)
        p = np.where(cos >= verifier.min_cosine, verifier.predict_features(x), 0.0)
        for rule, t, is_verifier in rules:
            precision, recall, hits = metrics((p if is_verifier else cos) >= t, pairs.label)
            shown = "-" if name == "mock_pairs" else f"{precision:.4f}"  # mock pairs are all positive
            print(f"{name:<20} {rule:<32} {shown:>9} {recall:>7.4f} {hits:>6}")
    print(f"\n* shipped: threshold {verifier.threshold:.4f} (validation precision target "
          f"{verifier.metadata.get('target_precision', TARGET_PRECISION)}), min_cosine {verifier.min_cosine:.2f}, "
          f"{verifier.n_features} features ({len(LEXICAL_FEATURE_NAMES)} lexical)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    parser.add_argument("--embeddings-cache", type=Path, default=None,
                        help="folder of emb_<name>.npy + texts_<name>.json files (precomputed embeddings)")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS, help="where to write the weights")
    parser.add_argument("--target-precision", type=float, default=TARGET_PRECISION,
                        help="precision on the validation rows that the shipped threshold is chosen for")
    args = parser.parse_args(argv)
    train(args.data, args.embeddings_cache, args.out, args.target_precision)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
