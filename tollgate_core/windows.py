"""Budget and rate windows, aligned to the UTC calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

__all__ = ["BUDGET_WINDOWS", "Window", "window_bounds"]


class Window(str, Enum):
    """A counting window. ``lifetime`` never resets; ``minute`` is for rate limits."""

    MINUTE = "minute"
    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"
    LIFETIME = "lifetime"


BUDGET_WINDOWS = (Window.HOURLY, Window.DAILY, Window.MONTHLY, Window.LIFETIME)

_FAR_FUTURE = 2**62


def window_bounds(window: Window, now: float) -> tuple[int, int]:
    """``(start, end)`` in whole UTC seconds of the window that contains ``now``."""
    t = int(now)
    if window is Window.MINUTE:
        start = t - t % 60
        return start, start + 60
    if window is Window.HOURLY:
        start = t - t % 3600
        return start, start + 3600
    if window is Window.DAILY:
        start = t - t % 86400
        return start, start + 86400
    if window is Window.MONTHLY:
        moment = datetime.fromtimestamp(t, tz=UTC)
        first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(
            month=first.month + 1)
        return int(first.timestamp()), int(following.timestamp())
    return 0, _FAR_FUTURE
