"""The item format: one pydantic definition of a unit, its stimulus, its items and their scoring.

Validation, YAML import and export, the JSON Schema for editors, the web editor and QTI all use
these classes; nothing else describes the format.  See docs/item-format.md.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES = ("zh-TW", "en")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]


class Strict(BaseModel):
    """Base: unknown fields are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=True)


class LocalText(Strict):
    """A human-readable text in every language of the bank (Markdown where the field says so)."""

    zh_TW: str = Field(alias="zh-TW", min_length=1)
    en: str = Field(min_length=1)

    @field_validator("zh_TW", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank; write the text in this language")
        return value

    def get(self, language: str) -> str:
        return self.zh_TW if language == "zh-TW" else self.en


class Status(StrEnum):
    draft = "draft"
    review = "review"
    approved = "approved"
    retired = "retired"
    released = "released"  # retired, then released for practice: its keys may be shown


class Dimension(StrEnum):
    """PISA 2018 global competence dimensions."""

    examine_issues = "examine_issues"
    understand_perspectives = "understand_perspectives"
    intercultural_interaction = "intercultural_interaction"
    take_action = "take_action"


class ContentDomain(StrEnum):
    culture = "culture"  # culture and intercultural relations
    socio_economic = "socio_economic"  # socio-economic development and interdependence
    environment = "environment"  # environmental sustainability
    institutions = "institutions"  # institutions, conflicts and human rights


class CognitiveProcess(StrEnum):
    evaluate_information = "evaluate_information"  # evaluate information, formulate arguments
    analyse_perspectives = "analyse_perspectives"  # identify and analyse multiple perspectives
    understand_communication = "understand_communication"  # differences in communication
    evaluate_actions = "evaluate_actions"  # evaluate actions and consequences


class GradeBand(StrEnum):
    junior_high = "junior_high"
    senior_high = "senior_high"


class ItemType(StrEnum):
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    complex_choice = "complex_choice"
    short_response = "short_response"
    open_response = "open_response"
    order = "order"


AUTO_SCORED = frozenset({"single_choice", "multiple_choice", "complex_choice", "short_response", "order"})


# -- stimulus -----------------------------------------------------------------------------------
class TextBlock(Strict):
    type: Literal["text"]
    text: LocalText  # Markdown


Cell = LocalText | str | int | float  # numbers and codes need no translation


def cell_text(value: Cell, language: str) -> str:
    """A table cell as readers see it, on the test page and on paper alike: its text in
    ``language``, a code as written, a number without a trailing ``.0`` (YAML's ``8000.0``)."""
    if isinstance(value, LocalText):
        return value.get(language)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class TableBlock(Strict):
    type: Literal["table"]
    caption: LocalText | None = None
    columns: list[Cell] = Field(min_length=1)
    rows: list[list[Cell]] = Field(min_length=1)
    source: LocalText | None = None

    @model_validator(mode="after")
    def _rectangular(self) -> TableBlock:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{i}]: row {i + 1} has {len(row)} cells but the table has {len(self.columns)} columns"
                )
        return self


class ImageBlock(Strict):
    type: Literal["image"]
    src: str = Field(min_length=1, description="path relative to the unit file, e.g. images/map.svg")
    alt: LocalText
    caption: LocalText | None = None
    width: int | None = Field(default=None, gt=0, le=2000, description="display width in pixels")


StimulusBlock = Annotated[TextBlock | TableBlock | ImageBlock, Field(discriminator="type")]


# -- IRT ----------------------------------------------------------------------------------------
class IrtModel(StrEnum):
    rasch = "rasch"
    twopl = "2pl"
    threepl = "3pl"
    grm = "grm"
    gpcm = "gpcm"


