"""Does training reproduce the shipped tier weights on this machine? Retrain, then compare arrays and decisions.

    PYTHONPATH=. .venv/bin/python -m training.tiering.check_reproduction [--embeddings-cache DIR]

Retraining embeds the 5,365 prompts again (about 3 minutes on 2 cores; with ``--embeddings-cache`` once). The
embedding model's floats differ in their last bits between machines and thread counts, so the weights come back
close, not byte for byte: the script prints the largest difference per array and how many of the dataset's
prompts change tier at the default threshold (0.5) between the shipped and the retrained weights. Exit status 1
when any prompt changes tier or an array differs by more than 1e-3.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from deployments.tiering.model import DEFAULT_WEIGHTS, TierModel
from training.tiering.train_tiering import DEFAULT_DATA, embed_texts, features_of, load_rows
from training.tiering.train_tiering import main as train

TOLERANCE = 1e-3


def _difference(shipped: np.ndarray, retrained: np.ndarray) -> float:
    """The largest absolute difference of two numeric arrays; 0 or infinity for others (names, flags)."""
    if shipped.shape != retrained.shape:
        return float("inf")
    if shipped.dtype.kind in "fiu" and shipped.size:
        return float(np.max(np.abs(shipped.astype(np.float64) - retrained.astype(np.float64))))
    return 0.0 if np.array_equal(shipped, retrained) else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings-cache", type=Path, default=None)
    args = parser.parse_args(argv)
    cache = args.embeddings_cache or Path(tempfile.mkdtemp(prefix="tier-embeddings-"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tier_weights.npz"
        if train(["--out", str(out), "--embeddings-cache", str(cache)]) != 0:
            return 1
        with np.load(DEFAULT_WEIGHTS) as shipped, np.load(out) as retrained:
            worst = {name: _difference(shipped[name], retrained[name]) for name in shipped.files}
        retrained_model = TierModel.load(out)
    shipped_model = TierModel.load()
    texts = [row["text"] for row in load_rows(DEFAULT_DATA)]
    vectors, feats = embed_texts(texts, cache), features_of(texts)
    before = shipped_model.score_batch(vectors, feats) >= 0.5
    after = retrained_model.score_batch(vectors, feats) >= 0.5
    flips = int(np.sum(before != after))
    print("\n| array | largest difference |\n|---|---|")
    for name, value in sorted(worst.items()):
        print(f"| {name} | {value:.3g} |")
    print(f"\nprompts that change tier at 0.5: {flips} of {len(texts)}")
    return 0 if flips == 0 and max(worst.values()) <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
