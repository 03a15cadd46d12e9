"""The questionnaire format: one pydantic definition of a student questionnaire (Likert scales
with no right answer), and its loader with FILE:LINE:COLUMN problems.

A questionnaire is an instrument of its own, not a unit: YAML files in a folder named
``questionnaires`` (``items/questionnaires/`` in this bank), each holding its response scales
(the ordered categories a student chooses from), and its scales, each measuring one construct
with a few statements, some of them reverse-coded.  Every text is in zh-TW and en.  Documented in
docs/item-format.md ("Questionnaires").
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from itembank.errors import Problem, ProblemsError

from .schema import Identifier, LocalText, Strict
from .validation import QUESTIONNAIRES_DIR, schema_problems
from .yaml_source import parse_yaml

__all__ = ["QUESTIONNAIRES_DIR", "Questionnaire", "load_questionnaire", "parse_questionnaire"]


class Construct(StrEnum):
    """The attitudes and dispositions of PISA 2018's global competence framework that the
    student questionnaire measures (OECD 2018, The PISA Global Competence Framework)."""

    awareness_of_global_issues = "awareness_of_global_issues"
    interest_in_other_cultures = "interest_in_other_cultures"
    respect_for_other_cultures = "respect_for_other_cultures"
    global_mindedness = "global_mindedness"
    self_efficacy_global_issues = "self_efficacy_global_issues"
    adaptability = "adaptability"
    perspective_taking = "perspective_taking"
    intercultural_communication = "intercultural_communication"
    attitudes_towards_immigrants = "attitudes_towards_immigrants"
    other = "other"


class ResponseKind(StrEnum):
    agreement = "agreement"  # strongly disagree … strongly agree
    frequency = "frequency"  # never … always
    self_description = "self_description"  # not at all like me … very much like me
    other = "other"


class ResponseScale(Strict):
    """The ordered categories of a response scale; a response is scored 0..K−1 in this order,
    lowest agreement / frequency / likeness first."""

    id: Identifier
    kind: ResponseKind
    categories: list[LocalText] = Field(min_length=2, max_length=7)


class QuestionnaireItem(Strict):
    """One statement.  reverse: worded against the construct (agreeing means less of it), so
    its score is turned round, x → K − 1 − x, before scaling."""

    id: Identifier
    stem: LocalText
    reverse: bool = False


class Scale(Strict):
    """A set of statements measuring one construct, all answered on one response scale."""

    id: Identifier
    name: LocalText
    construct_: Construct = Field(alias="construct")  # BaseModel has a method `construct`
    prompt: LocalText = Field(description="the question above the statements")
    response_scale: Identifier
    items: list[QuestionnaireItem] = Field(min_length=3, max_length=12)


class Questionnaire(Strict):
    id: Identifier
    title: LocalText
    introduction: LocalText | None = None
    response_scales: list[ResponseScale] = Field(min_length=1)
    scales: list[Scale] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Questionnaire:
        seen: dict[str, str] = {}
        for i, rs in enumerate(self.response_scales):
            if rs.id in seen:
                raise ValueError(
                    f"response_scales[{i}].id: response scale id {rs.id!r} is used twice"
                )
            seen[rs.id] = f"response_scales[{i}]"
        scale_ids: set[str] = set()
        item_ids: dict[str, str] = {}
        for s, scale in enumerate(self.scales):
            if scale.id in scale_ids:
                raise ValueError(f"scales[{s}].id: scale id {scale.id!r} is used twice")
            scale_ids.add(scale.id)
            if scale.response_scale not in seen:
                raise ValueError(
                    f"scales[{s}].response_scale: no response scale {scale.response_scale!r}; "
                    f"use one of {sorted(seen)}"
                )
            for k, item in enumerate(scale.items):
                if item.id in item_ids:
                    raise ValueError(
                        f"scales[{s}].items[{k}].id: item id {item.id!r} is also used at "
                        f"{item_ids[item.id]}; item ids must be unique in a questionnaire"
                    )
                item_ids[item.id] = f"scales[{s}].items[{k}]"
        return self

    def response_scale(self, scale: Scale) -> ResponseScale:
        return next(rs for rs in self.response_scales if rs.id == scale.response_scale)

    def n_categories(self, scale: Scale) -> int:
        return len(self.response_scale(scale).categories)

    def scale(self, scale_id: str) -> Scale:
        """The scale with this id (KeyError naming it if there is none)."""
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(f"no scale {scale_id!r} in questionnaire {self.id!r}")

    @property
    def item_ids(self) -> list[str]:
        return [item.id for scale in self.scales for item in scale.items]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a questionnaire file, for editors."""
    return Questionnaire.model_json_schema(by_alias=True)


def is_questionnaire_path(path: Path) -> bool:
    """Whether ``path`` is a questionnaire file by its place (a folder named questionnaires)."""
    return path.parent.name == QUESTIONNAIRES_DIR


def parse_questionnaire(raw: bytes | str, name: str) -> tuple[Questionnaire | None, list[Problem]]:
    """Validate one questionnaire given as YAML text; every problem as FILE:LINE:COLUMN."""
    doc, problems = parse_yaml(raw, name)
    if doc is None:
        return None, problems
    if not isinstance(doc.data, dict):
        return None, [
            *problems,
            Problem(name, 1, 1, "a questionnaire file holds one mapping (id, title, "
                                "response_scales, scales), not a list or a single value"),
        ]
    try:
        questionnaire = Questionnaire.model_validate(doc.data)
    except ValidationError as exc:
        return None, [*problems, *schema_problems(doc, exc)]
    return (questionnaire if not problems else None), problems


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire file; :class:`ProblemsError` lists every problem."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProblemsError([Problem(name, 0, 0, f"cannot read the file: {exc.strerror or exc}")]) from exc
    questionnaire, problems = parse_questionnaire(raw, name)
    if questionnaire is None or problems:
        raise ProblemsError(problems)
    return questionnaire
