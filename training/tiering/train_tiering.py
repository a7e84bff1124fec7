"""Train the tier classifier and write ``tier_weights.npz``, deterministically.

    python -m training.tiering.train_tiering [--data training/tiering/data/tier_prompts.jsonl]
        [--embeddings-cache DIR] [--out PATH]

Data (provenance in ``data/README.md``; rebuilt by :mod:`training.tiering.build_dataset`): prompts from
OpenAI evals 3.0.1.post1 (MIT) families labelled Tier 1 / Tier 2 by task type, HumanEval 1.0.3 (MIT, Tier 2)
and project-written prompts (``tollgate-written``, a minority). Each row is treated as a request whose only
message is a user message holding the text, so the embedding is of exactly the text the gateway embeds.

Model (:class:`~deployments.tiering.model.TierModel`): logistic regression over the centred embedding (scaled by
a gain, i.e. a lighter L2 penalty on it) and the standardised, clipped text features; class-balanced. The
regularisation ``C`` and the embedding gain are fixed (``CHOSEN``: gain 4, C 1.0); the run prints, for a grid
around them, 5-fold family-grouped cross-validation accuracy on the train split (whole families held out per
fold) and the random validation accuracy. The choice was made by the grouped folds on the first version of the
data; re-choosing on every data change proved unreliable: which families share a fold moves the grouped accuracy
by several points (adding two families to the data moved every grid point by 4-5 points and flipped the winner to
an over-regularised C 0.03, validation 0.84), while the validation rows share families with training and reward
memorising their wording. The model is fit on the train split only. The request-shape features get the fixed weights of ``RULE_WEIGHTS`` (not learned: the
corpus has none of them). A one-hidden-layer MLP on the embedding was tried as well and was not clearly better
on the unseen families (see ``data/README.md``), so the shipped model stays linear and exactly explainable.

The run prints accuracy / precision / recall (Tier 2 is the positive class) on validation, the random test
rows, the unseen-family test rows and the third-party test rows, and a few probes.

Embeddings: with ``--embeddings-cache DIR``, every ``emb_<name>.npy`` + ``texts_<name>.json`` pair in DIR is
used (all-MiniLM-L6-v2, unit length); missing texts are embedded with
:func:`~deployments.cache.embedder.shared_embedder` (~130 texts/s on a CPU) and, when DIR is writable, saved
there as ``emb_extra.npy`` / ``texts_extra.json``. Output bytes are the same on every run (fixed data order,
deterministic solver, ``np.savez`` without timestamps). Needs scikit-learn at training time only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from deployments.tiering.features import FEATURE_NAMES, TEXT_FEATURES, request_features
from deployments.tiering.model import DEFAULT_WEIGHTS, RULE_WEIGHTS, TEXT_CLIP, TierModel

__all__ = ["DEFAULT_DATA", "embed_texts", "evaluate", "features_of", "load_rows", "main", "train"]

DEFAULT_DATA = Path(__file__).with_name("data") / "tier_prompts.jsonl"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
GAIN_GRID = (1.0, 4.0, 16.0)
CHOSEN = (4.0, 1.0)  # (embedding gain, C) of the shipped weights; see the module docstring
FOLDS = 5  # GroupKFold over the training families
N_TEXT = len(TEXT_FEATURES)
PROBES = (
    ("What is the sentiment of this review: 'The pizza was great!'", 1),
    ("Classify this support ticket as billing, technical or account: I can't log in", 1),
    ("Translate to German: Where is the nearest pharmacy?", 1),
    ("What is the capital of Australia?", 1),
    ("Write a Python function that parses an ISO-8601 duration string and returns seconds; include unit tests", 2),
    (("A train leaves at 3pm at 60 km/h, a second one leaves at 4pm at 90 km/h from the same station; when does the "
     "second catch up? Explain step by step"), 2),
    ("Our Postgres primary is at 95% CPU after the last deploy. Walk me through diagnosing it and propose fixes.", 2),
)


def load_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def embed_texts(texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Embeddings of ``texts`` (rows aligned), from the cache where possible."""
    known: dict[str, np.ndarray] = {}
    if cache_dir is not None and cache_dir.is_dir():
        for emb_path in sorted(cache_dir.glob("emb_*.npy")):
            names = cache_dir / f"texts_{emb_path.stem[4:]}.json"
            if names.exists():
                vectors = np.load(emb_path)
                known.update(zip(json.loads(names.read_text(encoding="utf-8")), vectors, strict=True))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        from deployments.cache.embedder import shared_embedder

        print(f"embedding {len(missing)} texts ...", file=sys.stderr)
        vectors = shared_embedder().embed(missing)
        known.update(zip(missing, vectors, strict=True))
        if cache_dir is not None:
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                old = cache_dir / "texts_extra.json"
                extra = json.loads(old.read_text(encoding="utf-8")) if old.exists() else []
                extra_vecs = np.load(cache_dir / "emb_extra.npy") if old.exists() else np.zeros((0, vectors.shape[1]))
                np.save(cache_dir / "emb_extra.npy", np.concatenate([extra_vecs, vectors]).astype(np.float32))
                old.write_text(json.dumps(extra + missing), encoding="utf-8")
            except OSError as exc:
                print(f"could not save embeddings: {exc}", file=sys.stderr)
    return np.stack([np.asarray(known[t], dtype=np.float32) for t in texts])


