"""Rule-made near misses: one small edit that changes what a question asks, for the verifier's hard negatives.

``perturb(text, rng)`` applies ONE edit (tried in a random order until one changes the text) and returns
``(kind, new_text)`` or ``None``:

* ``qualifier``: append/insert a qualifier ("for contractors", "in Europe", "without a degree", ...), or
  remove one the text already has;
* ``number``: change a number (digits, years, number words);
* ``entity``: swap a named entity for another of the same kind (country, city, language, company, product,
  person, month);
* ``negation``: insert or remove a negation;
* ``antonym``: replace a word by its antonym (buy/sell, increase/decrease, best/worst, before/after, ...);
* ``direction``: swap the sides of "from X to Y" / "convert X to Y" / "X to Y".

All of them are labelled "not a paraphrase". ``swap_undirected`` (swap the sides of "X vs Y", "X or Y",
"between X and Y") is returned only by :func:`undirected_swap` and is a *paraphrase*: "Python or Java?" asks
the same as "Java or Python?".

Deterministic for a given ``random.Random``; the lists are the project's own.
"""

from __future__ import annotations

import random
import re

__all__ = ["KINDS", "perturb", "undirected_swap"]

QUALIFIERS = (
    "for contractors", "in Europe", "for beginners", "without a degree", "for kids", "for students",
    "in India", "in the US", "on Windows", "on a Mac", "on Linux", "at night", "in winter", "in summer",
    "for free", "for a small business", "for seniors", "for women", "for men", "during pregnancy",
    "after surgery", "in 2010", "in the 1990s", "without a car", "on a budget", "with no experience",
    "in a week", "in one day", "at home", "at work", "online", "offline", "for part-time employees",
    "for international students", "in Canada", "in Australia", "for a startup", "with a bad credit score",
    "on Android", "on iPhone", "in Python", "in Java", "for dogs", "for cats", "in the UK", "in Germany",
    "as a teenager", "after 40", "before an interview", "without money", "for an exam", "in the military",
    "for remote teams", "in a hospital", "in rural areas", "for vegetarians", "in cold weather",
    "with diabetes", "for the first time", "legally", "quickly", "in Japan", "for government employees",
)
ENTITIES = {
    "country": ("France", "Germany", "India", "China", "Japan", "Brazil", "Canada", "Australia", "Russia",
                "Mexico", "Italy", "Spain", "Pakistan", "Nigeria", "Egypt", "Kenya", "Sweden", "Norway",
                "Poland", "Turkey", "Iran", "Israel", "Argentina", "Indonesia", "Vietnam", "Thailand",
                "Singapore", "Ireland", "Portugal", "Greece", "Bangladesh", "Nepal", "Korea", "Ukraine"),
    "city": ("London", "Paris", "Berlin", "Tokyo", "Mumbai", "Delhi", "Bangalore", "Chennai", "Beijing",
             "Shanghai", "Sydney", "Toronto", "Chicago", "Boston", "Seattle", "Dubai", "Moscow", "Rome",
             "Madrid", "Amsterdam", "Hyderabad", "Pune", "Kolkata", "Los Angeles", "New York",
             "San Francisco", "Singapore City", "Vancouver", "Melbourne", "Istanbul"),
    "language": ("Python", "Java", "JavaScript", "C++", "C#", "Ruby", "PHP", "Rust", "Kotlin", "Scala",
                 "Perl", "Haskell", "MATLAB", "TypeScript", "Swift", "Golang", "SQL", "HTML", "Fortran"),
    "language_lc": ("python", "java", "javascript", "c++", "ruby", "php", "rust", "kotlin", "scala", "perl",
                    "haskell", "matlab", "typescript", "golang", "sql", "html"),
    "spoken": ("English", "French", "German", "Spanish", "Hindi", "Chinese", "Japanese", "Russian", "Arabic",
               "Portuguese", "Italian", "Korean", "Tamil", "Telugu", "Bengali", "Urdu", "Dutch", "Mandarin"),
    "company": ("Google", "Microsoft", "Amazon", "Apple", "Facebook", "Netflix", "Tesla", "IBM", "Intel",
                "Oracle", "Samsung", "Infosys", "TCS", "Wipro", "Accenture", "Deloitte", "Uber", "Airbnb",
                "Twitter", "Quora", "Flipkart", "Adobe", "Cisco", "Nvidia", "Walmart", "Goldman Sachs"),
    "product": ("iPhone", "iPad", "Android", "Windows", "Linux", "Ubuntu", "MacBook", "Chrome", "Firefox",
                "WhatsApp", "Instagram", "YouTube", "Excel", "Photoshop", "PlayStation", "Xbox", "Kindle",
                "Gmail", "Skype", "Snapchat", "Telegram", "Spotify", "Bitcoin", "Ethereum", "Galaxy S7"),
    "person": ("Trump", "Obama", "Hillary Clinton", "Modi", "Putin", "Elon Musk", "Bill Gates",
               "Steve Jobs", "Mark Zuckerberg", "Einstein", "Newton", "Gandhi", "Shakespeare", "Messi",
               "Ronaldo", "Lincoln", "Churchill", "Hitler", "Napoleon", "Rahul Gandhi", "Kejriwal",
               "Sachin Tendulkar", "Warren Buffett", "Jeff Bezos", "Taylor Swift", "Batman", "Superman"),
    "month": ("January", "February", "March", "April", "June", "July", "August", "September", "October",
              "November", "December"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
ANTONYMS = (
    ("buy", "sell"), ("buying", "selling"), ("increase", "decrease"), ("increasing", "decreasing"),
    ("best", "worst"), ("before", "after"), ("advantages", "disadvantages"), ("pros", "cons"),
    ("gain", "lose"), ("gaining", "losing"), ("win", "lose"), ("good", "bad"), ("better", "worse"),
    ("rich", "poor"), ("cheap", "expensive"), ("cheapest", "most expensive"), ("fast", "slow"),
    ("faster", "slower"), ("easy", "hard"), ("easiest", "hardest"), ("high", "low"), ("higher", "lower"),
    ("start", "stop"), ("begin", "end"), ("open", "close"), ("import", "export"), ("male", "female"),
    ("men", "women"), ("boy", "girl"), ("boys", "girls"), ("husband", "wife"), ("old", "young"),
    ("older", "younger"), ("oldest", "youngest"), ("big", "small"), ("bigger", "smaller"),
    ("biggest", "smallest"), ("largest", "smallest"), ("long", "short"), ("longer", "shorter"),
    ("hot", "cold"), ("positive", "negative"), ("love", "hate"), ("accept", "reject"),
    ("add", "remove"), ("enable", "disable"), ("upload", "download"), ("input", "output"),
    ("legal", "illegal"), ("safe", "dangerous"), ("strong", "weak"), ("strengths", "weaknesses"),
    ("success", "failure"), ("happy", "sad"), ("light", "dark"), ("left", "right"), ("north", "south"),
    ("east", "west"), ("first", "last"), ("most", "least"), ("more", "less"), ("maximum", "minimum"),
    ("private", "public"), ("online", "offline"), ("inside", "outside"), ("early", "late"),
    ("morning", "evening"), ("true", "false"), ("up", "down"), ("lend", "borrow"), ("teach", "learn"),
    ("hire", "fire"), ("join", "leave"), ("push", "pull"), ("input", "output"), ("wet", "dry"),
    ("heavy", "light"), ("increase", "reduce"), ("raise", "lower"), ("arrive", "depart"),
)
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty", "fifty",
                "hundred")
_AUX = ("is", "are", "was", "were", "can", "could", "should", "would", "will", "do", "does", "did", "has",
        "have", "must")
_NEG_OF = {a: ("can't" if a == "can" else "won't" if a == "will" else a + "n't") for a in _AUX}
_NEG_OF["am"] = "am not"
KINDS = ("qualifier", "number", "entity", "negation", "antonym", "direction")

_BOUND_L, _BOUND_R = r"(?<![\w+#])", r"(?![\w+#])"
_ENTITY_RE = {kind: re.compile(_BOUND_L + "(" + "|".join(re.escape(e) for e in sorted(v, key=len, reverse=True))
                                + ")" + _BOUND_R) for kind, v in ENTITIES.items()}
_ANTONYM_OF: dict[str, list[str]] = {}
for _x, _y in ANTONYMS:
    _ANTONYM_OF.setdefault(_x, []).append(_y)
    _ANTONYM_OF.setdefault(_y, []).append(_x)
_ANTONYM_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(_ANTONYM_OF, key=len, reverse=True))
                         + r")\b", re.IGNORECASE)
