"""Train the semantic cache's decision stage and write ``verifier_weights.npz``, deterministically.

    python -m training.cache.train_verifier [--data ../shared/data] [--embeddings-cache DIR] [--out PATH]

Data (provenance):

* QQP (``semantic_cache/similiar_qqp_full.json.gz``, a tar.gz of the 80,854 labelled Quora Question Pairs as
  shipped by GPTCache; Quora's terms of use): the rows in which *neither* question occurs in the evaluation file
  ``qqp_pairs_every4th.jsonl``. A fifth of them, split by connected groups of questions, is validation.
* GPTCache mock pairs (``semantic_cache/mock_pairs.jsonl``, MIT, paraphrases written by ChatGPT; all positive),
  split by a hash of the pair id: 60 % training (counted MOCK_REPEAT times), 15 % validation, 25 % test.
* Near misses made by the project's own rules (:mod:`training.cache.near_misses`, seeded): one edit of a
  question (a qualifier, a number, a named entity, a negation, an antonym, a swapped direction), paired with
  the question and with its paraphrase, label 0; plus "X or Y" -> "Y or X" swaps, label 1. Near misses of
  training / validation / evaluation questions stay in training / validation / evaluation respectively.

Operating point: ``min_cosine`` is the highest floor that turns away <= 2 % of the clean (mock) positives and
<= 1 % of the QQP validation positives; the threshold is the lowest one whose class-balanced precision,
TPR / (TPR + FPR), is >= TARGET_PRECISION (0.95) on the clean validation rows (validation mock paraphrases
against the near misses of the same questions): the precision the operating point has on traffic with as many
near misses as paraphrases. QQP's labels are too noisy to choose it on (of the evaluation pairs with cosine
>= 0.99, near-verbatim copies, 5.5 % are labelled "not a duplicate"; precision measured on QQP never passes
about 0.93 at any threshold that leaves a useful recall).

Model: 5 one-hidden-layer MLPs (64 ReLU units, L2 alpha 0.1, 15 epochs, seeds 0-4) averaged, over the features
of :func:`~deployments.cache.verifier.pair_features_batch`; the IDF table comes from the training texts.
The run prints precision / recall / hits on held-out sets (never trained on) and the scores of a few probes.

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
import random
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
HIDDEN = 64  # x ENSEMBLE: 320 hidden units in all, so a lookup stays well under a millisecond
ALPHA = 0.1  # L2; a stronger one (1.0) flattened the scores of the clean positives
EPOCHS = 15  # a fixed number of passes (early stopping on QQP's noisy accuracy picked erratic members)
ENSEMBLE = 5
TARGET_PRECISION = 0.95  # class-balanced, on the clean validation rows (mock paraphrases vs their near misses)
FLOOR_GRID = np.round(np.arange(0.30, 0.7001, 0.01), 2)
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


def choose_balanced_threshold(scores: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold whose class-balanced precision, TPR / (TPR + FPR), is >= target: the precision the
    operating point would have on traffic with as many near misses as paraphrases."""
    positives, negatives = max(int((y == 1).sum()), 1), max(int((y == 0).sum()), 1)
    for t in np.unique(scores[scores > 0]):  # ascending: the first that qualifies is the lowest
        tpr = float(((scores >= t) & (y == 1)).sum()) / positives
        fpr = float(((scores >= t) & (y == 0)).sum()) / negatives
        if tpr > 0 and tpr / (tpr + fpr) >= target:
            return float(t)
    return float(np.nextafter(np.float32(scores.max()), np.float32(2)))


