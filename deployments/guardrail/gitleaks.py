"""gitleaks' rule set, read from its TOML config at load time.

Each rule is a Go RE2 regex with lowercase ``keywords``: gitleaks runs a rule only when
the lowercased text contains one of them, which is what keeps 200+ rules cheap. All
keywords are found in one pass with an RE2 set. Regexes are compiled with RE2
(``google-re2``), the engine they are written for; where that binding is missing they
are translated to Python ``re`` and rules that still fail to compile are skipped and
counted. A match becomes a finding only after gitleaks' own filters: the secret
capture group, the rule's ``entropy`` threshold (generic rules also need a digit), the
global and per-rule allowlists and stopwords. Rules that need a file path cannot apply
to a prompt and are skipped.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deployments.guardrail.values import shannon_entropy

__all__ = [
    "DEFAULT_RULES_PATH",
    "GitleaksMatch",
    "GitleaksRule",
    "GitleaksRules",
    "line_around",
    "translate_go_regex",
]

DEFAULT_RULES_PATH = Path(__file__).parent / "rules" / "gitleaks.toml"


class _Match(Protocol):
    def span(self, group: int = 0) -> tuple[int, int]: ...


class _Pattern(Protocol):
    @property
    def groups(self) -> int: ...

    def search(self, text: str) -> Any: ...

    def finditer(self, text: str) -> Iterator[Any]: ...


def _compile_re2() -> Callable[[str], _Pattern] | None:
    try:
        import re2
    except ImportError:
        return None
    options = re2.Options()
    options.log_errors = False

    def compile_(pattern: str) -> _Pattern:
        try:
            return re2.compile(pattern, options)  # type: ignore[no-any-return]
        except re2.error as exc:
            raise ValueError(str(exc)) from exc

    return compile_


def _compile_stdlib(pattern: str) -> _Pattern:
    with warnings.catch_warnings():
        # Go classes such as [[:alnum:]] read as "possible nested set" to re.
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(translate_go_regex(pattern), re.ASCII)


_POSIX = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "lower": "a-z",
    "upper": "A-Z",
    "space": r"\s",
    "xdigit": "0-9a-fA-F",
    "punct": r"!-/:-@\[-`{-~",
    "word": r"\w",
}


def translate_go_regex(pattern: str) -> str:
    """Rewrite the RE2 constructs that Python's ``re`` reads differently.

    Inline flags in mid-pattern (``ab(?i)cd``) apply to the rest of the enclosing group
    in RE2; they become a scoped group, reopened after each ``|``. ``\\z`` becomes ``\\Z``
    and POSIX classes are expanded.
    """
    out: list[str] = []
    scoped: list[list[str]] = [[]]  # per open group: the scoped flag groups opened in it
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            out.append(r"\Z" if pattern[i + 1] == "z" else pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            posix = re.match(r"\[:(\w+):\]", pattern[i:])
            if posix and posix.group(1) in _POSIX:
                out.append(_POSIX[posix.group(1)])
                i += posix.end()
                continue
            in_class = ch != "]"
            out.append("\\[" if ch == "[" else ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        flags = re.match(r"\(\?([imsU-]+)\)", pattern[i:])
        if flags and out:
            opener = f"(?{flags.group(1).replace('U', '')}:"
            out.append(opener)
            scoped[-1].append(opener)
            i += flags.end()
            continue
        if ch == "(":
            scoped.append([])
        elif ch == "|":
            out.append(")" * len(scoped[-1]) + "|" + "".join(scoped[-1]))
            i += 1
            continue
        elif ch == ")":
            out.append(")" * len(scoped.pop()) if len(scoped) > 1 else "")
        out.append(ch)
        i += 1
    out.append(")" * len(scoped[0]))
    return "".join(out)


@dataclass(frozen=True)
class _Allowlist:
    regexes: tuple[_Pattern, ...]
    target: str
    stopwords: Callable[[str], list[str]] | None
    all_required: bool

    def allows(self, secret: str, match: str, line: str) -> bool:
        subject = {"match": match, "line": line}.get(self.target, secret)
        checks: list[Callable[[], bool]] = []
        if self.regexes:
            checks.append(lambda: any(r.search(subject) for r in self.regexes))
        if self.stopwords is not None:
            find = self.stopwords
            checks.append(lambda: bool(find(secret.lower())))
        if not checks:
            return False
        return all(c() for c in checks) if self.all_required else any(c() for c in checks)


@dataclass(frozen=True)
class GitleaksRule:
    """One compiled gitleaks rule."""

    id: str
    regex: _Pattern
    keywords: tuple[str, ...]
    entropy: float
    secret_group: int
    allowlists: tuple[_Allowlist, ...] = ()


@dataclass(frozen=True, slots=True)
class GitleaksMatch:
    """The secret part of a rule match: ``text[start:end] == secret``."""

    rule_id: str
    start: int
    end: int
    secret: str


@dataclass
class GitleaksRules:
    """The compiled rule set with its keyword index and global allowlist."""

    rules: list[GitleaksRule]
    global_allowlist: _Allowlist
    skipped: dict[str, str] = field(default_factory=dict)
    engine: str = "re2"

    def __post_init__(self) -> None:
        self._by_id = {rule.id: rule for rule in self.rules}
        self._by_keyword: dict[str, list[GitleaksRule]] = {}
        self._always: list[GitleaksRule] = []
        for rule in self.rules:
            if not rule.keywords:
                self._always.append(rule)
            for keyword in rule.keywords:
                self._by_keyword.setdefault(keyword, []).append(rule)
        self._find_keywords = _keyword_finder(list(self._by_keyword))

    @classmethod
    def load(cls, path: Path | str = DEFAULT_RULES_PATH, *, engine: str = "auto") -> GitleaksRules:
        """Parse a gitleaks TOML config; ``engine`` is ``auto``, ``re2`` or ``re``."""
        compile_re2 = _compile_re2() if engine in ("auto", "re2") else None
        if engine == "re2" and compile_re2 is None:
            raise ValueError("engine='re2' needs the google-re2 package; install it or use engine='re'")
        compile_ = compile_re2 or _compile_stdlib
        with open(path, "rb") as fh:
            config = tomllib.load(fh)
        skipped: dict[str, str] = {}
        rules: list[GitleaksRule] = []
        for raw in config.get("rules", []):
            rule_id = str(raw["id"])
            if "path" in raw or "regex" not in raw:
                skipped[rule_id] = "needs a file path"
                continue
            try:
                rules.append(
                    GitleaksRule(
                        id=rule_id,
                        regex=compile_(raw["regex"]),
                        keywords=tuple(k.lower() for k in raw.get("keywords", [])),
                        entropy=float(raw.get("entropy", 0.0)),
                        secret_group=int(raw.get("secretGroup", 0)),
                        allowlists=tuple(_allowlist(a, compile_) for a in raw.get("allowlists", []) if _usable(a)),
                    )
                )
            except (re.error, ValueError) as exc:
                skipped[rule_id] = f"regex does not compile: {exc}"
        global_allowlist = _allowlist(config.get("allowlist", {}), compile_)
        return cls(rules, global_allowlist, skipped, "re2" if compile_re2 else "re")

    def triggered(self, lowered: str) -> list[GitleaksRule]:
        """Rules whose keywords occur in the lowercased text, in config order, each once."""
        seen: dict[str, GitleaksRule] = {r.id: r for r in self._always}
        for keyword in self._find_keywords(lowered):
            for rule in self._by_keyword[keyword]:
                seen.setdefault(rule.id, rule)
        return list(seen.values())

    def find(self, text: str) -> Iterator[GitleaksMatch]:
        """Every match that survives gitleaks' filters."""
        for rule in self.triggered(text.lower()):
            for m in rule.regex.finditer(text):
                span = _secret_span(m, rule)
                if span is None:
                    continue
                start, end = span
                secret = text[start:end]
                if rule.entropy and (
                    shannon_entropy(secret) <= rule.entropy
                    or (rule.id.startswith("generic") and not any(c.isdigit() for c in secret))
                ):
                    continue
                whole = text[m.span()[0] : m.span()[1]]
                if self.allowlisted(rule.id, secret, whole, line_around(text, start, end)):
                    continue
                yield GitleaksMatch(rule.id, start, end, secret)

    def allowlisted(self, rule_id: str, secret: str, match: str, line: str) -> bool:
        """Whether the global allowlist or ``rule_id``'s own allowlists let this secret pass.

        Also used for findings of other detectors that stand in for a gitleaks rule, so
        that gitleaks' curated exceptions apply to them too.
        """
        if self.global_allowlist.allows(secret, match, line):
            return True
        rule = self._by_id.get(rule_id)
        return rule is not None and any(a.allows(secret, match, line) for a in rule.allowlists)


