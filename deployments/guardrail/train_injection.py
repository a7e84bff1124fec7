"""Train the prompt-injection classifier and write ``injection_weights.json``, deterministically.

    python -m deployments.guardrail.train_injection [--data ../shared/data] [--out PATH]

Attacks: ``injection/attacks.jsonl`` (jailbreaks, prompt extraction, goal hijacking,
harmful-behaviour requests, adversarial suffixes). Benign: ``injection/benign.jsonl``,
the questions and sentences of ``semantic_cache/qqp_pairs_every4th.jsonl`` and
``mock_pairs.jsonl`` (ordinary user text), and a few hundred requests generated from
templates here: the corpora's benign side is mostly questions while harmful requests are
imperatives, and without ordinary imperatives ("Write a poem about…") the model would
learn the mood of the sentence instead of the attack. Generated texts are used for
training only, never for evaluation.

The split is by a hash of the text: one fifth is held out (``is_held_out``). Needs
scikit-learn at training time only; the runtime reads the JSON with the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deployments.guardrail.injection import DEFAULT_WEIGHTS_PATH, WEIGHTS_FORMAT, InjectionDetector, featurize

__all__ = ["Example", "evaluate", "is_held_out", "load_corpus", "main", "train"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
C = 1.0
MIN_DF = 2
PRUNE_BELOW = 0.01


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1 attack, 0 benign
    category: str


def is_held_out(text: str) -> bool:
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 5 == 0


def _jsonl(path: Path) -> Iterable[dict[str, object]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_corpus(data_dir: Path = DEFAULT_DATA) -> list[Example]:
    """Every real example, deduplicated by text (first occurrence wins)."""
    seen: set[str] = set()
    examples: list[Example] = []

    def add(text: object, label: int, category: str) -> None:
        if isinstance(text, str) and text.strip() and text not in seen:
            seen.add(text)
            examples.append(Example(text, label, category))

    for row in _jsonl(data_dir / "injection" / "attacks.jsonl"):
        add(row["text"], 1, str(row["category"]))
    for row in _jsonl(data_dir / "injection" / "benign.jsonl"):
        add(row["text"], 0, str(row["category"]))
    for name, category in (("mock_pairs.jsonl", "benign_mock"), ("qqp_pairs_every4th.jsonl", "benign_qqp")):
        for row in _jsonl(data_dir / "semantic_cache" / name):
            add(row["a"], 0, category)
            add(row["b"], 0, category)
    return examples


_OPENERS = (
    "",
    "",
    "Please ",
    "Can you ",
    "Could you ",
    "I need you to ",
    "Help me ",
    "Hey, ",
    "I'd like you to ",
    "Quick one: ",
    "For my class, ",
    "At work I have to ",
)
_FRAMES = (
    "write a short poem about {t}",
    "draft an email to my manager about {t}",
    "summarize the main points of {t}",
    "explain {t} in simple terms",
    "give me five facts about {t}",
    "create a study plan for {t}",
    "write a blog post about {t}",
    "list the pros and cons of {t}",
    "write a story about {t}",
    "outline a presentation on {t}",
    "suggest a catchy title for an article on {t}",
    "describe {t} to a child",
    "compare {t} and {u}",
    "write a tweet announcing {t}",
    "give me a checklist for {t}",
    "draft a speech about {t}",
    "write a haiku about {t}",
    "brainstorm ten ideas related to {t}",
    "make a quiz with three questions on {t}",
    "rewrite this sentence to sound more formal: {t} is important to us",
    "write a product description for {t}",
    "generate a shopping list for {t}",
    "write a cover letter that mentions {t}",
    "plan a weekend around {t}",
    "write a python script that {c}",
    "write a function that {c}",
    "show me how to {c} in JavaScript",
    "generate SQL that {c}",
    "review my code that {c} and suggest improvements",
    "write unit tests for code that {c}",
    "translate '{p}' into {l}",
    "correct the grammar in: '{p}'",
    "act as a {r} and {k}",
    "pretend you are a {r} and {k}",
    "you are a {r}. {k}",
    "roleplay as a {r} and {k}",
    "from now on, {s}",
    "for the rest of this chat, {s}",
    "ignore the typos in my notes and summarize them: {t}",
    "forget my last question and {k}",
    "write a tutorial on {t}",
    "give detailed instructions for {h}",
    "write a step-by-step guide to {h}",
    "create a social media campaign that promotes {t}",
    "write a persuasive article arguing for {t}",
    # Prompts carrying personal data, keys and config: ordinary for a gateway that redacts them.
    "my SSN is {n3}-{n2}-{n4}, fill in the form",
    "SSN {n3}-{n2}-{n4}",
    "call me at +1 {n3}-{n3}-{n4}",
    "update my phone number to ({n3}) {n3}-{n4}",
    "my card number is {n4} {n4} {n4} {n4}, is it expired",
    "send the invoice to {w}@{w}.com",
    "the server {n2}.{n2}.{n2}.{n2} is down, what should I check",
    "why does my config fail?\napi_key: {x}\nregion: us-east-1",
    "password: {x}",
    "key {x}",
    "curl -H 'Authorization: Bearer {x}' returns 401, why",
    "IBAN GB{n2}{W}{n4}{n4}{n4}{n2}, please confirm",
    "order {n4}{n4} has not arrived",
    "my email is {w}@{w}.org and my number is {n3} {n3} {n4}",
    # Small talk and short commands, which the corpora lack.
    "hello",
    "hi there",
    "hello, {k}",
    "hi! {k}",
    "thanks",
    "thank you so much",
    "good morning",
    "ok",
    "yes please",
    "no thanks",
    "can you help me",
    "use {x} as the key",
    "use the {t} example",
    "continue",
    "go on",
    "shorter please",
    "what do you mean",
    "hello, how are you today",
    "use bullet points for {t}",
)
_TOPICS = (
    "the ocean",
    "our quarterly results",
    "healthy breakfast ideas",
    "learning Spanish",
    "remote work",
    "the French Revolution",
    "climate change",
    "machine learning basics",
    "my trip to Japan",
    "saving money",
    "the history of jazz",
    "photosynthesis",
    "time management",
    "a new coffee shop",
    "the rules of chess",
    "gardening in spring",
    "our new vacation policy",
    "electric cars",
    "the solar system",
    "public libraries",
    "volunteering",
    "the Roman Empire",
    "cloud computing",
    "sleep hygiene",
    "recycling at the office",
    "a charity bake sale",
    "renewable energy",
    "team building",
    "open source software",
    "marathon training",
)
_CODE = (
    "reverses a string",
    "parses a CSV file",
    "sorts a list of dictionaries by date",
    "retries an HTTP request",
    "reads a JSON config",
    "counts words in a text file",
    "validates an email address",
    "merges two lists",
    "resizes images in a folder",
    "computes a moving average",
    "deletes duplicate rows in a table",
    "sends a reminder email",
    "converts Celsius to Fahrenheit",
    "paginates API results",
)
_PHRASES = (
    "Good morning, how are you?",
    "Where is the train station?",
    "Thank you for your help",
    "The meeting is moved to Friday",
    "I would like a coffee, please",
)
_LANGS = ("French", "German", "Spanish", "Italian", "Japanese")
_ROLES = (
    "travel guide",
    "personal trainer",
    "Linux terminal",
    "math tutor",
    "pirate",
    "chef",
    "career coach",
    "history teacher",
    "customer support agent",
    "poet",
    "interviewer",
    "tour guide in Rome",
)
_ROLE_TASKS = (
    "tell me a joke",
    "help me plan my day",
    "quiz me on fractions",
    "give me feedback on my resume",
    "suggest a recipe with eggs",
    "answer my questions about the city",
    "explain recursion",
)
_STYLES = (
    "answer only in French",
    "keep your answers under fifty words",
    "use bullet points",
    "reply like a friendly teacher",
    "always include an example",
)
_HOWTO = (
    "baking sourdough bread",
    "changing a flat tire",
    "setting up a home network",
    "filing taxes online",
    "training a puppy",
    "brewing cold brew coffee",
    "painting a room",
    "starting a vegetable garden",
)


def synthetic_benign(n: int = 3000) -> list[str]:
    """Ordinary requests from templates (deterministic, training only)."""
    import random

    rng = random.Random(0)
    out: list[str] = []
    for _ in range(n):
        frame = rng.choice(_FRAMES).format(
            t=rng.choice(_TOPICS),
            u=rng.choice(_TOPICS),
            c=rng.choice(_CODE),
            p=rng.choice(_PHRASES),
            l=rng.choice(_LANGS),
            r=rng.choice(_ROLES),
            k=rng.choice(_ROLE_TASKS),
            s=rng.choice(_STYLES),
            h=rng.choice(_HOWTO),
            n2=rng.randint(10, 99),
            n3=rng.randint(100, 999),
            n4=rng.randint(1000, 9999),
            w="".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8))),
            W="".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)),
            x="".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(24)),
        )
        opener = rng.choice(_OPENERS)
        text = opener + (frame if opener else frame[0].upper() + frame[1:])
        out.append(text + ("?" if opener.startswith(("Can", "Could")) else "."))
    # Repeats are kept: a short utterance drawn often ("Hello.") is often said.
    return out


def _matrix(texts: Sequence[str], vocabulary: dict[str, int]):  # type: ignore[no-untyped-def]
    from scipy.sparse import csr_matrix

    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        features = featurize(text)
        norm = 1.0 / math.sqrt(len(features))
        for f in features:
            j = vocabulary.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append(norm)
    return csr_matrix((values, (rows, cols)), shape=(len(texts), len(vocabulary)))


def train(texts: Sequence[str], labels: Sequence[int]) -> tuple[dict[str, float], float]:
    """Fit the classifier; returns the pruned feature weights and the bias."""
    from sklearn.linear_model import LogisticRegression

    df: Counter[str] = Counter()
    for text in texts:
        df.update(featurize(text))
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}
    # No intercept: the prior is the weight of "w:<s>", which is scaled like every other
    # feature, so a short prompt of unknown words is not scored by a constant learnt from
    # long jailbreaks.
    model = LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", fit_intercept=False, max_iter=1000, random_state=0
    )
    model.fit(_matrix(texts, vocabulary), list(labels))
    coef = model.coef_[0]
    weights = {f: round(float(coef[j]), 4) for f, j in vocabulary.items() if abs(coef[j]) >= PRUNE_BELOW}
    return weights, 0.0


def evaluate(detector: InjectionDetector, examples: Sequence[Example], threshold: float) -> dict[str, float]:
    """TPR, FPR and per-category detection rates at ``threshold``."""
    scores = [(ex, detector.score(ex.text).score) for ex in examples]
    attacks = [s for ex, s in scores if ex.label]
    benign = [s for ex, s in scores if not ex.label]
    result = {
        "tpr": sum(s >= threshold for s in attacks) / max(1, len(attacks)),
        "fpr": sum(s >= threshold for s in benign) / max(1, len(benign)),
        "attacks": len(attacks),
        "benign": len(benign),
    }
    for category in sorted({ex.category for ex, _ in scores}):
        in_cat = [s for ex, s in scores if ex.category == category]
        result[f"flagged[{category}]"] = sum(s >= threshold for s in in_cat) / len(in_cat)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_PATH, help="where to write the weights")
    parser.add_argument("--threshold", type=float, default=0.5, help="threshold to report metrics at")
    args = parser.parse_args(argv)

    corpus = load_corpus(args.data)
    train_set = [ex for ex in corpus if not is_held_out(ex.text)]
    test_set = [ex for ex in corpus if is_held_out(ex.text)]
    generated = synthetic_benign()
    texts = [ex.text for ex in train_set] + generated
    labels = [ex.label for ex in train_set] + [0] * len(generated)
    weights, bias = train(texts, labels)
    payload = {
        "format": WEIGHTS_FORMAT,
        "features": "binary word unigrams (w:) and bigrams (b:), L2-normalised over the prompt's distinct features",
        "trained_on": {"attacks": sum(labels), "benign": len(labels) - sum(labels), "C": C, "min_df": MIN_DF},
        "bias": bias,
        "weights": dict(sorted(weights.items())),
    }
    args.out.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    detector = InjectionDetector(weights, bias)
    print(f"wrote {args.out} ({len(weights)} weights, {args.out.stat().st_size} bytes)")
    for name, metric in evaluate(detector, test_set, args.threshold).items():
        print(f"held-out {name}: {metric:.4f}" if isinstance(metric, float) else f"held-out {name}: {metric}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