def metrics(accepted: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    hits = int(accepted.sum())
    true_hits = int((accepted & (y == 1)).sum())
    precision = true_hits / hits if hits else float("nan")
    recall = true_hits / max(int((y == 1).sum()), 1)
    return precision, recall, hits


MOCK_TRAIN, MOCK_VAL = 12, 15  # of 20 hash buckets per mock pair id: 60 % train, 15 % validation, 25 % test
MOCK_REPEAT = 10  # the clean (ChatGPT-written) positives count this many times in training
NEAR_MISSES_PER_MOCK = 4  # perturbations of each mock pair's b side
QQP_NEAR_MISS_POSITIVES = {"train": 7000, "validation": 1500, "test": 1500}  # positive pairs whose b is perturbed
QQP_NEAR_MISS_QUESTIONS = {"train": 3000, "validation": 500, "test": 0}  # other questions perturbed alone
UNDIRECTED_POSITIVES = 1500  # "X or Y" -> "Y or X" swaps of training questions, labelled paraphrase
FLOOR_MAX_MOCK_LOSS = 0.02  # the cosine floor may turn away at most 2 % of the clean (mock) positives
SANITY_PAIRS = (
    ("What is our corporate policy on remote work?", "Can you show me the rules for working from home?"),
    ("What is our corporate policy on remote work?", "What is our corporate policy on remote work for contractors?"),
    ("How do I learn to play the guitar?", "What is the best way to learn playing guitar?"),
    ("How can I improve my English speaking skills?", "How do I get better at speaking English?"),
    ("How do I lose 5 kg in a month?", "How do I lose 10 kg in a month?"),
    ("What is the capital of France?", "What is the capital of Germany?"),
    ("How do I convert dollars to rupees?", "How do I convert rupees to dollars?"),
    ("Why is the sky blue?", "What makes the sky blue?"),
)


def _concat(*parts: Pairs) -> Pairs:
    return Pairs([t for p in parts for t in p.a], [t for p in parts for t in p.b],
                 np.concatenate([p.label for p in parts]).astype(np.int8))


def split_mock(data_dir: Path) -> dict[str, Pairs]:
    """The mock pairs split by a hash of their id: train / validation / test (never trained on)."""
    rows = list(_jsonl(data_dir / "semantic_cache" / "mock_pairs.jsonl"))
    parts: dict[str, list[dict[str, object]]] = {"train": [], "validation": [], "test": []}
    for r in rows:
        h = hashlib.sha256(f"{SEED}:{r['id']}".encode()).digest()[0] % 20
        parts["train" if h < MOCK_TRAIN else "validation" if h < MOCK_VAL else "test"].append(r)
    return {k: Pairs([str(r["a"]) for r in v], [str(r["b"]) for r in v], np.ones(len(v), dtype=np.int8))
            for k, v in parts.items()}


def near_misses(mock: Pairs, qqp: Pairs, split: str, seed: int) -> tuple[Pairs, Pairs]:
    """(rule-made near misses of ``split``'s questions, label 0; of the mock pairs alone, label 0).

    From a positive pair (a, b): (a, perturbed b) and (b, perturbed b); from another question q: (q, perturbed q).
    """
    from training.cache.near_misses import perturb as _perturb

    def perturb(text: str, rng: random.Random) -> tuple[str, str] | None:
        edit = _perturb(text, rng)  # an edit of case/punctuation only is the same question: not a near miss
        return None if edit is None or analyze(edit[1]).key == analyze(text).key else edit

    rng = random.Random(f"{seed}:{split}")
    a_out: list[str] = []
    b_out: list[str] = []
    for a, b in zip(mock.a, mock.b, strict=True):
        made: set[str] = set()
        for _ in range(NEAR_MISSES_PER_MOCK * 2):
            edit = perturb(b, rng)
            if edit is None or edit[1] in made:
                continue
            made.add(edit[1])
            a_out += [a, b]
            b_out += [edit[1], edit[1]]
            if len(made) >= NEAR_MISSES_PER_MOCK:
                break
    mock_only = Pairs(list(a_out), list(b_out), np.zeros(len(a_out), dtype=np.int8))
    positives = np.flatnonzero(qqp.label == 1)
    order = sorted(positives.tolist(), key=lambda i: hashlib.sha256(f"{seed}:{qqp.b[i]}".encode()).digest())
    for i in order[:QQP_NEAR_MISS_POSITIVES[split]]:
        edit = perturb(qqp.b[i], rng)
        if edit is not None:
            a_out += [qqp.a[i], qqp.b[i]]
            b_out += [edit[1], edit[1]]
    questions = sorted(qqp.texts(), key=lambda t: hashlib.sha256(f"{seed}:q:{t}".encode()).digest())
    for q in questions[:QQP_NEAR_MISS_QUESTIONS[split]]:
        edit = perturb(q, rng)
        if edit is not None:
            a_out.append(q)
            b_out.append(edit[1])
    return Pairs(a_out, b_out, np.zeros(len(a_out), dtype=np.int8)), mock_only


def undirected_positives(texts: Iterable[str], limit: int) -> Pairs:
    from training.cache.near_misses import undirected_swap

    a_out, b_out = [], []
    for t in sorted(texts, key=lambda t: hashlib.sha256(f"{SEED}:u:{t}".encode()).digest()):
        swapped = undirected_swap(t)
        if swapped is not None:
            a_out.append(t)
            b_out.append(swapped)
            if len(a_out) >= limit:
                break
    return Pairs(a_out, b_out, np.ones(len(a_out), dtype=np.int8))


def choose_floor(mock_cos: np.ndarray, qqp_cos: np.ndarray) -> float:
    """The highest floor on the grid that turns away <= 2 % of the clean mock positives and <= 1 % of the
    QQP positives (the lower of the two)."""
    best = float(FLOOR_GRID[0])
    for floor in FLOOR_GRID:
        if np.mean(mock_cos < floor) <= FLOOR_MAX_MOCK_LOSS and np.mean(qqp_cos < floor) <= FLOOR_MAX_POSITIVE_LOSS:
            best = float(floor)
    return best


def train(data_dir: Path, cache_dir: Path | None, out: Path, target: float = TARGET_PRECISION) -> Verifier:
    np.random.seed(SEED)
    pairs, evaluation, _ = load_pairs(data_dir)
    mock = split_mock(data_dir)
    val_mask = group_split(pairs)
    tr, va = pairs.subset(np.flatnonzero(~val_mask)), pairs.subset(np.flatnonzero(val_mask))
    nm_tr, _ = near_misses(mock["train"], tr, "train", SEED)
    nm_va, nm_va_mock = near_misses(mock["validation"], va, "validation", SEED)
    nm_te, nm_te_mock = near_misses(mock["test"], evaluation, "test", SEED)
    und = undirected_positives(tr.texts(), UNDIRECTED_POSITIVES)
    sanity = Pairs([a for a, _ in SANITY_PAIRS], [b for _, b in SANITY_PAIRS], np.zeros(len(SANITY_PAIRS), np.int8))
    store = EmbeddingStore(cache_dir)
    store.ensure(set().union(*(p.texts() for p in (pairs, evaluation, nm_tr, nm_va, nm_te, und, sanity,
                                                    *mock.values()))))
    train_set = _concat(tr, *([mock["train"]] * MOCK_REPEAT), nm_tr, und)
    mix_va = _concat(va, mock["validation"], nm_va)
    print(f"training rows: {len(train_set)} ({int(train_set.label.sum())} positive; QQP {len(tr)}, mock "
          f"{len(mock['train'])} x{MOCK_REPEAT}, near misses {len(nm_tr)}, swaps {len(und)}), validation mix: "
          f"{len(mix_va)} ({int(mix_va.label.sum())} positive; QQP {len(va)}, mock {len(mock['validation'])}, "
          f"near misses {len(nm_va)}), evaluation rows: {len(evaluation)}", file=sys.stderr)
    idf = idf_table(train_set.texts())
    x_tr, _ = features(train_set, store, idf)
    x_va, cos_va = features(mix_va, store, idf)
    weights = fit(x_tr, train_set.label, x_va, mix_va.label)

    _, mock_cos = features(_concat(mock["train"], mock["validation"]), store, idf)
    _, qqp_cos = features(va.subset(np.flatnonzero(va.label == 1)), store, idf)
    min_cosine = choose_floor(mock_cos, qqp_cos)
    probe = Verifier(**weights, threshold=0.5, min_cosine=min_cosine, idf=idf)
    p_va = np.where(cos_va >= min_cosine, probe.predict_features(x_va), 0.0)
    # The operating point comes from the clean validation rows (mock paraphrases against near misses of the
    # same questions), weighted 1:1: QQP's noisy labels (about 5 % of near-identical pairs marked "different")
    # cap any precision measured on them near 0.93 and would push the threshold to where nothing hits.
    clean_va = _concat(mock["validation"], nm_va_mock)
    x_clean, cos_clean = features(clean_va, store, idf)
    p_clean = np.where(cos_clean >= min_cosine, probe.predict_features(x_clean), 0.0)
    threshold = choose_balanced_threshold(p_clean, clean_va.label, target)
    verifier = Verifier(**weights, threshold=threshold, min_cosine=min_cosine, idf=idf)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **weights, idf=idf.astype(np.float16), threshold=np.float64(threshold),
                        min_cosine=np.float64(min_cosine), feature_version=np.int64(FEATURE_VERSION),
                        training_rows=np.int64(len(train_set)), validation_rows=np.int64(len(mix_va)),
                        hidden=np.int64(HIDDEN), ensemble=np.int64(ENSEMBLE), alpha=np.float64(ALPHA),
                        epochs=np.int64(EPOCHS),
                        target_precision=np.float64(target), seed=np.int64(SEED))
    print(f"wrote {out} ({out.stat().st_size} bytes): threshold {threshold:.4f}, min_cosine {min_cosine:.2f} "
          f"(mock positives below it: {np.mean(mock_cos < min_cosine):.3f}, QQP validation positives: "
          f"{np.mean(qqp_cos < min_cosine):.3f})", file=sys.stderr)
    paraphrase_vs_near_miss = _concat(mock["test"], nm_te_mock)
    report(verifier, store, mix_va, p_va, {
        "validation_mix": mix_va, "val_qqp": va, "val_mock+nm": _concat(mock["validation"], nm_va_mock),
        "qqp_pairs_every4th": evaluation, "test_mock+nm": paraphrase_vs_near_miss,
        "test_mock_only": mock["test"], "test_qqp+nm": _concat(evaluation, nm_te)}, sanity)
    return verifier


