"""Questionnaire answers of a test's online sessions as the wide CSV that ``itembank
questionnaire scale`` reads, with the questionnaire version they were given as its YAML file.

One row per session that reached the questionnaire: ``person_id`` (the session id, as in the
test's RESPONSES.csv exports), ``language`` (the session's: scale with ``--group language`` to
check invariance across the two), then one column per statement with the category chosen, 0 for
the first of its response scale, as ticked (reverse-coded statements are turned round by the
scaling), blank when left blank or never shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from itembank.bank.models import QuestionnaireVersion
from itembank.bank.questionnaire_store import questionnaire_yaml
from itembank.delivery.models import QuestionnaireAnswer, Test, TestSession
from itembank.errors import ItembankError

__all__ = ["NoQuestionnaireData", "QuestionnaireTable", "questionnaire_table"]


class NoQuestionnaireData(ItembankError):
    """No session of the test answered a questionnaire (or the version asked for)."""


@dataclass(frozen=True)
class QuestionnaireTable:
    version: QuestionnaireVersion
    item_ids: list[str]
    rows: list[tuple[str, str, list[int | None]]]  # (person_id, language, categories)

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["person_id", "language", *self.item_ids])
        for person, language, values in self.rows:
            writer.writerow([person, language, *("" if v is None else v for v in values)])
        return out.getvalue()

    def questionnaire_yaml(self) -> str:
        return questionnaire_yaml(self.version)


def questionnaire_table(
    db: Session, test_id: str, *, version: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> QuestionnaireTable:
    """The questionnaire answers of ``test_id``'s sessions (narrowed by ``where``, a viewer's
    scope) given ``version`` of its questionnaire (default: the latest version any session was
    given; sessions given another version are in that version's table)."""
    test = db.get(Test, test_id)
    if test is None:
        raise NoQuestionnaireData(f"there is no test {test_id!r}")
    scope = true() if where is None else where
    given = (
        select(TestSession.questionnaire_version_id)
        .where(TestSession.test_id == test_id, scope)
        .scalar_subquery()
    )
    versions = list(db.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id.in_(given))
        .order_by(QuestionnaireVersion.version)
    ))
    if version is not None:
        versions = [v for v in versions if v.version == version]
    if not versions:
        raise NoQuestionnaireData(
            f"no session of test {test_id!r} was given "
            + (f"version {version} of its questionnaire" if version is not None
               else "a questionnaire")
        )
    chosen = versions[-1]
    item_ids = [item["id"] for scale in chosen.definition["scales"] for item in scale["items"]]
    sessions = list(db.scalars(
        select(TestSession)
        .where(TestSession.test_id == test_id, TestSession.questionnaire_version_id == chosen.id,
               scope)
        .order_by(TestSession.started_at, TestSession.id)
    ))
    answers: dict[str, dict[str, int | None]] = {ts.id: {} for ts in sessions}
    for sid, item_id, category in db.execute(
        select(QuestionnaireAnswer.session_id, QuestionnaireAnswer.item_id,
               QuestionnaireAnswer.category)
        .join(TestSession, TestSession.id == QuestionnaireAnswer.session_id)
        .where(TestSession.test_id == test_id, TestSession.questionnaire_version_id == chosen.id,
               scope)
    ):
        if sid in answers:
            answers[sid][item_id] = category
    rows = [(ts.id, ts.language, [answers[ts.id].get(i) for i in item_ids]) for ts in sessions]
    return QuestionnaireTable(chosen, item_ids, rows)
