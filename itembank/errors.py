"""Typed errors that carry their place, printed at the edge (CLI, HTTP handler) and raised inside."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one file, at a 1-based line and column (0 when the place is the whole file).

    ``str()`` gives the ``FILE:LINE:COLUMN: message`` form that editors and CI understand.
    """

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ItembankError(Exception):
    """Base of every error this package raises on purpose; the CLI prints it without a traceback."""


class ProblemsError(ItembankError):
    """One or more :class:`Problem` s; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DataFileError(ProblemsError):
    """A bad data file (responses CSV, PARAMS.json, roster): the row and column are named."""

    @classmethod
    def at(cls, file: str, row: int, column: int, message: str) -> DataFileError:
        return cls([Problem(file, row, column, message)])
