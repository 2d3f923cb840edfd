"""Errors of the datamapper: one for bad definitions (load time), one for bad records (run time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FieldError", "MappingDefinitionError", "MappingError"]


class MappingDefinitionError(ValueError):
    """A mapping cannot be compiled; ``errors`` lists every problem, each naming its line and field."""

    def __init__(self, flow: str, errors: list[str]):
        self.flow = flow
        self.errors = errors
        super().__init__(f"invalid mapping for flow {flow!r}:\n  - " + "\n  - ".join(errors))


@dataclass(frozen=True)
class FieldError:
    """One field of one record that could not be mapped."""

    line: str  # "line 3 (PRICE -> price_excl)", with "[item 2]" inside a list
    source: str | None
    target: str
    value: Any
    message: str
    transform: str | None = None

    def __str__(self) -> str:
        where = f"{self.transform}: " if self.transform else ""
        return f"{self.line}: {where}{self.message}"


class MappingError(ValueError):
    """A record could not be mapped; ``errors`` holds every failing field (not just the first)."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(map(str, errors)))