def report(verifier: Verifier, store: EmbeddingStore, validation: Pairs, p_va: np.ndarray,
           sets: dict[str, Pairs], sanity: Pairs) -> None:
    """The table: the shipped operating point, plain cosine thresholds, and (for reference) the verifier at
    thresholds chosen on the validation mix for other precision targets."""
    others = {t: choose_threshold(p_va, validation.label, t) for t in (0.85, 0.90, 0.93)}
    rules: list[tuple[str, float, bool]] = [(f"verifier >= {verifier.threshold:.3f} *", verifier.threshold, True)]
    rules += [(f"verifier >= {t:.3f} (val P {q:.2f})", t, True) for q, t in others.items()]
    rules += [(f"cosine >= {c:.2f}", c, False) for c in (0.80, 0.92, 0.95)]
    print(f"\n{'set':<20} {'rows':>6} {'rule':<32} {'precision':>9} {'recall':>7} {'hits':>6}")
    for name, pairs in sets.items():
        x, cos = features(pairs, store, verifier.idf)
        p = np.where(cos >= verifier.min_cosine, verifier.predict_features(x), 0.0)
        for rule, t, is_verifier in rules:
            precision, recall, hits = metrics((p if is_verifier else cos) >= t, pairs.label)
            shown = "-" if pairs.label.all() else f"{precision:.4f}"  # all positive: recall only
            print(f"{name:<20} {len(pairs):>6} {rule:<32} {shown:>9} {recall:>7.4f} {hits:>6}")
        if name == "validation_mix":
            for t in np.round(np.arange(0.80, 1.0, 0.02), 2):
                precision, recall, hits = metrics(p >= t, pairs.label)
                print(f"{name:<20} {len(pairs):>6} {'  (curve) verifier >= ' + str(t):<32} {precision:>9.4f} "
                      f"{recall:>7.4f} {hits:>6}")
    print(f"\n* shipped: threshold {verifier.threshold:.4f} (validation-mix precision target "
          f"{verifier.metadata.get('target_precision', TARGET_PRECISION)}), min_cosine {verifier.min_cosine:.2f}, "
          f"{verifier.n_features} features ({len(LEXICAL_FEATURE_NAMES)} lexical)\n")
    for a, b in zip(sanity.a, sanity.b, strict=True):
        va_, vb = store.matrix([a, b])
        s = float(verifier.score(a, va_, [b], vb[None, :])[0])
        print(f"  cos {float(va_ @ vb):.3f}  score {s:.3f} {'ACCEPT' if s >= verifier.threshold else 'reject'}  "
              f"{a!r} / {b!r}")


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