class Irt(Strict):
    """Item parameters on the bank's logistic metric (no 1.7), and the calibration they came from."""

    model: IrtModel
    a: float | None = Field(default=None, gt=0)
    b: float | list[float]
    c: float | None = Field(default=None, ge=0, lt=1)
    calibration: Identifier

    @model_validator(mode="after")
    def _fits_model(self) -> Irt:
        model = str(self.model)
        if model in ("rasch", "2pl", "3pl"):
            if isinstance(self.b, list):
                raise ValueError(f"b: model {model} takes one number b, not a list")
        elif not isinstance(self.b, list) or not self.b:
            raise ValueError(f"b: model {model} takes b as a list of {'boundaries' if model == 'grm' else 'steps'}")
        if model == "grm" and isinstance(self.b, list) and any(
            y <= x for x, y in zip(self.b, self.b[1:], strict=False)
        ):
            raise ValueError("b: GRM boundaries must increase")
        if model == "rasch" and self.a not in (None, 1.0):
            raise ValueError("a: the Rasch model fixes a = 1; leave a out")
        if model != "rasch" and self.a is None:
            raise ValueError(f"a: model {model} needs a discrimination a > 0")
        if model == "3pl" and self.c is None:
            raise ValueError("c: model 3pl needs a lower asymptote c in [0, 1)")
        if model != "3pl" and self.c is not None:
            raise ValueError(f"c: only 3pl takes c; model {model} does not")
        return self

    @property
    def n_scores(self) -> int:
        return len(self.b) + 1 if isinstance(self.b, list) else 2

    def record(self, item_id: str) -> dict[str, Any]:
        """As a PARAMS.json item record (for irt.ItemParameters.from_records)."""
        return {"id": item_id, "model": str(self.model), "a": self.a, "b": self.b, "c": self.c}


# -- items --------------------------------------------------------------------------------------
class Option(Strict):
    id: Identifier
    text: LocalText
    # Why a student would choose it: the misconception it reflects, or why it is right.  For
    # reviewers and the teacher pack, never sent to students; required for approval of
    # single- and multiple-choice items (itembank.authoring.workflow).
    rationale: LocalText | None = None


class ScoreRule(Strict):
    """Partial credit: ``score`` when at least ``min_correct`` statements/options are right."""

    score: int = Field(ge=1)
    min_correct: int = Field(ge=1)


class OptionWeights(Strict):
    """Mapped scoring (QTI's ``qti-mapping``): the points of each option chosen are added up, and
    the sum, kept within 0 and ``upper``, is the score; options not listed are worth 0 and no
    answer scores 0.  Points are whole numbers, so the scores are the categories 0..max of the
    IRT models."""

    points: dict[Identifier, int] = Field(min_length=1)
    upper: int | None = Field(default=None, ge=1, description="the highest score; the sum is cut there")


class PairWeights(Strict):
    """Mapped scoring of a table of statements: ``points[statement][choice]`` for answering the
    statement with that choice (pairs not listed are worth 0, a statement left blank adds
    nothing); the sum, kept within 0 and ``upper``, is the score."""

    points: dict[Identifier, dict[Identifier, int]] = Field(min_length=1)
    upper: int | None = Field(default=None, ge=1, description="the highest score; the sum is cut there")


def clamp_score(total: int, upper: int | None) -> int:
    """A sum of points as a score: never below 0, never above ``upper``."""
    return max(0, total if upper is None else min(total, upper))


def _reachable(groups: list[list[int]], upper: int | None) -> tuple[set[int], int]:
    """The scores (clamped) and the highest raw sum over every answer, when each group of points
    contributes one of its values (an option chosen or not; a statement's choice or none)."""
    sums = {0}
    for values in groups:
        sums = {s + v for s in sums for v in values}
    return {clamp_score(s, upper) for s in sums}, max(sums)


def _check_weights(upper: int | None, groups: list[list[int]], key_score: int, field: str) -> int:
    """Check mapped scoring that gives every answer one of 0..max with every score reachable and the
    key scoring max; return max."""
    scores, best = _reachable(groups, upper)
    if upper is not None and upper >= best:
        raise ValueError(f"{field}.upper: {upper} is not below the best answer's {best} points; leave upper out")
    top = max(scores)
    if top < 1:
        raise ValueError(f"{field}.points: no answer scores a point; give the key's parts positive points")
    missing = [s for s in range(top + 1) if s not in scores]
    if missing:
        raise ValueError(f"{field}.points: no answer scores {', '.join(map(str, missing))} of 0..{top}; the "
                         "scores must be the categories 0..max of the IRT models (e.g. 1 point per key part)")
    if key_score != top:
        raise ValueError(f"{field}: the key scores {key_score} but the best answer scores {top}; make the key "
                         "the best answer")
    return top


class ItemBase(Strict):
    id: Identifier
    prompt: LocalText  # Markdown
    process: CognitiveProcess
    dimension: Dimension | None = None  # when it differs from the unit's
    irt: Irt | None = None

    @property
    def max_score(self) -> int:
        return 1

    @property
    def auto_scored(self) -> bool:
        return self.type in AUTO_SCORED  # type: ignore[attr-defined]


