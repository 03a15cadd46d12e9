"""The questionnaire indices of a test's online sessions, as ``itembank questionnaire scale``
computes them (irt.questionnaire: reverse coding, GPCM calibration, WLE, standardised to mean 0
and SD 1 over every student scored), aligned to the persons of a learning-outcome report, so that
the report can correlate them with the scale score (:mod:`.index_correlations`).

Every session of the test that was given the questionnaire counts (aggregates of every city, as
the report's); a scale that fewer than :data:`MIN_ANSWERS` students answered is not scaled and
is listed in ``too_few`` for the page to say so.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from irt.calibration import CalibrationError, CalibrationWarning
from irt.questionnaire import QuestionnaireError, reverse_code, scale
from itembank.bank.questionnaire_store import questionnaire_of

from .questionnaire_data import NoQuestionnaireData, questionnaire_table

MIN_ANSWERS = 20  # students who answered a scale, below which it is not scaled


@dataclass(frozen=True)
class IndexScale:
    """One scaled index: id, localised name, values (N,) in the order of the report's persons
    (NaN: no index), the number of students scored, the WLE reliability."""

    id: str
    name: dict[str, str]
    values: np.ndarray
    n_scored: int
    reliability: float


@dataclass
class Indices:
    """The indices of one questionnaire version; ``too_few``: (scale id, its name, students who
    answered it) of scales not scaled; ``notes``: the calibration's warnings."""

    questionnaire_id: str
    version: int
    scales: list[IndexScale] = field(default_factory=list)
    too_few: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def scale_indices(db: Session, test_id: str, person_ids: Sequence[str]) -> Indices | None:
    """Scale every scale of the questionnaire ``test_id``'s sessions were given (the latest
    version) and align the indices to ``person_ids`` (session ids); None when no session of the
    test was given a questionnaire."""
    try:
        table = questionnaire_table(db, test_id)
    except NoQuestionnaireData:
        return None
    q = questionnaire_of(table.version)
    out = Indices(q.id, table.version.version)
    raw = np.array([[np.nan if v is None else float(v) for v in values]
                    for _pid, _lang, values in table.rows], dtype=float).reshape(
        len(table.rows), len(table.item_ids))
    column = {item_id: j for j, item_id in enumerate(table.item_ids)}
    row_of = {pid: k for k, (pid, _lang, _v) in enumerate(table.rows)}
    at = np.array([row_of.get(p, -1) for p in person_ids], dtype=int)
    for s in q.scales:
        ids = [item.id for item in s.items]
        k = q.n_categories(s)
        x = reverse_code(raw[:, [column[i] for i in ids]], [item.reverse for item in s.items],
                         [k] * len(ids))
        answered = ~np.all(np.isnan(x), axis=1)
        n = int(answered.sum())
        name = {"zh-TW": s.name.zh_TW, "en": s.name.en}
        if n < MIN_ANSWERS:
            out.too_few.append((s.id, name, n))
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CalibrationWarning)
                result = scale(x[answered], ids)
        except (QuestionnaireError, CalibrationError) as exc:
            out.too_few.append((s.id, name, n))
            out.notes.append(f"scale {s.id}: {exc}")
            continue
        out.notes += [f"scale {s.id}: {w.message}" for w in caught]
        index = np.full(len(table.rows), np.nan)
        index[answered] = result.index
        values = np.where(at >= 0, index[np.maximum(at, 0)], np.nan)
        out.scales.append(IndexScale(s.id, name, values, int(np.isfinite(index).sum()),
                                     float(result.reliability)))
    return out