def features_of(texts: list[str]) -> np.ndarray:
    """``request_features`` of each text sent as a single user message."""
    return np.stack([request_features({"messages": [{"role": "user", "content": t}]}) for t in texts])


def _design(vectors: np.ndarray, feats: np.ndarray, embed_mean: np.ndarray, center: np.ndarray, scale: np.ndarray,
            gain: float) -> np.ndarray:
    z = np.clip((feats[:, :N_TEXT] - center) / scale, -TEXT_CLIP, TEXT_CLIP)
    return np.concatenate([(vectors - embed_mean) * gain, z], axis=1)


def train(vectors: np.ndarray, feats: np.ndarray, tiers: np.ndarray, split: np.ndarray,
          families: np.ndarray) -> tuple[TierModel, str]:
    """Fit on the train rows with the ``CHOSEN`` (gain, C), printing the grid's grouped-CV and validation accuracy;
    returns the model and a log.

    The random validation split shares its families with training, so it rewards memorising a family's
    instruction wording (it prefers the weakest regularisation); the held-out-families folds reward what
    carries over to new kinds of request. Validation accuracy is printed next to it.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    tr, va = split == "train", split == "validation"
    y = (tiers == 2).astype(np.int64)
    embed_mean = vectors[tr].mean(axis=0).astype(np.float64)
    center = feats[tr, :N_TEXT].mean(axis=0).astype(np.float64)
    scale = feats[tr, :N_TEXT].std(axis=0).astype(np.float64)
    scale[scale < 1e-6] = 1.0
    folds = list(GroupKFold(n_splits=FOLDS).split(np.zeros(int(tr.sum())), y[tr], families[tr]))

    def fit(x: np.ndarray, labels: np.ndarray, c: float) -> LogisticRegression:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-8).fit(x, labels)

    log: list[str] = []
    best = None
    for gain in GAIN_GRID:
        x_tr = _design(vectors[tr], feats[tr], embed_mean, center, scale, gain)
        x_va = _design(vectors[va], feats[va], embed_mean, center, scale, gain)
        for c in C_GRID:
            hits = sum(int((fit(x_tr[a], y[tr][a], c).predict(x_tr[b]) == y[tr][b]).sum()) for a, b in folds)
            grouped = hits / int(tr.sum())
            clf = fit(x_tr, y[tr], c)
            acc = float((clf.predict(x_va) == y[va]).mean())
            log.append(f"  gain {gain:>4} C {c:<5} held-out-family CV accuracy {grouped:.4f}  validation {acc:.4f}")
            if (gain, c) == CHOSEN:
                best = (gain, c, clf, acc, grouped)
    assert best is not None, f"CHOSEN {CHOSEN} is not on the grid"
    gain, c, clf, acc, grouped = best
    log.append(f"shipped: gain {gain}, C {c} (held-out-family CV accuracy {grouped:.4f}, validation {acc:.4f})")
    coef = clf.coef_[0].astype(np.float64)
    k = len(FEATURE_NAMES)
    rules = [RULE_WEIGHTS[n] for n in FEATURE_NAMES[N_TEXT:]]
    model = TierModel(
        embed_weight=coef[:-N_TEXT] * gain, embed_mean=embed_mean, bias=float(clf.intercept_[0]),
        center=np.concatenate([center, [r[0] for r in rules]]),
        scale=np.concatenate([scale, [r[1] for r in rules]]),
        weight=np.concatenate([coef[-N_TEXT:], [r[2] for r in rules]]),
        lo=np.concatenate([np.full(N_TEXT, -TEXT_CLIP), [r[3] for r in rules]]),
        hi=np.concatenate([np.full(N_TEXT, TEXT_CLIP), [r[4] for r in rules]]),
        absent_zero=np.array([False] * N_TEXT + [r[5] for r in rules]),
        metadata={"C": c, "embedding_gain": gain, "validation_accuracy": round(acc, 4),
                  "grouped_cv_accuracy": round(grouped, 4),
                  "model": "logistic regression, class-balanced", "feature_names": list(FEATURE_NAMES),
                  "learned": list(TEXT_FEATURES) + ["embedding", "bias"], "set_by_rule": list(RULE_WEIGHTS)},
    )
    assert model.weight.shape == (k,)
    return model, "\n".join(log)


def save(model: TierModel, path: Path) -> None:
    """The weights as float32 arrays (the file stays ~3 KB plus the 384-d vectors)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, embed_weight=model.embed_weight.astype(np.float32), embed_mean=model.embed_mean.astype(np.float32),
             bias=np.float64(model.bias), center=model.center.astype(np.float32),
             scale=(1.0 / model.inv_scale).astype(np.float32), weight=model.weight.astype(np.float32),
             lo=model.lo.astype(np.float32), hi=model.hi.astype(np.float32), absent_zero=model.absent_zero,
             feature_names=np.array(model.feature_names), metadata=np.array(json.dumps(model.metadata, sort_keys=True)))