def _unique(ids: list[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for x in ids:
        if x in seen:
            raise ValueError(f"{field}: {what} id {x!r} is used twice; give each a different id")
        seen.add(x)


def _check_rules(rules: list[ScoreRule], n: int, what: str) -> None:
    if not rules:
        return
    scores = [r.score for r in rules]
    mins = [r.min_correct for r in rules]
    if sorted(scores, reverse=True) != scores or len(set(scores)) != len(scores):
        raise ValueError("scoring: list the rules from the highest score down, scores distinct")
    if sorted(mins, reverse=True) != mins or len(set(mins)) != len(mins):
        raise ValueError("scoring: min_correct must decrease with the score")
    if scores[-1] != 1 or scores != list(range(scores[0], 0, -1)):
        raise ValueError("scoring: scores must run down to 1 without gaps (e.g. 2, 1)")
    if mins[0] > n:
        raise ValueError(f"scoring: min_correct {mins[0]} is more than the {n} {what}")


class SingleChoice(ItemBase):
    type: Literal["single_choice"]
    options: list[Option] = Field(min_length=2)
    key: Identifier

    @model_validator(mode="after")
    def _key_exists(self) -> SingleChoice:
        ids = [o.id for o in self.options]
        _unique(ids, "option", "options")
        if self.key not in ids:
            raise ValueError(f"key: {self.key!r} is not an option id; use one of {', '.join(ids)}")
        return self


class MultipleChoice(ItemBase):
    """Select all that apply: an option counts as right when selected iff it is in the key."""

    type: Literal["multiple_choice"]
    options: list[Option] = Field(min_length=3)
    key: list[Identifier] = Field(min_length=1)
    scoring: list[ScoreRule] = Field(default_factory=list)
    weights: OptionWeights | None = None
    # other answers that also score 1 (QTI processing that accepts several answers, e.g. the IMS
    # reference item choice_multiple_chocolade); all-or-nothing items only
    also_correct: list[list[Identifier]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _key_exists(self) -> MultipleChoice:
        ids = [o.id for o in self.options]
        _unique(ids, "option", "options")
        _unique(list(self.key), "key", "key")
        for k in self.key:
            if k not in ids:
                raise ValueError(f"key: {k!r} is not an option id; use one of {', '.join(ids)}")
        _check_rules(self.scoring, len(self.options), "options")
        seen = [set(self.key)]
        for n, answer in enumerate(self.also_correct):
            if self.scoring or self.weights is not None:
                raise ValueError("also_correct: other correct answers need all-or-nothing scoring; leave out "
                                 "scoring and weights, or also_correct")
            if not answer:
                raise ValueError(f"also_correct[{n}]: an answer chooses at least one option")
            _unique(list(answer), "option", f"also_correct[{n}]")
            for k in answer:
                if k not in ids:
                    raise ValueError(f"also_correct[{n}]: {k!r} is not an option id; use one of {', '.join(ids)}")
            if set(answer) in seen:
                raise ValueError(f"also_correct[{n}]: this answer is the key or listed before; list each once")
            seen.append(set(answer))
        if self.weights is not None:
            if self.scoring:
                raise ValueError("weights: an item scores by scoring rules or by weights, not both; leave one out")
            for oid in self.weights.points:
                if oid not in ids:
                    raise ValueError(f"weights.points: {oid!r} is not an option id; use one of {', '.join(ids)}")
            points = [self.weights.points.get(i, 0) for i in ids]
            key_score = clamp_score(sum(self.weights.points.get(k, 0) for k in self.key), self.weights.upper)
            _check_weights(self.weights.upper, [[0, p] for p in points], key_score, "weights")
        return self

    @property
    def max_score(self) -> int:
        if self.weights is not None:
            return max(_reachable([[0, self.weights.points.get(o.id, 0)] for o in self.options],
                                  self.weights.upper)[0])
        return self.scoring[0].score if self.scoring else 1


class Statement(Strict):
    id: Identifier
    text: LocalText
    rationale: LocalText | None = None  # why the keyed choice is right, as for an Option


class ComplexChoice(ItemBase):
    """PISA's table of statements, each answered from one shared set of choices."""

    type: Literal["complex_choice"]
    statements: list[Statement] = Field(min_length=2)
    choices: list[Option] = Field(min_length=2)
    key: dict[Identifier, Identifier]
    scoring: list[ScoreRule] = Field(default_factory=list)
    weights: PairWeights | None = None

    @model_validator(mode="after")
    def _key_complete(self) -> ComplexChoice:
        sids = [s.id for s in self.statements]
        cids = [c.id for c in self.choices]
        _unique(sids, "statement", "statements")
        _unique(cids, "choice", "choices")
        for sid, cid in self.key.items():
            if sid not in sids:
                raise ValueError(f"key: {sid!r} is not a statement id")
            if cid not in cids:
                raise ValueError(f"key: the choice for {sid!r} is {cid!r}, not a choice id; use one of {', '.join(cids)}")
        missing = [s for s in sids if s not in self.key]
        if missing:
            raise ValueError(f"key: no choice given for statement(s) {', '.join(missing)}")
        _check_rules(self.scoring, len(sids), "statements")
        if self.weights is not None:
            if self.scoring:
                raise ValueError("weights: an item scores by scoring rules or by weights, not both; leave one out")
            for sid, row in self.weights.points.items():
                if sid not in sids:
                    raise ValueError(f"weights.points: {sid!r} is not a statement id; use one of {', '.join(sids)}")
                for cid in row:
                    if cid not in cids:
                        raise ValueError(f"weights.points: the choice {cid!r} of {sid!r} is not a choice id; use "
                                         f"one of {', '.join(cids)}")
            key_score = clamp_score(sum(self.weights.points.get(s, {}).get(c, 0) for s, c in self.key.items()),
                                    self.weights.upper)
            _check_weights(self.weights.upper, self._weight_groups(), key_score, "weights")
        return self

    def _weight_groups(self) -> list[list[int]]:
        assert self.weights is not None
        return [[0, *(self.weights.points.get(s.id, {}).get(c.id, 0) for c in self.choices)] for s in self.statements]

    @property
    def max_score(self) -> int:
        if self.weights is not None:
            return max(_reachable(self._weight_groups(), self.weights.upper)[0])
        return self.scoring[0].score if self.scoring else 1


class Step(Strict):
    """A part of an order item: what the student puts in its place."""

    id: Identifier
    text: LocalText


class Order(ItemBase):
    """Put the options in order (QTI's order interaction): ``options`` as shown to students,
    ``key`` every option id once, in the right order.  Score 1 for exactly the key's order."""

    type: Literal["order"]
    options: list[Step] = Field(min_length=2, max_length=20)
    key: list[Identifier] = Field(min_length=2)

    @model_validator(mode="after")
    def _key_is_an_order(self) -> Order:
        ids = [o.id for o in self.options]
        _unique(ids, "option", "options")
        _unique(list(self.key), "key", "key")
        for k in self.key:
            if k not in ids:
                raise ValueError(f"key: {k!r} is not an option id; use one of {', '.join(ids)}")
        missing = [i for i in ids if i not in self.key]
        if missing:
            raise ValueError(f"key: put every option in the order; {', '.join(missing)} missing")
        if self.key == ids:
            raise ValueError("key: the right order is the order shown; list the options in another order "
                             "(students see them as listed)")
        return self


class AcceptedAnswers(Strict):
    """Accepted answers per language; a response in either language's list scores."""

    zh_TW: list[str] = Field(alias="zh-TW", min_length=1)
    en: list[str] = Field(min_length=1)


class NumericAnswer(Strict):
    value: float
    tolerance: float = Field(default=0.0, ge=0)


class ShortResponse(ItemBase):
    type: Literal["short_response"]
    accepted: AcceptedAnswers
    numeric: NumericAnswer | None = None


class Credit(StrEnum):
    full = "full"
    partial = "partial"
    none = "none"
    missing = "missing"


class Code(Strict):
    code: str = Field(min_length=1, max_length=4)
    credit: Credit
    score: int = Field(ge=0)
    descriptor: LocalText
    examples: list[LocalText] = Field(default_factory=list)


class OpenResponse(ItemBase):
    """Constructed response, scored by human coders with the coding guide."""

    type: Literal["open_response"]
    coding_guide: list[Code] = Field(min_length=3)
    lines: int = Field(default=6, ge=1, le=40, description="answer lines on paper")

    @model_validator(mode="after")
    def _guide_consistent(self) -> OpenResponse:
        _unique([c.code for c in self.coding_guide], "code", "coding_guide")
        credits = [c.credit for c in self.coding_guide]
        for needed in ("full", "none", "missing"):
            if needed not in credits:
                raise ValueError(f"coding_guide: needs a code with credit '{needed}'")
        top = max(c.score for c in self.coding_guide)
        for i, c in enumerate(self.coding_guide):
            if c.credit == "full" and c.score != top:
                raise ValueError(f"coding_guide[{i}].score: code {c.code}: full credit must carry the highest score ({top})")
            if c.credit in ("none", "missing") and c.score != 0:
                raise ValueError(f"coding_guide[{i}].score: code {c.code}: credit '{c.credit}' scores 0")
            if c.credit == "partial" and not 0 < c.score < top:
                raise ValueError(f"coding_guide[{i}].score: code {c.code}: partial credit must score between 0 and {top}")
            if c.credit != "missing" and not c.examples:
                raise ValueError(f"coding_guide[{i}].examples: code {c.code}: give example answers for coders")
        return self

    @property
    def max_score(self) -> int:
        return max(c.score for c in self.coding_guide)


Item = Annotated[
    SingleChoice | MultipleChoice | ComplexChoice | ShortResponse | OpenResponse | Order,
    Field(discriminator="type"),
]


def rationale_parts(item: Any) -> list[Option] | list[Statement]:
    """The parts of ``item`` that carry a rationale: the options of a single- or multiple-choice
    item, the statements of a complex-choice item; none for other types."""
    if isinstance(item, SingleChoice | MultipleChoice):
        return item.options
    if isinstance(item, ComplexChoice):
        return item.statements
    return []


# -- unit ---------------------------------------------------------------------------------------
class UnitMetadata(Strict):
    dimension: Dimension
    content_domain: ContentDomain
    context: LocalText
    grade_band: list[GradeBand] = Field(min_length=1)
    estimated_minutes: int = Field(ge=1, le=120)
    author: str = Field(min_length=1)
    sdgs: list[int] = Field(default_factory=list)
    topics: list[Identifier] = Field(default_factory=list)

    @field_validator("sdgs")
    @classmethod
    def _sdg_range(cls, value: list[int]) -> list[int]:
        for sdg in value:
            if not 1 <= sdg <= 17:
                raise ValueError(f"SDG {sdg} does not exist; SDGs are numbered 1 to 17")
        return value


class Unit(Strict):
    """A PISA-style unit: one real-world scenario and the items about it."""

    id: Identifier
    version: int = Field(default=1, ge=1)
    status: Status = Status.draft
    title: LocalText
    metadata: UnitMetadata
    stimulus: list[StimulusBlock] = Field(default_factory=list)  # none: items that stand alone
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _items_consistent(self) -> Unit:
        _unique([i.id for i in self.items], "item", "items")
        for i, item in enumerate(self.items):
            if item.irt is not None and item.irt.n_scores != item.max_score + 1:
                raise ValueError(
                    f"items[{i}].irt: item {item.id}: its irt block has {item.irt.n_scores} score categories "
                    f"but the item scores 0..{item.max_score}; a dichotomous model needs a "
                    "0/1 item, GRM/GPCM need one b per score above 0"
                )
        return self


class CalibrationRecord(Strict):
    """Provenance of a set of item parameters: a file under items/calibrations/."""

    id: Identifier
    date: date
    method: str = Field(min_length=1)
    software: str = Field(min_length=1)
    data: str = Field(min_length=1, description="the response data set, e.g. a path in calibration_data/")
    persons: int = Field(ge=1)
    population: dict[Literal["mean", "sd"], float]
    description: LocalText | None = None


class CalibrationFile(Strict):
    calibration: CalibrationRecord


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a unit file, for editors (written to itembank/schema/unit.schema.json)."""
    schema = Unit.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://gc-itembank.invalid/schema/unit.schema.json"
    return schema


def language_complete(obj: Any, language: str) -> bool:
    """True when every LocalText / AcceptedAnswers inside ``obj`` has non-blank ``language`` text."""
    attr = "zh_TW" if language == "zh-TW" else language
    if isinstance(obj, LocalText | AcceptedAnswers):
        value = getattr(obj, attr, None)
        return bool(value) and (not isinstance(value, str) or bool(value.strip()))
    if isinstance(obj, BaseModel):
        return all(language_complete(getattr(obj, f), language) for f in type(obj).model_fields)
    if isinstance(obj, list | tuple):
        return all(language_complete(x, language) for x in obj)
    if isinstance(obj, dict):
        return all(language_complete(x, language) for x in obj.values())
    return True

