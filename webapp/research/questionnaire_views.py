"""Questionnaire answers of a test's online sessions for researchers: the wide CSV that
``itembank questionnaire scale`` reads and the questionnaire version it needs (docs/research.md,
"Questionnaire indices of online sessions").  The work is :mod:`itembank.research.questionnaire_data`;
rows are narrowed to the sessions the researcher sees (:func:`itembank.delivery.scope.session_clause`)."""

from __future__ import annotations

from flask import Response, abort
from flask_login import current_user

from itembank.accounts import audit
from itembank.delivery import scope as session_scope
from itembank.research.questionnaire_data import NoQuestionnaireData, questionnaire_table

from ..database import get_db
from . import bp
from .views import _download, _research_test_or_404, research_required


def _table(test_id: str):  # type: ignore[no-untyped-def]
    db = get_db()
    _research_test_or_404(db, test_id)
    try:
        return questionnaire_table(db, test_id, where=session_scope.session_clause(current_user))
    except NoQuestionnaireData:
        abort(404)


@bp.get("/tests/<test_id>/questionnaire.csv")
@research_required
def questionnaire_csv(test_id: str) -> Response:
    table = _table(test_id)
    audit.record_now(get_db(), current_user, "questionnaire.export", f"test:{test_id}",
                     {"questionnaire": table.version.questionnaire_id,
                      "version": table.version.version, "sessions": len(table.rows)})
    return _download(table.csv_text(), f"{test_id}-questionnaire.csv", "text/csv")


@bp.get("/tests/<test_id>/questionnaire.yaml")
@research_required
def questionnaire_yaml(test_id: str) -> Response:
    table = _table(test_id)
    name = f"{table.version.questionnaire_id}-v{table.version.version}.yaml"
    return _download(table.questionnaire_yaml(), name, "application/yaml")