_QUALIFIER_RE = re.compile(r"\s(" + "|".join(re.escape(q) for q in QUALIFIERS) + r")\b", re.IGNORECASE)
_DIGITS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\d])")
_NUMWORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(\w+n't|not|never|without)\b", re.IGNORECASE)
_AUX_RE = re.compile(r"\b(" + "|".join(_AUX) + r")\b", re.IGNORECASE)
_WORD = r"([A-Za-z][\w+#.-]*)"
_DIRECTED = (
    re.compile(r"\bfrom " + _WORD + r" to " + _WORD),
    re.compile(r"\b(convert(?:ing)?|translate|translating|switch(?:ing)?|move|moving|migrate|migrating) "
               + _WORD + r" (to|into) " + _WORD, re.IGNORECASE),
)
_UNDIRECTED = (
    re.compile(r"\bbetween " + _WORD + r" and " + _WORD),
    re.compile(r"\b" + _WORD + r" (vs\.?|versus|or) " + _WORD),
)
_STOP = frozenset({"a", "an", "the", "i", "you", "we", "it", "to", "and", "or", "is", "be", "how", "what", "go",
                   "do", "get", "me", "my", "your", "can", "this", "that", "not", "more", "less", "one"})


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _qualifier(text: str, rng: random.Random) -> str | None:
    found = list(_QUALIFIER_RE.finditer(text))
    if found and rng.random() < 0.3:
        m = rng.choice(found)
        return text[:m.start()] + text[m.end():]
    q = rng.choice(QUALIFIERS)
    if q.lower() in text.lower():
        return None
    body = text.rstrip()
    end = ""
    while body and body[-1] in "?.!":
        end = body[-1] + end
        body = body[:-1]
    if not body:
        return None
    if rng.random() < 0.25 and "," not in body:
        # insert after the first clause-ish word boundary past the middle, when there is one
        words = body.split()
        if len(words) >= 6:
            cut = rng.randrange(len(words) // 2, len(words))
            return " ".join(words[:cut] + [q] + words[cut:]) + end
    return f"{body} {q}{end or ''}"


def _number(text: str, rng: random.Random) -> str | None:
    found = list(_DIGITS.finditer(text))
    if found:
        m = rng.choice(found)
        s = m.group(1)
        if "." in s:
            new = f"{float(s) * rng.choice((2, 0.5, 1.5, 3)):g}"
        else:
            n = int(s)
            if 1900 <= n <= 2030:
                new = str(n + rng.choice((-10, -5, -3, -2, -1, 1, 2, 3, 5)))
            elif n == 0:
                new = str(rng.choice((1, 2, 5, 10)))
            else:
                new = str(max(1, rng.choice((n * 2, n + 1, max(n - 1, 1), n * 10, n // 2 or 3, n + 5))))
        if new == s:
            new = str(int(float(s)) + 7)
        return text[:m.start(1)] + new + text[m.end(1):]
    found = list(_NUMWORD_RE.finditer(text))
    if found:
        m = rng.choice(found)
        choices = [w for w in NUMBER_WORDS if w != m.group(1).lower()]
        return text[:m.start(1)] + _match_case(rng.choice(choices), m.group(1)) + text[m.end(1):]
    return None


def _entity(text: str, rng: random.Random) -> str | None:
    options = [(kind, m) for kind, rx in _ENTITY_RE.items() for m in rx.finditer(text)]
    if not options:
        return None
    kind, m = rng.choice(options)
    present = set(_ENTITY_RE[kind].findall(text))
    choices = [e for e in ENTITIES[kind] if e not in present]
    return text[:m.start(1)] + rng.choice(choices) + text[m.end(1):]


def _negation(text: str, rng: random.Random) -> str | None:
    m = _NEGATED.search(text)
    if m:
        word = m.group(1)
        low = word.lower()
        if low == "without":
            new = "with"
        elif low in ("not", "never"):
            return re.sub(r"\s+", " ", text[:m.start()] + text[m.end():]).replace(" ?", "?").strip()
        elif low == "can't":
            new = "can"
        elif low == "won't":
            new = "will"
        else:
            new = word[:-3]
        return text[:m.start(1)] + _match_case(new, word) + text[m.end(1):]
    m = _AUX_RE.search(text)
    if m:
        word = m.group(1)
        after = re.match(r" (I|you|we|they|he|she|it|one) ", text[m.end(1):])
        if after:  # "How do I lose ..." -> "How do I not lose ..."
            cut = m.end(1) + after.end()
            return text[:cut] + "not " + text[cut:]
        return text[:m.start(1)] + _match_case(_NEG_OF[word.lower()], word) + text[m.end(1):]
    m = re.search(r"\bwith\b", text)
    if m:
        return text[:m.start()] + "without" + text[m.end():]
    return None


def _antonym(text: str, rng: random.Random) -> str | None:
    found = list(_ANTONYM_RE.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    word = m.group(1)
    return text[:m.start(1)] + _match_case(rng.choice(_ANTONYM_OF[word.lower()]), word) + text[m.end(1):]


def _swap_sides(text: str, patterns: tuple[re.Pattern[str], ...]) -> str | None:
    for rx in patterns:
        for m in rx.finditer(text):
            groups = [i for i in range(1, (m.lastindex or 0) + 1)]
            words = [i for i in groups if rx.pattern.count("(") and m.group(i) and m.group(i)[:1].isalpha()
                     and m.group(i).lower() not in ("to", "into", "vs", "vs.", "versus", "or")
                     and not m.group(i).lower().startswith(("convert", "translat", "switch", "mov", "migrat"))]
            if len(words) < 2:
                continue
            i, j = words[-2], words[-1]
            x, y = m.group(i), m.group(j)
            if x.lower() == y.lower() or x.lower() in _STOP or y.lower() in _STOP:
                continue
            (a0, a1), (b0, b1) = m.span(i), m.span(j)
            return text[:a0] + y + text[a1:b0] + x + text[b1:]
    return None


def _direction(text: str, rng: random.Random) -> str | None:
    return _swap_sides(text, _DIRECTED)


def undirected_swap(text: str) -> str | None:
    """"X vs Y" -> "Y vs X" (and "X or Y", "between X and Y"): the same question, a positive pair."""
    new = _swap_sides(text, _UNDIRECTED)
    return new if new and new != text else None


_EDITS = {"qualifier": _qualifier, "number": _number, "entity": _entity, "negation": _negation,
          "antonym": _antonym, "direction": _direction}
# The specific edits first when they apply (they are the hard cases); the qualifier always applies.
_PRIORITY = ("number", "entity", "direction", "antonym", "negation")


def perturb(text: str, rng: random.Random, kind: str | None = None) -> tuple[str, str] | None:
    """One near-miss edit of ``text``: ``(kind, new_text)``, or None when no edit changes it."""
    if kind is not None:
        order = [kind]
    else:
        specific = [k for k in _PRIORITY if rng.random() < (0.3 if k == "negation" else 0.8)]
        rng.shuffle(specific)
        order = specific + ["qualifier"] + [k for k in _PRIORITY if k not in specific]
    for k in order:
        new = _EDITS[k](text, rng)
        if new is not None:
            new = re.sub(r"\s{2,}", " ", new).strip()
            if new and new != text.strip() and new.lower() != text.strip().lower():
                return k, new
    return None
