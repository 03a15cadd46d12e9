"""Student questionnaires in the database: a questionnaire file imported with the bank is stored
as a numbered version (a changed file makes the next one, an unchanged file nothing), so a web
worker can deliver it and a researcher can scale its answers with the version they were given."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import QuestionnaireVersion
from .questionnaire import Questionnaire

__all__ = [
    "definition_of",
    "latest_version",
    "questionnaire_ids",
    "questionnaire_of",
    "questionnaire_yaml",
    "save_questionnaire",
]


def definition_of(questionnaire: Questionnaire) -> dict[str, Any]:
    """The questionnaire as plain JSON with its file's keys (``zh-TW``, ``construct``)."""
    return questionnaire.model_dump(by_alias=True, mode="json", exclude_none=True)


def _hash(definition: dict[str, Any]) -> str:
    text = json.dumps(definition, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_questionnaire(
    session: Session, questionnaire: Questionnaire, source_path: str
) -> tuple[str, str]:
    """Store ``questionnaire`` in the caller's transaction; returns (outcome, label) with outcome
    ``created`` (a new questionnaire), ``new_versions`` or ``unchanged``."""
    definition = definition_of(questionnaire)
    digest = _hash(definition)
    qid = questionnaire.id
    latest = latest_version(session, qid)
    if latest is not None and latest.content_hash == digest:
        return "unchanged", qid
    number = latest.version + 1 if latest is not None else 1
    session.add(QuestionnaireVersion(
        questionnaire_id=qid, version=number, content_hash=digest, definition=definition,
        source_path=source_path[:255],
    ))
    session.flush()
    return ("created", qid) if number == 1 else ("new_versions", f"{qid} v{number}")


def latest_version(session: Session, questionnaire_id: str) -> QuestionnaireVersion | None:
    """The version delivered from now on (the highest number); None if it was never imported."""
    return session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    ).first()


def questionnaire_ids(session: Session) -> list[str]:
    """Every stored questionnaire's id, sorted (for the test forms' choices)."""
    return list(session.scalars(
        select(QuestionnaireVersion.questionnaire_id).distinct()
        .order_by(QuestionnaireVersion.questionnaire_id)
    ))


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The stored version as the validated questionnaire."""
    return Questionnaire.model_validate(version.definition)


def questionnaire_yaml(version: QuestionnaireVersion) -> str:
    """The stored version as a questionnaire file (for ``itembank questionnaire scale``)."""
    head = (f"# {version.questionnaire_id} version {version.version} as stored in the bank "
            f"(imported from {version.source_path})\n")
    return head + yaml.safe_dump(version.definition, allow_unicode=True, sort_keys=False, width=100)
