"""What the print pages print: the bank's approved units in use (with their stored images) and
the booklet design chosen by the request's parameters (the CLI's default rotation unless the
teacher sets clusters, positions or blocks).  A design is rebuilt from its parameters on every
request (it is deterministic), so no state is kept between the pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from itembank.bank.schema import LANGUAGES
from itembank.paper.booklet_set import PrintBank, approved_units, booklets_of
from itembank.paper.design import Design, make_design

__all__ = ["PrintBank", "approved_units", "booklets_of", "DesignChoice", "ChoiceError", "parse_choice",
           "build_design"]

MAX_CLUSTERS = 60
MAX_POSITIONS = 8
MAX_BLOCKS = 6


@dataclass(frozen=True)
class DesignChoice:
    """The parameters of a design as the pages pass them along (query string)."""

    language: str = "zh-TW"
    clusters: int | None = None
    positions: int | None = None
    blocks: int = 1
    test_name: str = ""
    printed: int | None = None  # a printed design's id (:mod:`itembank.paper.printed`): use it as printed

    def query(self) -> dict[str, str]:
        out = {"language": self.language}
        if self.printed is not None:
            out["printed"] = str(self.printed)
        if self.clusters is not None:
            out["clusters"] = str(self.clusters)
        if self.positions is not None:
            out["positions"] = str(self.positions)
        if self.blocks != 1:
            out["blocks"] = str(self.blocks)
        if self.test_name:
            out["test_name"] = self.test_name
        return out


class ChoiceError(ValueError):
    """A parameter of the design that cannot be used; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _int(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ChoiceError(name, f"{low}-{high}")
    return int(raw)


def parse_choice(args: Mapping[str, str], default_language: str) -> DesignChoice:
    language = args.get("language") or default_language
    if language not in LANGUAGES:
        raise ChoiceError("language", ", ".join(LANGUAGES))
    return DesignChoice(
        language=language,
        clusters=_int(args, "clusters", 1, MAX_CLUSTERS),
        positions=_int(args, "positions", 1, MAX_POSITIONS),
        blocks=_int(args, "blocks", 1, MAX_BLOCKS) or 1,
        test_name=(args.get("test_name") or "").strip()[:120],
        printed=_int(args, "printed", 1, 2**31 - 1),
    )


def build_design(bank: PrintBank, choice: DesignChoice) -> Design:
    """The rotation of the approved units by ``choice`` (ValueError when it cannot be built)."""
    if choice.clusters is not None and choice.clusters > len(bank.units):
        raise ValueError("more clusters than units")
    return make_design(bank.units, choice.clusters, choice.positions, choice.blocks)
