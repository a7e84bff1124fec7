"""The decision stage of the semantic cache: may the answer cached for ``candidate`` be served for ``query``?

A plain cosine threshold on sentence embeddings cannot tell "How do I lose 5 kg in a month?" from "How do I
lose 10 kg in a month?" (cosine ~0.95) while it misses many real paraphrases with a lower cosine. The verifier
scores a (query, candidate) pair with a small one-hidden-layer MLP over

* symmetric embedding features: ``u * v``, ``|u - v|`` and the cosine, and
* cheap lexical/conflict features: token and character-trigram overlap, numbers that differ, negation
  mismatch, capitalised words (names) found in only one side, swapped direction ("from X to Y" vs "from Y
  to X"), a different question word (what/why/how/...), length ratios.

Every feature is symmetric in the two texts, so ``score(a, b) == score(b, a)``. Only numpy is needed at run
time; the weights ship in ``verifier_weights.npz`` next to this module and are reproduced by
``python -m deployments.cache.train_verifier``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURE_VERSION",
    "LEXICAL_FEATURE_NAMES",
    "TextInfo",
    "Verifier",
    "analyze",
    "lexical_features",
    "pair_features",
    "pair_features_batch",
]

FEATURE_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).with_name("verifier_weights.npz")

_WH_WORDS = ("what", "why", "how", "when", "who", "where", "which", "whom", "whose")
_NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "cannot", "none", "nobody", "nothing", "neither"})
_STOPWORDS = frozenset(
    ["a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "by", "with", "about", "as", "into", "onto", "over", "under", "and", "or", "but", "if", "then", "than", "so", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "doing", "done", "have", "has", "had", "having", "can", "could", "will", "would", "shall", "should", "may", "might", "must", "i", "me", "my", "mine", "we", "us", "our", "you", "your", "he", "him", "his", "she", "her", "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "here", "what", "why", "how", "when", "who", "whom", "whose", "where", "which", "some", "any", "all", "also", "just", "very", "really", "more", "most", "much", "many", "get", "got", "go", "going", "make", "one", "s", "t"]
)
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000",
    "billion": "1000000000", "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
}
# "one" is mostly a pronoun ("which one", "someone"); it counts as a number only next to a digit-like context,
# which is too fiddly to detect, so it is left out of the number set.
_AMBIGUOUS_NUMBER_WORDS = frozenset({"one", "first", "second"})

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9&.\-]*")
# Ordered relations: swapping the two sides changes the meaning.
_DIRECTED = (
    re.compile(r"\bfrom ([a-z0-9]+(?: [a-z0-9]+)?) (?:to|into|in) ([a-z0-9]+)"),
    re.compile(r"\b([a-z0-9]+) (?:better|worse|bigger|smaller|more|less|faster|slower|cheaper|stronger|higher|"
               r"lower|greater)\b(?: [a-z]+)? than ([a-z0-9]+)"),
    re.compile(r"\bconvert(?:ing)? ([a-z0-9]+) (?:to|into) ([a-z0-9]+)"),
)
# Unordered relations: "X vs Y" usually means the same as "Y vs X", but a swap is still a (weak) signal.
_UNDIRECTED = (
    re.compile(r"\b([a-z0-9]+) (?:vs\.?|versus|or) ([a-z0-9]+)"),
    re.compile(r"\bbetween ([a-z0-9]+) and ([a-z0-9]+)"),
)


def _stem(token: str) -> str:
    """A crude light stemmer: enough to match "laptops"/"laptop", "'s" forms and a few verb endings."""
    token = token.removesuffix("'s")
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 5 and token.endswith("ing"):
        return token[:-3]
    if len(token) > 4 and token.endswith("ed"):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


@dataclass(frozen=True)
class TextInfo:
    """What the lexical features need from one text, computed once per text."""

    tokens: tuple[str, ...]
    token_set: frozenset[str]
    stems: frozenset[str]  # every token stemmed, stopwords included
    content: tuple[str, ...]  # stemmed non-stopword tokens, in order
    content_set: frozenset[str]
    numbers: frozenset[str]
    negations: int
    names: frozenset[str]  # lower-cased capitalised words that are not sentence-initial
    wh: frozenset[str]
    first_wh: str
    trigrams: frozenset[str]
    directed: frozenset[tuple[str, str]]
    undirected: frozenset[tuple[str, str]]
    n_chars: int


@functools.lru_cache(maxsize=65536)
def analyze(text: str) -> TextInfo:
    """Tokenise ``text`` once; cached because a cached query is compared again and again."""
    lowered = text.lower().replace("\u2019", "'").replace("`", "'")
    tokens = tuple(_WORD.findall(lowered))
    content = tuple(_stem(t) for t in tokens if t not in _STOPWORDS and not t.endswith("n't"))
    numbers = {n.replace(",", "") for n in _NUMBER.findall(lowered)}
    numbers.update(_NUMBER_WORDS[t] for t in tokens if t in _NUMBER_WORDS and t not in _AMBIGUOUS_NUMBER_WORDS)
    negations = sum(1 for t in tokens if t in _NEGATIONS or t.endswith("n't"))
    names: set[str] = set()
    for match in _CAPITALISED.finditer(text):
        word = match.group(0).rstrip(".-")
        if match.start() == 0 or word in ("I", "I'm") or word.lower() in _WH_WORDS or word.lower() in _STOPWORDS:
            continue
        names.add(_stem(word.lower()))
    wh = frozenset(t for t in tokens if t in _WH_WORDS)
    first_wh = next((t for t in tokens if t in _WH_WORDS), "")
    squashed = " ".join(tokens)
    trigrams = frozenset(squashed[i:i + 3] for i in range(max(len(squashed) - 2, 1)))
    normal = " ".join(tokens)
    directed = {(_stem(x.split()[-1]), _stem(y)) for rx in _DIRECTED for x, y in rx.findall(normal)}
    undirected = {(_stem(x), _stem(y)) for rx in _UNDIRECTED for x, y in rx.findall(normal)}
    return TextInfo(
        tokens=tokens, token_set=frozenset(tokens), stems=frozenset(_stem(t) for t in tokens), content=content, content_set=frozenset(content),
        numbers=frozenset(numbers), negations=negations, names=frozenset(names), wh=wh, first_wh=first_wh,
        trigrams=trigrams, directed=frozenset(d for d in directed if d[0] != d[1]),
        undirected=frozenset(d for d in undirected if d[0] != d[1]), n_chars=len(text),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    small = min(len(a), len(b))
    return len(a & b) / small if small else float(len(a) == len(b))


def _discordance(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Fraction of shared-word pairs whose order differs between the texts (0 = same order)."""
    pos_a: dict[str, int] = {}
    for i, t in enumerate(a):
        pos_a.setdefault(t, i)
    seen: set[str] = set()
    order: list[int] = []
    for t in b:
        if t in pos_a and t not in seen:
            seen.add(t)
            order.append(pos_a[t])
    n = len(order)
    if n < 2:
        return 0.0
    bad = sum(1 for i in range(n) for j in range(i + 1, n) if order[i] > order[j])
    return bad / (n * (n - 1) / 2)


