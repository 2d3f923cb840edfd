"""Retries with exponential backoff and jitter, for transient errors only."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from .errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    base_delay: float = 0.5  # seconds before the 2nd try; doubles each time
    max_delay: float = 30.0
    jitter: float = 0.25  # +/- share of the delay, so parallel runners do not retry in step

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if retry_after is not None:
            base = min(self.max_delay, max(base, retry_after))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))


NO_RETRY = RetryPolicy(attempts=1)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn``; on a TransientError wait and try again, up to ``policy.attempts`` tries.

    Anything that is not a TransientError propagates at once. ``on_retry`` sees
    (attempt, error, delay) before each wait, so callers can log every retry.
    """
    attempt = 1
    while True:
        try:
            return fn()
        except TransientError as exc:
            if attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt, exc.retry_after)
            if on_retry:
                on_retry(attempt, exc, delay)
            sleep(delay)
            attempt += 1


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