def metrics(scores: np.ndarray, tiers: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, and precision / recall of Tier 2, at ``threshold``."""
    pred, true = scores >= threshold, tiers == 2
    tp = float((pred & true).sum())
    return {"n": float(len(tiers)), "accuracy": float((pred == true).mean()) if len(tiers) else float("nan"),
            "precision": tp / max(float(pred.sum()), 1.0), "recall": tp / max(float(true.sum()), 1.0)}


def evaluation_sets(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Boolean row masks of the evaluation sets reported by the training run and the benchmarks."""
    split = np.array([str(r["split"]) for r in rows])
    unseen = np.array([bool(r.get("unseen_family")) for r in rows])
    third = np.array([r["source"] != "tollgate-written" for r in rows])
    test = split == "test"
    return {"validation": split == "validation", "test (random)": test & ~unseen, "test (unseen families)": unseen,
            "test, third-party only": test & third, "test (random), third-party only": test & ~unseen & third,
            "test, tollgate-written only": test & ~third}


def evaluate(model: TierModel, rows: list[dict[str, Any]], vectors: np.ndarray, feats: np.ndarray) -> str:
    tiers = np.array([int(r["tier"]) for r in rows])
    scores = model.score_batch(vectors, feats)
    lines = [f"{'set':<34}{'n':>6}{'accuracy':>10}{'precision':>11}{'recall':>8}"]
    for name, mask in evaluation_sets(rows).items():
        m = metrics(scores[mask], tiers[mask])
        lines.append(f"{name:<34}{int(m['n']):>6}{m['accuracy']:>10.4f}{m['precision']:>11.4f}{m['recall']:>8.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embeddings-cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    args = parser.parse_args(argv)
    rows = load_rows(args.data)
    texts = [str(r["text"]) for r in rows]
    vectors = embed_texts(texts, args.embeddings_cache)
    feats = features_of(texts)
    tiers = np.array([int(r["tier"]) for r in rows])
    split = np.array([str(r["split"]) for r in rows])
    families = np.array([str(r["family"]) for r in rows])
    model, log = train(vectors, feats, tiers, split, families)
    print(log)
    save(model, args.out)
    shipped = TierModel.load(args.out)
    print(evaluate(shipped, rows, vectors, feats))
    probe_vecs = embed_texts([p for p, _ in PROBES], args.embeddings_cache)
    for (text, tier), vec in zip(PROBES, probe_vecs, strict=True):
        result = shipped.score(vec, features_of([text])[0])
        print(f"  probe T{tier} score {result.score:.3f} {text[:70]!r} drivers {result.drivers[:3]}")
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
