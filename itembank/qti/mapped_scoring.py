"""QTI mapped scoring (``qti-mapping`` with ``map_response``) as the bank's scoring rules, or the
reason it cannot be.

The bank scores a multiple_choice item by its number of right decisions (an option is right when
chosen iff it is in the key) and a complex_choice item by its number of statements answered with
the key's choice; ``scoring`` rules give ``score`` from ``min_correct`` right up, one point per step
(itembank/bank/schema.py, itembank/delivery/scoring.py).  A mapping is kept when, over every
response a student can give, its score is a whole number that depends on the number of right
decisions only, never falls as that number grows and rises a point at a time; then the rules
reproduce it exactly.  Otherwise nothing is changed silently: the caller refuses the item.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_RESPONSES = 200_000  # responses checked one by one; items with more are refused


@dataclass(frozen=True)
class Mapping:
    """A response declaration's ``qti-mapping``: map keys (identifiers, or "S C" pairs) → values."""

    entries: dict[str, float]
    default: float = 0.0
    lower: float | None = None
    upper: float | None = None

    def score(self, chosen: Sequence[str]) -> float:
        """``map-response`` of a response (each distinct key counted once), within the bounds; an
        empty response scores 0, as the map_response template says."""
        if not chosen:
            return 0.0
        total = sum(self.entries.get(k, self.default) for k in dict.fromkeys(chosen))
        if self.lower is not None:
            total = max(total, self.lower)
        if self.upper is not None:
            total = min(total, self.upper)
        return total


class NotExpressible(Exception):
    """The mapping's scores cannot be written as the bank's rules; the message says why."""


def choice_responses(options: Sequence[str], key: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """Every set of options a student can choose, with its number of right decisions."""
    if 2 ** len(options) > MAX_RESPONSES:
        raise NotExpressible(f"{len(options)} options are too many to check the mapping for every answer")
    keys = set(key)
    for size in range(len(options) + 1):
        for chosen in itertools.combinations(options, size):
            picked = set(chosen)
            yield sum((o in picked) == (o in keys) for o in options), list(chosen)


def match_responses(key: dict[str, str], choices: Sequence[str],
                    choice_first: bool = False) -> Iterator[tuple[int, list[str]]]:
    """Every table a student can fill in (one choice or none per statement), as "S C" pairs ("C S"
    with ``choice_first``, as a gap match writes them), with its number of statements answered
    with the key's choice."""
    if (len(choices) + 1) ** len(key) > MAX_RESPONSES:
        raise NotExpressible(f"{len(key)} statements of {len(choices)} choices are too many to check the "
                             "mapping for every answer")
    statements = list(key)
    for picks in itertools.product([*choices, None], repeat=len(statements)):
        pairs = [f"{c} {s}" if choice_first else f"{s} {c}" for s, c in zip(statements, picks, strict=True)
                 if c is not None]
        yield sum(c == key[s] for s, c in zip(statements, picks, strict=True)), pairs


def rules_for(mapping: Mapping, responses: Iterator[tuple[int, list[str]]], total: int,
              what: str) -> list[dict[str, int]]:
    """The bank's scoring rules (``[]``: all or nothing) that give every response the mapping's
    score; ``total`` is the number of decisions (options or statements) and ``what`` names them."""
    by_right: dict[int, tuple[float, list[str]]] = {}
    for right, chosen in responses:
        score = mapping.score(chosen)
        seen = by_right.setdefault(right, (score, chosen))
        if abs(seen[0] - score) > 1e-9:
            raise NotExpressible(
                f"answers with the same number of right {what} ({right} of {total}) score differently: "
                f"{_show(seen[1])} scores {seen[0]:g} and {_show(chosen)} scores {score:g}")
    scores = [by_right[r][0] for r in range(total + 1)]
    fractions = sorted({s for s in scores if abs(s - round(s)) > 1e-9})
    if fractions:
        raise NotExpressible(f"the mapping gives {', '.join(f'{s:g}' for s in fractions)} points; the bank's "
                             "scores are whole points")
    points = [round(s) for s in scores]
    if any(b < a for a, b in itertools.pairwise(points)):
        r = next(r for r in range(total) if points[r + 1] < points[r])
        raise NotExpressible(f"{r + 1} right {what} score less ({points[r + 1]}) than {r} ({points[r]}); "
                             "the bank's scores never fall as more is right")
    top = points[total]
    if top < 1:
        raise NotExpressible("the key scores no point")
    if points[0] < 0:
        raise NotExpressible(f"the lowest score is {points[0]}; the bank's scores start at 0")
    steps = [next(r for r in range(total + 1) if points[r] >= s) for s in range(top, 0, -1)]
    if len(set(steps)) != len(steps) or points[0] > 0:
        r = next((r for r in range(total) if points[r + 1] - points[r] > 1), 0)
        raise NotExpressible(f"the score jumps from {points[r]} to {points[r + 1]} at {r + 1} right {what}"
                             f"{' (or is above 0 with none right)' if points[0] > 0 else ''}; the bank's "
                             "rules give one point per step")
    if top == 1 and steps == [total]:
        return []
    return [{"score": s, "min_correct": m} for s, m in zip(range(top, 0, -1), steps, strict=True)]


def _show(chosen: Sequence[str]) -> str:
    return "{" + ", ".join(chosen) + "}" if chosen else "no answer"


@dataclass(frozen=True)
class Weights:
    """A mapping as the bank's ``weights``: points per map key (QTI identifiers), and the ceiling."""

    points: dict[str, int]
    upper: int | None


def weights_for(mapping: Mapping, keys: Sequence[str], responses: Iterator[tuple[int, list[str]]]) -> Weights:
    """The bank's ``weights`` (whole points per option or pair, the sum kept within 0 and ``upper``)
    that give every response the mapping's score; ``keys`` are every map key a response can hold.
    Entries keep the mapping's order; the default value is written out for the keys it does not list."""
    listed = [k for k in mapping.entries if k in keys]
    values = {k: mapping.entries[k] for k in listed}
    if mapping.default:
        values.update({k: mapping.default for k in keys if k not in values})
    fractions = [f"{k} {v:g}" for k, v in values.items() if abs(v - round(v)) > 1e-9]
    if fractions:
        raise NotExpressible(f"the mapping gives fractions of a point ({', '.join(fractions)}); the bank's "
                             "weights and scores are whole points")
    points = {k: round(v) for k, v in values.items()}
    answers = [chosen for _, chosen in responses]
    best = max(sum(points.get(k, 0) for k in dict.fromkeys(chosen)) for chosen in answers)
    upper = None if mapping.upper is None or mapping.upper >= best else mapping.upper
    if upper is not None and abs(upper - round(upper)) > 1e-9:
        raise NotExpressible(f"the upper bound {upper:g} is not a whole number of points")
    for chosen in answers:
        total = sum(points.get(k, 0) for k in dict.fromkeys(chosen))
        bank = max(0, total if upper is None else min(total, round(upper)))
        qti = mapping.score(chosen)
        if abs(bank - qti) > 1e-9:
            raise NotExpressible(f"{_show(chosen)} scores {qti:g} in QTI but {bank} as the sum of its points "
                                 "within 0 and the upper bound (the bank's scores are never below 0)")
    return Weights(points, None if upper is None else round(upper))
