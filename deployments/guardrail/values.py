"""Properties of candidate secret values: Shannon entropy and placeholder look-alikes."""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = ["is_placeholder", "shannon_entropy"]


def shannon_entropy(value: str) -> float:
    """Bits per character, as gitleaks computes it (over characters, not bytes)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


_TEMPLATE = re.compile(
    r"""^(?:
        <[^<>]*>                      # <your-key>, <TOKEN>
      | \$\{[^}]*\}                   # ${TOKEN}
      | \$\(?[A-Za-z_][A-Za-z0-9_]*\)?  # $TOKEN, $(TOKEN)
      | \{\{[^}]*\}\}                 # {{ secrets.TOKEN }}
      | %[A-Za-z_][A-Za-z0-9_]*%      # %TOKEN%
      | @[A-Za-z_][A-Za-z0-9_]*@      # @TOKEN@
      | \[[^\[\]]*\]                  # [your key here]
    )$""",
    re.VERBOSE,
)
# Words that mark a documentation value rather than a credential.
_PLACEHOLDER_WORDS = re.compile(
    r"(?i)(?:your|insert|replace[_-]?me|changeme|change_me|placeholder|example|sample|dummy|redacted"
    r"|xxxx|\*\*\*|\.\.\.|todo|fixme|<|>|\$\{|\{\{|_here\b)"
)
# YOUR_API_KEY, OPENAI_API_KEY, settings.api_key: names of a value, not the value.
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z_]*_[A-Z_]*$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_]+(?:\.[A-Za-z_]+)+$")
_CODE_REFERENCE = re.compile(r"(?i)^(?:os\.|process\.env|env\.|getenv|environ|settings\.|config\.|self\.|vault:|ref\+)")
_MASK_CHARS = frozenset("xX*•#.-_0")


def is_placeholder(value: str) -> bool:
    """True for values that stand in for a secret rather than being one.

    ``<your-key>``, ``${TOKEN}``, ``YOUR_API_KEY``, ``xxxxxxxx``, ``****``, ``sk-...``,
    references to environment variables and dotted or constant names without digits.
    """
    stripped = value.strip().strip("\"'`")
    if len(stripped) < 4:
        return True
    if _TEMPLATE.match(stripped) or _CODE_REFERENCE.match(stripped):
        return True
    if _PLACEHOLDER_WORDS.search(stripped):
        return True
    masked = sum(ch in _MASK_CHARS for ch in stripped)
    if masked / len(stripped) >= 0.5:
        return True
    if len(set(stripped.lower())) <= 3:
        return True
    return bool(_CONSTANT_NAME.match(stripped) or _DOTTED_NAME.match(stripped))
