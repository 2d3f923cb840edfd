"""Errors of the datamapper: one for bad definitions (load time), one for bad records (run time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import Text, msg

__all__ = ["FieldError", "MappingDefinitionError", "MappingError"]


class MappingDefinitionError(ValueError):
    """A mapping cannot be compiled; ``errors`` lists every problem (messages), each naming its line and field.
    Its first argument is :meth:`text`."""

    def __init__(self, flow: str, errors: list[Text]):
        self.flow = flow
        self.errors = errors
        super().__init__(self.text())

    def text(self) -> Text:
        """Every problem, in any language: one a line below a heading naming the flow."""
        return msg("mapping.invalid", flow=self.flow, problems=_one_a_line(self.errors))


def _one_a_line(problems: list[Text]) -> Text:
    """``problems`` as one message, one a line (a list argument would join them with commas). Halves are paired,
    so a long list nests only as deep as its logarithm."""
    if len(problems) <= 1:
        return problems[0] if problems else ""
    half = len(problems) // 2
    return msg("mapping.next", first=_one_a_line(problems[:half]), then=_one_a_line(problems[half:]))


@dataclass(frozen=True)
class FieldError:
    """One field of one record that could not be mapped."""

    line: Text  # "line 3 (PRICE -> price_excl)", with "[item 2]" inside a list
    source: str | None
    target: str
    value: Any
    message: Text
    transform: str | None = None

    def __str__(self) -> str:
        return str(self.text())

    def text(self) -> Text:
        """The error for a person, in any language (the line, the transform, why)."""
        where = msg("mapping.in_transform", transform=self.transform, message=self.message) if self.transform else None
        return msg("core.error_at", where=self.line, message=where or self.message)


class MappingError(ValueError):
    """A record could not be mapped; ``errors`` holds every failing field (not just the first)."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(map(str, errors)))

    def text(self) -> Text:
        """Every failing field, in any language."""
        return msg("mapping.errors", errors=[e.text() for e in self.errors])