def _swapped(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> float:
    return float(any((y, x) in b for x, y in a) and not (a & b))


LEXICAL_FEATURE_NAMES = (
    "token_jaccard", "token_overlap", "content_jaccard", "content_overlap", "trigram_jaccard",
    "content_only_min", "content_only_max", "content_only_min_frac", "content_only_max_frac",
    "same_tokens", "same_content",
    "numbers_any", "numbers_both", "numbers_differ", "numbers_one_side", "numbers_only_count",
    "negation_mismatch", "negation_any",
    "names_any", "names_only_min", "names_only_max", "names_jaccard",
    "wh_first_differ", "wh_xor_count",
    *(f"wh_xor_{w}" for w in _WH_WORDS[:7]),
    "order_discordance", "directed_swap", "undirected_swap",
    "len_ratio_tokens", "len_ratio_chars", "log_len_min", "log_len_max", "log_len_absdiff",
)
N_LEXICAL = len(LEXICAL_FEATURE_NAMES)


def lexical_features(a: str, b: str) -> np.ndarray:
    """The symmetric lexical/conflict features of a pair (``N_LEXICAL`` float32 values)."""
    x, y = analyze(a), analyze(b)
    only_x, only_y = len(x.content_set - y.content_set), len(y.content_set - x.content_set)
    nx, ny = max(len(x.content_set), 1), max(len(y.content_set), 1)
    num_only = len(x.numbers ^ y.numbers)
    names_only_x, names_only_y = len(x.names - y.stems), len(y.names - x.stems)
    wh_xor = x.wh ^ y.wh
    lx, ly = max(len(x.tokens), 1), max(len(y.tokens), 1)
    values = [
        _jaccard(x.token_set, y.token_set),
        _overlap(x.token_set, y.token_set),
        _jaccard(x.content_set, y.content_set),
        _overlap(x.content_set, y.content_set),
        _jaccard(x.trigrams, y.trigrams),
        float(min(only_x, only_y)),
        float(max(only_x, only_y)),
        min(only_x / nx, only_y / ny),
        max(only_x / nx, only_y / ny),
        float(x.tokens == y.tokens),
        float(x.content_set == y.content_set),
        float(bool(x.numbers or y.numbers)),
        float(bool(x.numbers and y.numbers)),
        float(bool(x.numbers and y.numbers and x.numbers != y.numbers)),
        float(bool(x.numbers) != bool(y.numbers)),
        float(min(num_only, 3)),
        float((x.negations > 0) != (y.negations > 0)),
        float(x.negations > 0 or y.negations > 0),
        float(bool(x.names or y.names)),
        float(min(names_only_x, names_only_y, 3)),
        float(min(max(names_only_x, names_only_y), 3)),
        _jaccard(x.names, y.names),
        float(bool(x.first_wh and y.first_wh and x.first_wh != y.first_wh)),
        float(len(wh_xor)),
        *(float(w in wh_xor) for w in _WH_WORDS[:7]),
        _discordance(x.content, y.content),
        max(_swapped(x.directed, y.directed), _swapped(y.directed, x.directed)),
        max(_swapped(x.undirected, y.undirected), _swapped(y.undirected, x.undirected)),
        min(lx, ly) / max(lx, ly),
        min(x.n_chars, y.n_chars) / max(x.n_chars, y.n_chars, 1),
        math.log1p(min(lx, ly)),
        math.log1p(max(lx, ly)),
        abs(math.log1p(lx) - math.log1p(ly)),
    ]
    return np.asarray(values, dtype=np.float32)



def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix.reshape(1, -1) if matrix.ndim == 1 else matrix


def pair_features_batch(queries: list[str], query_vecs: np.ndarray, candidates: list[str],
                        candidate_vecs: np.ndarray) -> np.ndarray:
    """Features of the pairs ``(queries[i], candidates[i])``: ``(n, 2 * dim + 1 + N_LEXICAL)`` float32.

    Layout: ``u * v`` | ``|u - v|`` | cosine | lexical features. The vectors are expected to be unit length.
    """
    u, v = _as_matrix(query_vecs), _as_matrix(candidate_vecs)
    if u.shape != v.shape or len(queries) != len(candidates) or u.shape[0] != len(queries):
        raise ValueError(f"mismatched batch: {len(queries)} queries {u.shape}, {len(candidates)} candidates {v.shape}")
    lexical = np.stack([lexical_features(a, b) for a, b in zip(queries, candidates, strict=True)]) if queries \
        else np.zeros((0, N_LEXICAL), dtype=np.float32)
    product = u * v
    cosine = product.sum(axis=1, keepdims=True)
    return np.concatenate([product, np.abs(u - v), cosine, lexical], axis=1).astype(np.float32, copy=False)


def pair_features(query: str, query_vec: np.ndarray, candidate: str, candidate_vec: np.ndarray) -> np.ndarray:
    """The 1-D feature vector of one pair; symmetric: swapping the two sides gives the same vector."""
    return pair_features_batch([query], query_vec, [candidate], candidate_vec)[0]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


class Verifier:
    """A small MLP (or an average of a few) over :func:`pair_features`, with a shipped operating point.

    ``threshold``: the probability at or above which a candidate is accepted (chosen on held-out training
    pairs for ~96-97 % precision). ``min_cosine``: candidates below this cosine are rejected unscored.
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray,
                 b2: np.ndarray, threshold: float, min_cosine: float, metadata: dict[str, Any] | None = None) -> None:
        self.mean = np.asarray(mean, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        # An ensemble axis first: w1 (k, d, h), b1 (k, h), w2 (k, h), b2 (k,).
        self.w1 = np.asarray(w1, dtype=np.float32).reshape((-1, *np.shape(w1)[-2:]))
        self.b1 = np.asarray(b1, dtype=np.float32).reshape(self.w1.shape[0], -1)
        self.w2 = np.asarray(w2, dtype=np.float32).reshape(self.w1.shape[0], -1)
        self.b2 = np.asarray(b2, dtype=np.float32).reshape(self.w1.shape[0])
        if self.mean.shape != (self.w1.shape[1],) or self.scale.shape != self.mean.shape:
            raise ValueError("verifier weights do not fit together")
        self.threshold = float(threshold)
        self.min_cosine = float(min_cosine)
        self.metadata = dict(metadata or {})

    @property
    def n_features(self) -> int:
        return int(self.w1.shape[1])

    @classmethod
    def load(cls, path: Path | str | None = None) -> Verifier:
        """The weights written by ``train_verifier`` (default: the file shipped next to this module)."""
        with np.load(Path(path) if path is not None else DEFAULT_WEIGHTS, allow_pickle=False) as data:
            version = int(data["feature_version"])
            if version != FEATURE_VERSION:
                raise ValueError(f"weights are for feature version {version}, this code computes {FEATURE_VERSION}")
            metadata = {key: data[key].item() for key in data.files if data[key].ndim == 0}
            return cls(data["mean"], data["scale"], data["w1"], data["b1"], data["w2"], data["b2"],
                       threshold=float(data["threshold"]), min_cosine=float(data["min_cosine"]), metadata=metadata)

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for rows of :func:`pair_features_batch` output (no cosine floor applied)."""
        x = (_as_matrix(features) - self.mean) / self.scale
        hidden = np.maximum(np.einsum("nd,kdh->knh", x, self.w1) + self.b1[:, None, :], 0.0)
        logits = np.einsum("knh,kh->kn", hidden, self.w2) + self.b2[:, None]
        return _sigmoid(logits).mean(axis=0).astype(np.float32)

    def score(self, query: str, query_vec: np.ndarray, candidates: list[str],
              candidate_vecs: np.ndarray) -> np.ndarray:
        """P(paraphrase) per candidate, in [0, 1]; 0 for a candidate whose cosine is below ``min_cosine``."""
        vecs = _as_matrix(candidate_vecs)
        qvec = np.asarray(query_vec, dtype=np.float32).reshape(-1)
        scores = np.zeros(len(candidates), dtype=np.float32)
        if not candidates:
            return scores
        keep = np.flatnonzero(vecs @ qvec >= self.min_cosine)
        if keep.size:
            features = pair_features_batch([query] * keep.size, np.broadcast_to(qvec, (keep.size, qvec.size)),
                                           [candidates[i] for i in keep], vecs[keep])
            scores[keep] = self.predict_features(features)
        return scores

    def accepts(self, query: str, query_vec: np.ndarray, candidates: list[str],
                candidate_vecs: np.ndarray) -> np.ndarray:
        """Booleans: may the answer cached for each candidate be served for ``query``?"""
        return self.score(query, query_vec, candidates, candidate_vecs) >= self.threshold

    def best(self, query: str, query_vec: np.ndarray, candidates: list[str],
             candidate_vecs: np.ndarray) -> tuple[int, float] | None:
        """The index and score of the best accepted candidate, or None when none is accepted."""
        scores = self.score(query, query_vec, candidates, candidate_vecs)
        if not scores.size:
            return None
        i = int(np.argmax(scores))
        return (i, float(scores[i])) if scores[i] >= self.threshold else None
