"""Operation handlers by name.

A handler takes the sandbox and the request parameters (a dict shaped like the
request element) and returns the reply as a dict shaped like the reply element.
The dispatcher runs it under the sandbox lock; stored dicts must not be
mutated in place (see :mod:`..store`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Handler:
    name: str
    run: Callable[[Any, dict], dict]
    write: bool


HANDLERS: dict[str, Handler] = {}


class Rejected(Exception):
    """A business failure, answered with a result enum and HTTP 200, not with a fault."""

    def __init__(self, result: str, message: str):
        super().__init__(message)
        self.result = result
        self.message = message


def operation(name: str, *, write: bool = False):
    def register(fn):
        HANDLERS[name] = Handler(name, fn, write)
        return fn

    return register


def limited(items: Iterable, limit: int | None, weight: Callable[[Any], int] = lambda _: 1) -> Iterator:
    """Items until their summed weight would pass ``limit``; the first item always comes whole.

    A limit of None or <= 0 means no limit."""
    total = 0
    for item in items:
        w = weight(item)
        if limit and limit > 0 and total and total + w > limit:
            return
        yield item
        total += w
        if limit and limit > 0 and total >= limit:
            return
