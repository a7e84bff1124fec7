"""The decision stage of the semantic cache: may the answer cached for ``candidate`` be served for ``query``?

A plain cosine threshold on sentence embeddings cannot tell "How do I lose 5 kg in a month?" from "How do I
lose 10 kg in a month?" (cosine 0.87) while it misses many real paraphrases with a lower cosine. The verifier
scores a (query, candidate) pair with an average of a few small one-hidden-layer MLPs over

* symmetric embedding features: ``u * v``, ``|u - v|`` and the cosine, and
* cheap lexical/conflict features: token and character-trigram overlap, numbers that differ, negation
  mismatch, capitalised words (names) found in only one side, swapped direction ("from X to Y" vs "from Y
  to X"), a different question word (what/why/how/...), length ratios, and IDF-weighted overlap (the rarest
  word found on one side only), with a bucketed IDF table shipped in the weights file.

Texts that are equal but for case, spacing and ordinary punctuation score 1.0.

Every feature is symmetric in the two texts, so ``score(a, b) == score(b, a)``. Only numpy is needed at run
time; the weights ship in ``verifier_weights.npz`` next to this module and are reproduced by
``python -m training.cache.train_verifier``.
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURE_VERSION",
    "IDF_BUCKETS",
    "LEXICAL_FEATURE_NAMES",
    "TextInfo",
    "Verifier",
    "analyze",
    "bucket",
    "lexical_features",
    "pair_features",
    "pair_features_batch",
]

FEATURE_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).with_name("verifier_weights.npz")
IDF_BUCKETS = 1 << 16  # word -> crc32 bucket -> inverse document frequency (shipped with the weights)
RARE_IDF = 6.0  # a word at least this rare (df <~ 0.25 %) counts as a "rare word"

_WH_WORDS = ("what", "why", "how", "when", "who", "where", "which", "whom", "whose")
_WH_XOR = _WH_WORDS[:7]
_NEGATIONS = frozenset({"not", "no", "never", "without", "nor", "cannot", "none", "nobody", "nothing", "neither"})
_STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "by", "with", "about", "as", "into", "onto",
    "over", "under", "and", "or", "but", "if", "then", "than", "so", "is", "are", "was", "were", "be", "been",
    "being", "am", "do", "does", "did", "doing", "done", "have", "has", "had", "having", "can", "could", "will",
    "would", "shall", "should", "may", "might", "must", "i", "me", "my", "mine", "we", "us", "our", "you", "your",
    "he", "him", "his", "she", "her", "it", "its", "they", "them", "their", "this", "that", "these", "those",
    "there", "here", "what", "why", "how", "when", "who", "whom", "whose", "where", "which", "some", "any", "all",
    "also", "just", "very", "really", "more", "most", "much", "many", "get", "got", "go", "going", "make", "one",
    "s", "t"
])
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000",
    "billion": "1000000000", "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
}
# "one" is mostly a pronoun ("which one", "someone"); it counts as a number only next to a digit-like context,
# which is too fiddly to detect, so it is left out of the number set.
_AMBIGUOUS_NUMBER_WORDS = frozenset({"one", "first", "second"})

# Words of any script; "c++", "c#" and "z+" keep their suffix so that "C" and "C++" stay different words.
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?[+#]*")
# What is left of a text without spacing and ordinary punctuation: "complex ?" and "complex?" are the same
# question, "What does ~ mean?" and "What does % mean?" are not.
_NOT_KEY = re.compile(r"[\s.,?!;:'\"()\[\]{}\-]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9&.\-+#]*")
# Ordered relations: swapping the two sides changes the meaning.
_DIRECTED = (
    re.compile(r"\bfrom (\S+(?: \S+)?) (?:to|into|in) (\S+)"),
    re.compile(r"\b(\S+) (?:better|worse|bigger|smaller|more|less|faster|slower|cheaper|stronger|higher|"
               r"lower|greater)\b(?: \S+)? than (\S+)"),
    re.compile(r"\bconvert(?:ing)? (\S+) (?:to|into) (\S+)"),
)
# Unordered relations: "X vs Y" usually means the same as "Y vs X", but a swap is still a (weak) signal.
_UNDIRECTED = (
    re.compile(r"\b(\S+) (?:vs\.?|versus|or) (\S+)"),
    re.compile(r"\bbetween (\S+) and (\S+)"),
)


@functools.lru_cache(maxsize=1 << 17)
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

    key: str  # lower-cased text without spacing and ordinary punctuation
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
    n_tokens: int  # at least 1
    buckets: dict[str, int]  # stem -> IDF bucket, for every stem in ``stems``


@functools.lru_cache(maxsize=1 << 17)
def bucket(word: str) -> int:
    """The IDF bucket of a stemmed word (crc32: stable across processes, unlike ``hash``)."""
    return zlib.crc32(word.encode("utf-8")) & (IDF_BUCKETS - 1)


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
    trigrams = frozenset({squashed[i:i + 3] for i in range(max(len(squashed) - 2, 1))})
    normal = squashed
    stems = frozenset(_stem(t) for t in tokens)
    directed = {(_stem(x.split()[-1]), _stem(y)) for rx in _DIRECTED for x, y in rx.findall(normal)}
    undirected = {(_stem(x), _stem(y)) for rx in _UNDIRECTED for x, y in rx.findall(normal)}
    return TextInfo(
        key=_NOT_KEY.sub("", lowered), tokens=tokens, token_set=frozenset(tokens), stems=stems, content=content,
        content_set=frozenset(content),
        numbers=frozenset(numbers), negations=negations, names=frozenset(names), wh=wh, first_wh=first_wh,
        trigrams=trigrams, directed=frozenset(d for d in directed if d[0] != d[1]),
        undirected=frozenset(d for d in undirected if d[0] != d[1]), n_chars=len(text),
        n_tokens=max(len(tokens), 1), buckets={w: bucket(w) for w in stems},
    )


def _jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return shared / union if union else 1.0


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


def _swapped(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> bool:
    """Does ``b`` hold a relation of ``a`` the other way round (and none the same way)?"""
    return bool(a) and bool(b) and any((y, x) in b for x, y in a) and not (a & b)


LEXICAL_FEATURE_NAMES = (
    "token_jaccard", "token_overlap", "content_jaccard", "content_overlap", "trigram_jaccard",
    "content_only_min", "content_only_max", "content_only_min_frac", "content_only_max_frac",
    "same_text", "same_content",
    "numbers_any", "numbers_both", "numbers_differ", "numbers_one_side", "numbers_only_count",
    "negation_mismatch", "negation_any",
    "names_any", "names_only_min", "names_only_max", "names_jaccard",
    "wh_first_differ", "wh_xor_count",
    *(f"wh_xor_{w}" for w in _WH_XOR),
    "order_discordance", "directed_swap", "undirected_swap",
    "len_ratio_tokens", "len_ratio_chars", "log_len_min", "log_len_max", "log_len_absdiff",
    "idf_jaccard", "idf_only_max_min", "idf_only_max_max", "idf_only_sum_min", "idf_only_sum_max",
    "rare_only_min", "rare_only_max", "idf_only_frac_sum", "same_first_word", "same_last_word",
)
N_LEXICAL = len(LEXICAL_FEATURE_NAMES)
_SAME_TEXT = -N_LEXICAL + LEXICAL_FEATURE_NAMES.index("same_text")  # its column, from the end of a row


@functools.cache
def _flat_idf() -> np.ndarray:
    return np.full(IDF_BUCKETS, RARE_IDF, dtype=np.float32)


@functools.cache
def _shipped_idf() -> np.ndarray:
    """The IDF table of the shipped weights (a flat one when no weights file is there yet)."""
    if not DEFAULT_WEIGHTS.exists():
        return _flat_idf()
    with np.load(DEFAULT_WEIGHTS, allow_pickle=False) as data:
        return np.asarray(data["idf"], dtype=np.float32)


_IDF_LISTS: dict[int, tuple[np.ndarray, list[float]]] = {}


def _idf_list(idf: np.ndarray) -> list[float]:
    """The table as a Python list (indexing a list is much cheaper than indexing an array), per table."""
    cached = _IDF_LISTS.get(id(idf))
    if cached is None or cached[0] is not idf:
        if len(_IDF_LISTS) > 8:
            _IDF_LISTS.clear()
        cached = _IDF_LISTS[id(idf)] = (idf, np.asarray(idf, dtype=np.float64).tolist())
    return cached[1]


def _idf_features(x: TextInfo, y: TextInfo, table: list[float]) -> list[float]:
    shared = x.stems & y.stems
    bx, by = x.buckets, y.buckets
    shared_weight = sum([table[bx[w]] for w in shared])
    only_x = [table[bx[w]] for w in x.stems - shared]
    only_y = [table[by[w]] for w in y.stems - shared]
    sum_x, sum_y = sum(only_x), sum(only_y)
    union_weight = shared_weight + sum_x + sum_y
    max_x, max_y = max(only_x, default=0.0), max(only_y, default=0.0)
    rare_x, rare_y = sum([v > RARE_IDF for v in only_x]), sum([v > RARE_IDF for v in only_y])
    return [
        shared_weight / union_weight if union_weight else 1.0,
        min(max_x, max_y), max(max_x, max_y), min(sum_x, sum_y), max(sum_x, sum_y),
        float(min(rare_x, rare_y)), float(max(rare_x, rare_y)),
        sum_x / (shared_weight + sum_x + 1e-6) + sum_y / (shared_weight + sum_y + 1e-6),
        float(x.tokens[:1] == y.tokens[:1]), float(x.tokens[-1:] == y.tokens[-1:]),
    ]


def _lexical_values(x: TextInfo, y: TextInfo, table: list[float]) -> list[float]:
    """The values of LEXICAL_FEATURE_NAMES, in order, for two analysed texts."""
    cx, cy = x.content_set, y.content_set
    shared_content = len(cx & cy)
    only_x, only_y = len(cx) - shared_content, len(cy) - shared_content
    nx, ny = max(len(cx), 1), max(len(cy), 1)
    nums_x, nums_y = x.numbers, y.numbers
    names_only_x, names_only_y = len(x.names - y.stems), len(y.names - x.stems)
    wh_xor = x.wh ^ y.wh
    lx, ly = x.n_tokens, y.n_tokens
    log_x, log_y = math.log1p(lx), math.log1p(ly)
    values = [
        _jaccard(x.token_set, y.token_set),
        _overlap(x.token_set, y.token_set),
        shared_content / (len(cx) + len(cy) - shared_content) if cx or cy else 1.0,
        shared_content / min(len(cx), len(cy)) if cx and cy else float(len(cx) == len(cy)),
        _jaccard(x.trigrams, y.trigrams),
        float(min(only_x, only_y)),
        float(max(only_x, only_y)),
        min(only_x / nx, only_y / ny),
        max(only_x / nx, only_y / ny),
        float(bool(x.key) and x.key == y.key),
        float(cx == cy),
        float(bool(nums_x or nums_y)),
        float(bool(nums_x and nums_y)),
        float(bool(nums_x and nums_y and nums_x != nums_y)),
        float(bool(nums_x) != bool(nums_y)),
        float(min(len(nums_x ^ nums_y), 3)),
        float((x.negations > 0) != (y.negations > 0)),
        float(x.negations > 0 or y.negations > 0),
        float(bool(x.names or y.names)),
        float(min(names_only_x, names_only_y, 3)),
        float(min(max(names_only_x, names_only_y), 3)),
        _jaccard(x.names, y.names),
        float(bool(x.first_wh and y.first_wh and x.first_wh != y.first_wh)),
        float(len(wh_xor)),
    ]
    values += [float(w in wh_xor) for w in _WH_XOR]
    values += [
        _discordance(x.content, y.content),
        float(_swapped(x.directed, y.directed) or _swapped(y.directed, x.directed)),
        float(_swapped(x.undirected, y.undirected) or _swapped(y.undirected, x.undirected)),
        min(lx, ly) / max(lx, ly),
        min(x.n_chars, y.n_chars) / max(x.n_chars, y.n_chars, 1),
        min(log_x, log_y),
        max(log_x, log_y),
        abs(log_x - log_y),
    ]
    values += _idf_features(x, y, table)
    return values


def lexical_features(a: str, b: str, idf: np.ndarray | None = None) -> np.ndarray:
    """The symmetric lexical/conflict features of a pair (``N_LEXICAL`` float32 values).

    ``idf``: the ``IDF_BUCKETS`` table to weight words by rarity (default: the shipped one).
    """
    table = _idf_list(_shipped_idf() if idf is None else idf)
    return np.asarray(_lexical_values(analyze(a), analyze(b), table), dtype=np.float32)


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix.reshape(1, -1) if matrix.ndim == 1 else matrix


def pair_features_batch(queries: list[str], query_vecs: np.ndarray, candidates: list[str],
                        candidate_vecs: np.ndarray, idf: np.ndarray | None = None) -> np.ndarray:
    """Features of the pairs ``(queries[i], candidates[i])``: ``(n, 2 * dim + 1 + N_LEXICAL)`` float32.

    Layout: ``u * v`` | ``|u - v|`` | cosine | lexical features. The vectors are expected to be unit length.
    """
    u, v = _as_matrix(query_vecs), _as_matrix(candidate_vecs)
    if u.shape != v.shape or len(queries) != len(candidates) or u.shape[0] != len(queries):
        raise ValueError(f"mismatched batch: {len(queries)} queries {u.shape}, {len(candidates)} candidates {v.shape}")
    table = _idf_list(_shipped_idf() if idf is None else idf)
    rows = [_lexical_values(analyze(a), analyze(b), table) for a, b in zip(queries, candidates, strict=True)]
    lexical = np.array(rows, dtype=np.float32).reshape(len(queries), N_LEXICAL)
    product = u * v
    cosine = product.sum(axis=1, keepdims=True)
    return np.concatenate([product, np.abs(u - v), cosine, lexical], axis=1).astype(np.float32, copy=False)


def pair_features(query: str, query_vec: np.ndarray, candidate: str, candidate_vec: np.ndarray,
                  idf: np.ndarray | None = None) -> np.ndarray:
    """The 1-D feature vector of one pair; symmetric: swapping the two sides gives the same vector."""
    return pair_features_batch([query], query_vec, [candidate], candidate_vec, idf)[0]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


class Verifier:
    """An average of a few small MLPs over :func:`pair_features`, with a shipped operating point.

    ``threshold``: the probability at or above which a candidate is accepted, chosen on validation pairs for
    0.95 class-balanced precision between clean paraphrases and near misses (see ``train_verifier``).
    ``min_cosine``: candidates below this cosine are rejected unscored (score 0).
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray,
                 b2: np.ndarray, threshold: float, min_cosine: float, idf: np.ndarray | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.mean = np.asarray(mean, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        # An ensemble axis first: w1 (k, d, h), b1 (k, h), w2 (k, h), b2 (k,).
        self.w1 = np.asarray(w1, dtype=np.float32).reshape((-1, *np.shape(w1)[-2:]))
        self.b1 = np.asarray(b1, dtype=np.float32).reshape(self.w1.shape[0], -1)
        self.w2 = np.asarray(w2, dtype=np.float32).reshape(self.w1.shape[0], -1)
        self.b2 = np.asarray(b2, dtype=np.float32).reshape(self.w1.shape[0])
        # All members' first layers stacked: one (k * h, d) @ (d, n) product per batch (this orientation is
        # several times faster than (n, d) @ (d, k * h) for a handful of rows).
        self._w1_stacked = np.ascontiguousarray(self.w1.transpose(0, 2, 1).reshape(-1, self.w1.shape[1]))
        if self.mean.shape != (self.w1.shape[1],) or self.scale.shape != self.mean.shape:
            raise ValueError("verifier weights do not fit together")
        self.threshold = float(threshold)
        self.min_cosine = float(min_cosine)
        self.idf = _flat_idf() if idf is None else np.asarray(idf, dtype=np.float32)
        if self.idf.shape != (IDF_BUCKETS,):
            raise ValueError(f"the IDF table must have {IDF_BUCKETS} buckets")
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
                       threshold=float(data["threshold"]), min_cosine=float(data["min_cosine"]), idf=data["idf"],
                       metadata=metadata)

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for rows of :func:`pair_features_batch` output (no cosine floor applied)."""
        features = _as_matrix(features)
        x = (features - self.mean) / self.scale
        hidden = (self._w1_stacked @ x.T).reshape(*self.b1.shape, len(x))  # (k, h, n)
        hidden = np.maximum(hidden + self.b1[:, :, None], 0.0)
        logits = np.einsum("khn,kh->kn", hidden, self.w2) + self.b2[:, None]
        scores = _sigmoid(logits).mean(axis=0).astype(np.float32)
        # The same text but for case, spacing and ordinary punctuation is the same question.
        scores[features[:, _SAME_TEXT] == 1.0] = 1.0
        return scores

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
                                           [candidates[i] for i in keep], vecs[keep], self.idf)
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
