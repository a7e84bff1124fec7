"""One labelled request of the injection data: OpenAI chat messages, a family, a source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Sample"]


@dataclass(frozen=True)
class Sample:
    """A whole chat request (``messages`` as an application sends them) with its label.

    ``family`` names the generator or corpus slice it comes from; splits hold out whole
    families. ``attack_index`` is the index of the message that carries the attack (for a
    payload split over turns, the last of its messages); ``None`` for benign requests.
    """

    id: str
    family: str
    source: str
    label: int  # 1 attack, 0 benign
    messages: list[dict[str, Any]]
    attack_index: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