def line_around(text: str, start: int, end: int) -> str:
    """The line (or lines) of ``text`` that hold ``[start, end)``."""
    line_end = text.find("\n", end)
    return text[text.rfind("\n", 0, start) + 1 : line_end if line_end >= 0 else len(text)]


def _secret_span(m: _Match, rule: GitleaksRule) -> tuple[int, int] | None:
    groups = rule.regex.groups
    if groups == 0:
        return m.span()
    if rule.secret_group:
        if rule.secret_group > groups:
            return None
        span = m.span(rule.secret_group)
        return span if span[0] >= 0 and span[1] > span[0] else None
    for g in range(1, groups + 1):
        span = m.span(g)
        if span[0] >= 0 and span[1] > span[0]:
            return span
    return m.span()


def _usable(raw: dict[str, Any]) -> bool:
    # An AND allowlist that names paths can never hold for text without a path.
    return not (raw.get("condition") == "AND" and raw.get("paths"))


def _allowlist(raw: dict[str, Any], compile_: Callable[[str], _Pattern]) -> _Allowlist:
    usable: list[str] = []
    for pattern in raw.get("regexes", []):
        try:
            compile_(pattern)
        except (re.error, ValueError):  # an entry that does not compile only narrows the allowlist
            continue
        usable.append(pattern)
    # One alternation is one search instead of one per entry ("any entry matches").
    regexes: list[_Pattern] = []
    if usable:
        try:
            regexes = [compile_("|".join(f"(?:{p})" for p in usable))]
        except (re.error, ValueError):
            regexes = [compile_(p) for p in usable]
    stopwords = [w.lower() for w in raw.get("stopwords", [])]
    return _Allowlist(
        regexes=tuple(regexes),
        target=str(raw.get("regexTarget", "secret")),
        stopwords=_keyword_finder(stopwords) if stopwords else None,
        all_required=raw.get("condition") == "AND",
    )


def _keyword_finder(keywords: list[str]) -> Callable[[str], list[str]]:
    """All keywords in one pass with an RE2 set; a substring test per keyword without RE2."""
    try:
        import re2
    except ImportError:
        return lambda lowered: [k for k in keywords if k in lowered]
    if not keywords:
        return lambda lowered: []
    keyword_set = re2.Set.SearchSet()
    for keyword in keywords:
        keyword_set.Add(re2.escape(keyword))
    keyword_set.Compile()

    def find(lowered: str) -> list[str]:
        return [keywords[i] for i in keyword_set.Match(lowered) or ()]

    return find
