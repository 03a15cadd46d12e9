"""Check a response's shape against its item and score it: the one set of rules that online answers
and paper answers share.

Shapes: ``single_choice`` one option id; ``multiple_choice`` a list of option ids;
``complex_choice`` a map statement id → choice id; ``order`` the option ids in the student's order
(all of them, or the ones placed so far); ``short_response`` and ``open_response`` text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    Order,
    ScoreRule,
    ShortResponse,
    SingleChoice,
    clamp_score,
)
from itembank.errors import ItembankError

MAX_TEXT_LENGTH = 10_000

AnyItem = SingleChoice | MultipleChoice | ComplexChoice | ShortResponse | OpenResponse | Order


class ResponseShapeError(ItembankError):
    """A response that its item's type does not take (wrong type, unknown option, too long)."""


def check_response(item: AnyItem, response: Any) -> None:
    """Raise ResponseShapeError with a message a client can act on, or return None."""
    if isinstance(item, SingleChoice):
        ids = [o.id for o in item.options]
        if not isinstance(response, str):
            raise ResponseShapeError(f"item {item.id} takes one option id as a string, one of {ids}")
        if response not in ids:
            raise ResponseShapeError(f"item {item.id}: {response!r} is not an option; use one of {ids}")
    elif isinstance(item, MultipleChoice):
        _check_option_list(item.id, [o.id for o in item.options], response,
                           "takes a list of option ids from {ids}", "")
    elif isinstance(item, Order):
        _check_option_list(item.id, [o.id for o in item.options], response,
                           "takes the option ids {ids} as a list, in the student's order",
                           "; each has one place")
    elif isinstance(item, ComplexChoice):
        sids = [s.id for s in item.statements]
        cids = [c.id for c in item.choices]
        if not isinstance(response, dict):
            raise ResponseShapeError(f"item {item.id} takes a map from statement ids {sids} to choice ids {cids}")
        for sid, cid in response.items():
            if sid not in sids:
                raise ResponseShapeError(f"item {item.id}: {sid!r} is not a statement; use ids from {sids}")
            if not isinstance(cid, str) or cid not in cids:
                raise ResponseShapeError(f"item {item.id}: the answer to {sid!r} must be one of {cids}")
    else:
        if not isinstance(response, str):
            raise ResponseShapeError(f"item {item.id} takes a text answer (a string)")
        if len(response) > MAX_TEXT_LENGTH:
            raise ResponseShapeError(f"item {item.id}: the answer is longer than {MAX_TEXT_LENGTH} characters")


def _check_option_list(item_id: str, ids: list[str], response: Any, shape: str, twice: str) -> None:
    """A list of distinct option ids of ``ids`` (a multiple-choice or an order answer)."""
    if not isinstance(response, list) or not all(isinstance(x, str) for x in response):
        raise ResponseShapeError(f"item {item_id} " + shape.format(ids=ids))
    unknown = [x for x in response if x not in ids]
    if unknown:
        raise ResponseShapeError(f"item {item_id}: {unknown} are not options; use ids from {ids}")
    if len(set(response)) != len(response):
        raise ResponseShapeError(f"item {item_id}: an option id is listed twice{twice}")


def is_blank(response: Any) -> bool:
    """Whether a response is no answer at all: None, empty or blank text, no option chosen, no
    statement answered (the same rule for every item type)."""
    if response is None:
        return True
    if isinstance(response, str):
        return not response.strip()
    if isinstance(response, list):
        return not response
    if isinstance(response, dict):
        return all(v is None for v in response.values())
    return False


def score_response(item: AnyItem, response: Any) -> int | None:
    """The score of a well-shaped response; None for an open response (it waits for a coder).

    An empty answer scores 0 (an unanswered statement of a complex choice counts as wrong).  Items
    with ``weights`` score the sum of the points of what was chosen, within 0 and ``upper``.
    """
    check_response(item, response)
    if isinstance(item, SingleChoice):
        return int(response == item.key)
    if isinstance(item, MultipleChoice) and item.weights is not None:
        points = item.weights.points
        return clamp_score(sum(points.get(o, 0) for o in set(response)), item.weights.upper)
    if isinstance(item, ComplexChoice) and item.weights is not None:
        rows = item.weights.points
        return clamp_score(sum(rows.get(s, {}).get(c, 0) for s, c in response.items() if c is not None),
                           item.weights.upper)
    if isinstance(item, MultipleChoice) and item.also_correct:
        return int(set(response) in [set(item.key), *(set(a) for a in item.also_correct)])
    if isinstance(item, MultipleChoice):
        chosen = set(response)
        key = set(item.key)
        right = sum((o.id in chosen) == (o.id in key) for o in item.options)
        return _by_rules(right, len(item.options), item.scoring)
    if isinstance(item, ComplexChoice):
        right = sum(response.get(sid) == cid for sid, cid in item.key.items())
        return _by_rules(right, len(item.statements), item.scoring)
    if isinstance(item, Order):
        return int(list(response) == list(item.key))
    if isinstance(item, ShortResponse):
        return int(short_answer_matches(item, response))
    return None


def _by_rules(right: int, total: int, rules: list[ScoreRule]) -> int:
    if not rules:
        return int(right == total)
    for rule in rules:
        if right >= rule.min_correct:
            return rule.score
    return 0


_CJK = r"[\u2E80-\u9FFF\uF900-\uFAFF\U00020000-\U0002FA1F]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")
_TRAILING = re.compile(r"[\s.,;:!?。，、；：！？]+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def normalise_text(text: str) -> str:
    """NFKC (full-width → half-width), case folded, spaces next to CJK removed, others collapsed,
    surrounding spaces and final punctuation removed."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = re.sub(r"\s+", " ", text)
    return _TRAILING.sub("", text)


def _as_number(text: str) -> float | None:
    candidate = text.replace(",", "").replace(" ", "")
    return float(candidate) if _NUMBER.match(candidate) else None


def short_answer_matches(item: ShortResponse, response: str) -> bool:
    answer = normalise_text(response)
    if not answer:
        return False
    accepted = {normalise_text(a) for a in (*item.accepted.zh_TW, *item.accepted.en)}
    if answer in accepted:
        return True
    if item.numeric is not None:
        value = _as_number(answer)
        if value is not None:
            return abs(value - item.numeric.value) <= item.numeric.tolerance + 1e-9
    return False
