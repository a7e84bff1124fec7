"""Housekeeping that runs every few seconds in a replica (sweeps of expired reservations and cache entries)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["every"]


async def every(interval_s: float, action: Callable[[], Awaitable[object]], what: str, logger: logging.Logger) -> None:
    """Run ``action`` every ``interval_s`` until cancelled; a failure is logged and tried again next time."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await action()
        except Exception:
            logger.exception("%s failed; trying again later", what)
