"""Secret detection: gitleaks' rules plus context rules for what gitleaks leaves to heuristics.

gitleaks supplies the vendor formats (AWS, OpenAI, Anthropic, GitHub, Slack, Stripe,
Google, JWT, private keys, …) and its generic ``key = value`` rule. The rules here add
what a prompt needs beyond a source-code scanner:

- passwords in ``password: x``, ``password=x``, ``"password": "x"``, ``password is x``
  and in connection strings (``scheme://user:pass@host``);
- high-entropy values under secret-like names (``client_secret``, ``auth_token``) and
  after ``Bearer``; AWS secret access keys under ``aws…secret`` names;
- vendor prefixes with a looser length than gitleaks (planted or truncated keys), under
  the allowlists of the gitleaks rule they stand in for;
- private-key blocks that were pasted without their END line.

Placeholders (``<your-key>``, ``${TOKEN}``, ``YOUR_API_KEY``, ``xxxx``) are never
findings, and hex digests and UUIDs count only under a name that says "secret".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from deployments.guardrail.findings import EntityType, Finding
from deployments.guardrail.gitleaks import GitleaksRules, line_around
from deployments.guardrail.values import is_placeholder, shannon_entropy

__all__ = ["SecretDetector", "rule_type"]

T = EntityType

_RULE_TYPES: dict[str, EntityType] = {
    "aws-access-token": T.AWS_ACCESS_KEY,
    "gcp-api-key": T.GOOGLE_API_KEY,
    "jwt": T.JWT,
    "jwt-base64": T.JWT,
    "private-key": T.PRIVATE_KEY,
    "stripe-access-token": T.STRIPE_KEY,
}
_RULE_PREFIXES: tuple[tuple[str, EntityType], ...] = (
    ("openai-", T.OPENAI_KEY),
    ("anthropic-", T.ANTHROPIC_KEY),
    ("github-", T.GITHUB_TOKEN),
    ("slack-", T.SLACK_TOKEN),
)


def rule_type(rule_id: str) -> EntityType:
    """The entity type a gitleaks rule id reports as."""
    if rule_id in _RULE_TYPES:
        return _RULE_TYPES[rule_id]
    for prefix, entity in _RULE_PREFIXES:
        if rule_id.startswith(prefix):
            return entity
    return T.PASSWORD if rule_id.endswith("-password") else T.GENERIC_SECRET


_ASSIGN = r"""\\?["'`]?[ \t]*(?:=>|->|:=|::|[:=])[ \t]*"""
_VALUE = r"""(?:"(?P<dq>[^"\n]{1,200})"|'(?P<sq>[^'\n]{1,200})'|`(?P<bq>[^`\n]{1,200})`|(?P<bare>[^\s"'`,;]{1,200}))"""
_KEY_VALUE = re.compile(r"(?P<key>[\w.-]{1,80})" + _ASSIGN + _VALUE)
_PASSWORD_NAME = re.compile(r"(?i)password|passwd|passphrase|passcode|pwd|pswd|(?:^|[_.-])pass(?:$|[_.-])")
_SECRET_NAME = re.compile(
    r"(?i)secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key|signing[_.-]?key"
    r"|encryption[_.-]?key|session[_.-]?key|master[_.-]?key|credential|(?:^|[_.-])auth(?:$|[_.-])"
)
_AWS_SECRET_NAME = re.compile(r"(?i)aws.*secret|secret_?access_?key")
# Names that describe a value without being one: password_reset_url, token_type, secret_name.
_NOT_SECRET_KEY = re.compile(
    r"(?i)(?:url|uri|path|file|hash|length|len|policy|field|reset|hint|prompt|label|min|max|expir\w*|"
    r"_id|id|ids|name|type|types|enabled|count|endpoint|header|format|version|manager|store|ttl|limit|"
    r"required|validator|strength|regex|pattern|rotation|index|usage|less)$"
)
_PASSWORD_PROSE = re.compile(
    r"(?i)(?:password|passwd|passphrase|passcode|pwd)(?:\s+(?:for|of|to)\s+[\w.@-]+(?:\s+[\w.@-]+)?)?"
    r"\s+(?:is|was|will be|=)\s+(?:now\s+|still\s+|set to\s+)?" + _VALUE
)
_BEARER = re.compile(r"(?i)(?:bearer|basic)[ \t]+(?P<bare>[A-Za-z0-9._~+/=-]{16,})")
_CONNECTION = re.compile(r"(?i)[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:(?P<bare>[^\s@/]{1,128})@[\w.-]+")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+")
_PRIVATE_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_END = re.compile(r"-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")
# Base64 runs and PEM headers, separated by newlines (real or JSON-escaped) or blanks.
_KEY_BODY = re.compile(r"(?:(?:\r?\n|\\n|[ \t])*(?:[A-Za-z0-9+/=]{8,}|Proc-Type:[^\n]*|DEK-Info:[^\n]*))*")

_NOT_A_PASSWORD = frozenset(
    [
        "none",
        "null",
        "nil",
        "true",
        "false",
        "string",
        "str",
        "required",
        "optional",
        "undefined",
        "empty",
        "hidden",
        "redacted",
        "yes",
        "no",
        "n/a",
        "na",
        "int",
        "bool",
        "boolean",
        "secret",
        "password",
        "passwd",
        "token",
        "value",
        "incorrect",
        "wrong",
        "invalid",
        "missing",
        "expired",
        "correct",
        "reset",
        "changed",
        "protected",
        "set",
        "not",
        "too",
        "the",
        "a",
        "an",
        "and",
        "or",
        "this",
        "that",
        "same",
        "different",
        "strong",
        "weak",
    ]
)
_HEX = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_STRONG_NAME = re.compile(r"(?i)secret|token|passw|pwd|api[_.-]?key|apikey|private|access[_.-]?key|auth")


@dataclass(frozen=True)
class _VendorRule:
    type: EntityType
    prefixes: tuple[str, ...]
    regex: re.Pattern[str]
    min_entropy: float
    allowlist_of: str  # the gitleaks rule whose allowlists apply


# Each regex begins with its literal prefix so that re can skip ahead to it.
_VENDOR_RULES: tuple[_VendorRule, ...] = (
    _VendorRule(
        T.ANTHROPIC_KEY, ("sk-ant-",), re.compile(r"sk-ant-[a-z]+\d{0,2}-[A-Za-z0-9_-]{20,}"), 3.0, "anthropic-api-key"
    ),
    _VendorRule(
        T.OPENAI_KEY,
        ("sk-",),
        re.compile(r"sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
        3.0,
        "openai-api-key",
    ),
    _VendorRule(
        T.GITHUB_TOKEN,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
        3.0,
        "github-pat",
    ),
    _VendorRule(T.SLACK_TOKEN, ("xox",), re.compile(r"xox[abposre]-[A-Za-z0-9-]{25,}"), 3.5, "slack-bot-token"),
    _VendorRule(
        T.STRIPE_KEY,
        ("sk_", "rk_"),
        re.compile(r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{16,}"),
        3.0,
        "stripe-access-token",
    ),
    _VendorRule(T.GOOGLE_API_KEY, ("aiza",), re.compile(r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), 3.0, "gcp-api-key"),
    _VendorRule(
        T.AWS_ACCESS_KEY,
        ("akia", "asia", "abia", "acca", "a3t"),
        re.compile(r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        3.0,
        "aws-access-token",
    ),
)


def _sequential(value: str, run: int = 6) -> bool:
    """``abcdefgh`` or ``123456`` inside a value: a hand-made sample, not a generated secret."""
    lowered = value.lower()
    length = 1
    for a, b in itertools.pairwise(lowered):
        length = length + 1 if ord(b) - ord(a) == 1 and a.isalnum() and b.isalnum() else 1
        if length >= run:
            return True
    return False


@dataclass(frozen=True)
class _ContextRule:
    """A value found next to a name: tried only where one of ``stems`` occurs.

    With ``key_name`` set, the pattern is matched from the start of the identifier around
    the stem and the identifier must match ``key_name``; otherwise it is matched at the
    stem itself (or, with ``back_up``, at the start of the word around it).
    """

    entity: EntityType
    score: float
    stems: tuple[str, ...]
    pattern: re.Pattern[str]
    plausible: Callable[[str], bool]
    key_name: re.Pattern[str] | None = None
    back_up: bool = False
    allowlist_of: str | None = None  # the gitleaks rule whose allowlists apply

    def find(self, text: str, lowered: str, rules: GitleaksRules) -> Iterator[Finding]:
        starts: set[int] = set()
        for stem in self.stems:
            i = lowered.find(stem)
            while i >= 0:
                start = i
                if self.key_name is not None or self.back_up:
                    while start > 0 and text[start - 1] in _KEY_CHARS:
                        start -= 1
                if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "_-"):
                    starts.add(start)
                i = lowered.find(stem, i + 1)
        for start in sorted(starts):
            m = self.pattern.match(text, start)
            if m is None:
                continue
            if self.key_name is not None:
                key = m.group("key")
                if not self.key_name.search(key) or _NOT_SECRET_KEY.search(key):
                    continue
            span = _value_span(m)
            if span is None or not self.plausible(span[2]):
                continue
            line = line_around(text, span[0], span[1])
            if self.allowlist_of and rules.allowlisted(self.allowlist_of, span[2], m.group(), line):
                continue
            yield Finding(self.entity, span[0], span[1], self.score, f"context:{self.entity.value}")


class SecretDetector:
    """Finds secrets with gitleaks' rules and the context rules described in this module."""

    def __init__(self, rules: GitleaksRules | None = None) -> None:
        self.rules = rules if rules is not None else _default_rules()

    def detect(self, text: str) -> list[Finding]:
        lowered = text.lower()
        found = list(self._gitleaks(text))
        found.extend(self._vendor(text, lowered))
        for rule in _CONTEXT_RULES:
            found.extend(rule.find(text, lowered, self.rules))
        if "-----BEGIN" in text:
            found.extend(_private_keys(text))
        return found

    def _gitleaks(self, text: str) -> Iterator[Finding]:
        for match in self.rules.find(text):
            entity = rule_type(match.rule_id)
            generic = match.rule_id.startswith(("generic", "curl"))
            if entity is not T.PRIVATE_KEY and is_placeholder(match.secret):
                continue
            if generic and (_HEX.match(match.secret) or _UUID.match(match.secret)):
                key = text[max(0, match.start - 60) : match.start]
                if not _STRONG_NAME.search(key.rsplit("\n", 1)[-1]):
                    continue
            yield Finding(entity, match.start, match.end, 0.7 if generic else 0.95, f"gitleaks:{match.rule_id}")

    def _vendor(self, text: str, lowered: str) -> Iterator[Finding]:
        for rule in _VENDOR_RULES:
            if not any(p in lowered for p in rule.prefixes):
                continue
            for m in rule.regex.finditer(text):
                if m.start() and text[m.start() - 1].isalnum():
                    continue
                value = m.group()
                if shannon_entropy(value) < rule.min_entropy or is_placeholder(value) or _sequential(value):
                    continue
                if self.rules.allowlisted(rule.allowlist_of, value, value, line_around(text, m.start(), m.end())):
                    continue
                yield Finding(rule.type, m.start(), m.end(), 0.9, f"prefix:{rule.type.value}")


def _value_span(m: re.Match[str]) -> tuple[int, int, str] | None:
    for group in ("dq", "sq", "bq", "bare"):
        if group in m.re.groupindex and m.group(group) is not None:
            start = m.start(group)
            value = m.group(group)
            # Sentence punctuation after an unquoted value is not part of it, nor is a
            # closing bracket that the value did not open.
            trimmed = value.rstrip(".,;:!?") if group == "bare" else value
            for opener, closer in ("()", "[]", "{}", "<>"):
                if trimmed.endswith(closer) and opener not in trimmed:
                    trimmed = trimmed.rstrip(closer).rstrip(".,;:!?")
            return start, start + len(trimmed), trimmed
    return None


def _masked(value: str) -> bool:
    return len(set(value.lower()) - set("x*.-_0")) <= 4


def _not_masked(value: str) -> bool:
    return not _masked(value)


def _plausible_password(value: str) -> bool:
    return len(value) >= 4 and value.lower() not in _NOT_A_PASSWORD and not is_placeholder(value)


def _plausible_prose_password(value: str) -> bool:
    # In prose, "password is required" must not count: ask for a digit, symbol or capital.
    return _plausible_password(value) and (
        any(c.isdigit() for c in value) or not value.isalpha() or not value.islower()
    )


def _plausible_secret(value: str) -> bool:
    if len(value) < 12 or " " in value or is_placeholder(value) or _sequential(value):
        return False
    if _HEX.match(value) or _UUID.match(value):
        return True  # a digest or UUID under an explicit secret name is treated as the secret
    has_digit = any(c.isdigit() for c in value)
    return has_digit and shannon_entropy(value) >= 3.0


def _aws_secret(value: str) -> bool:
    # AWS's documented sample secret ends in EXAMPLEKEY; gitleaks treats such values as examples.
    return re.fullmatch(r"[A-Za-z0-9/+=]{40}", value) is not None and not _masked(value) and "EXAMPLE" not in value


_CONTEXT_RULES: tuple[_ContextRule, ...] = (
    _ContextRule(T.PASSWORD, 0.85, ("pass", "pwd", "pswd"), _KEY_VALUE, _plausible_password, _PASSWORD_NAME),
    _ContextRule(T.PASSWORD, 0.8, ("pass", "pwd"), _PASSWORD_PROSE, _plausible_prose_password),
    _ContextRule(
        T.GENERIC_SECRET,
        0.7,
        ("secret", "token", "key", "credential", "auth"),
        _KEY_VALUE,
        _plausible_secret,
        _SECRET_NAME,
        allowlist_of="generic-api-key",
    ),
    _ContextRule(T.AWS_SECRET_KEY, 0.9, ("aws", "secret"), _KEY_VALUE, _aws_secret, _AWS_SECRET_NAME),
    _ContextRule(
        T.GENERIC_SECRET, 0.75, ("bearer", "basic"), _BEARER, _plausible_secret, allowlist_of="generic-api-key"
    ),
    _ContextRule(T.PASSWORD, 0.85, ("://",), _CONNECTION, _plausible_password, back_up=True),
)


def _private_keys(text: str) -> Iterator[Finding]:
    for begin in _PRIVATE_BEGIN.finditer(text):
        end = _PRIVATE_END.search(text, begin.end())
        if end is not None:
            body, stop = text[begin.end() : end.start()], end.end()
        else:  # pasted without its END line: the key is the body that follows
            match = _KEY_BODY.match(text, begin.end())
            stop = match.end() if match else begin.end()
            body = text[begin.end() : stop]
        # "-----BEGIN PRIVATE KEY-----\nanything\n-----END…" in docs is not a key.
        if len(re.findall(r"[A-Za-z0-9+/=]", body)) >= 40 and not _sequential(body.replace("\n", ""), 10):
            yield Finding(T.PRIVATE_KEY, begin.start(), stop, 0.95, "context:PRIVATE_KEY")


@lru_cache(maxsize=1)
def _default_rules() -> GitleaksRules:
    return GitleaksRules.load()
