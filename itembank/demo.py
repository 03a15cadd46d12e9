"""What ``itembank init --demo`` adds beyond the bank's items: the adaptive test ``demo-cat``
(access code ``DEMO``), open to any student id, always open, 60 minutes, score shown, ending with
the student questionnaire ``GCQ-DEMO`` when the bank holds it (items/questionnaires/)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from itembank.bank.questionnaire_store import latest_version
from itembank.delivery.models import Test
from itembank.delivery.sessions import create_test

DEMO_TEST_ID = "demo-cat"
DEMO_ACCESS_CODE = "DEMO"
DEMO_CAT_CONFIG: dict[str, Any] = {
    "start": {"method": "fixed", "theta": 0.0},
    "estimation": {"interim": "eap", "final": "wle"},
    "selection": {"method": "max-info", "unit_criterion": "mean"},
    # Randomesque among the 3 best units: two students of the same ability see different units.
    "exposure": {"method": "randomesque", "k": 3},
    "content": {
        "dimension": {
            "examine_issues": 0.25,
            "understand_perspectives": 0.25,
            "intercultural_interaction": 0.25,
            "take_action": 0.25,
        },
        "tolerance": 0.1,
    },
    # Units hold several items, so a test stops after the unit that crosses SE 0.35 or 20 items.
    "stopping": {"se": 0.35, "min_items": 6, "max_items": 20},
}
DEMO_QUESTIONNAIRE_ID = "GCQ-DEMO"
DEMO_TITLE = {"zh-TW": "全球素養適性測驗（示範）", "en": "Global Competence Adaptive Test (demo)"}


def create_demo_content(session: Session) -> str:
    """Create (or bring up to date) the demo test; returns a sentence for the console."""
    test = session.get(Test, DEMO_TEST_ID)
    questionnaire = (
        DEMO_QUESTIONNAIRE_ID if latest_version(session, DEMO_QUESTIONNAIRE_ID) is not None else None
    )
    if test is None:
        create_test(
            session,
            id=DEMO_TEST_ID,
            title=DEMO_TITLE,
            access_code=DEMO_ACCESS_CODE,
            kind="adaptive",
            cat_config_data=DEMO_CAT_CONFIG,
            time_limit_minutes=60,
            show_score=True,
            max_attempts=None,  # the shared demo: anyone, any number of times
            questionnaire_id=questionnaire,
        )
        verb = "created"
    else:
        test.title = dict(DEMO_TITLE)
        test.cat_config = dict(DEMO_CAT_CONFIG)
        test.access_code = DEMO_ACCESS_CODE
        test.max_attempts = None
        test.questionnaire_id = questionnaire
        verb = "updated"
    session.flush()
    return (
        f"Demo test {DEMO_TEST_ID!r} {verb}: access code {DEMO_ACCESS_CODE}, any student id, "
        "60 minutes"
        + (f", then the questionnaire {questionnaire}" if questionnaire else "")
        + "; start it with `itembank serve`."
    )
