"""Import unit and calibration files into the database, all or nothing.

Changed content makes a new unit version; a change of status alone updates the latest version;
parameters in ``irt`` blocks are attached to the item versions with their calibration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.errors import Problem, ProblemsError

from .images import ImageError, check_image
from .models import Calibration, Item, ItemParameters, ItemVersion, MediaFile, Unit, UnitVersion
from .questionnaire import Questionnaire, load_questionnaire
from .questionnaire_store import save_questionnaire
from .schema import CalibrationRecord, Irt
from .schema import Unit as UnitSchema
from .validation import LoadedBank, LoadedUnit, load_bank
from .yaml_export import content_hash, unit_content, without_irt


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # unit ids new to the bank
    new_versions: list[str] = field(default_factory=list)  # "GC-001 v2"
    unchanged: list[str] = field(default_factory=list)
    calibrations: list[str] = field(default_factory=list)
    questionnaires: list[str] = field(default_factory=list)  # "GCQ-DEMO (new)", "GCQ-DEMO v2"


def import_paths(session: Session, paths: Sequence[Path | str], author: str | None = None) -> ImportReport:
    """Validate ``paths`` and import them in the caller's transaction; raise ProblemsError on any problem."""
    bank = load_bank(paths)
    if bank.problems:
        raise ProblemsError(bank.problems)
    return import_bank(session, bank, author=author)


def import_bank(session: Session, bank: LoadedBank, author: str | None = None) -> ImportReport:
    problems = _database_problems(session, bank)
    if problems:
        raise ProblemsError(problems)
    questionnaires = _questionnaires(bank)
    report = ImportReport()
    for record in bank.calibrations:
        save_calibration(session, record)
        report.calibrations.append(record.id)
    session.flush()
    for loaded in bank.units:
        outcome = save_unit(session, loaded.unit, loaded.relpath, loaded.images, author=author)
        getattr(report, outcome[0]).append(outcome[1])
    for name, questionnaire in questionnaires:
        saved, label = save_questionnaire(session, questionnaire, name)
        if saved != "unchanged":
            report.questionnaires.append(f"{label} (new)" if saved == "created" else label)
    session.flush()
    return report


def _questionnaires(bank: LoadedBank) -> list[tuple[str, Questionnaire]]:
    """The questionnaire files of the bank, read again (validation kept their names only); two
    files with one questionnaire id are a problem naming both."""
    found: list[tuple[str, Questionnaire]] = []
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for name in bank.questionnaires:
        questionnaire = load_questionnaire(name)
        if questionnaire.id in seen:
            problems.append(Problem(name, 1, 1, f"questionnaire id {questionnaire.id!r} is also "
                                                f"used by {seen[questionnaire.id]}"))
            continue
        seen[questionnaire.id] = name
        found.append((name, questionnaire))
    if problems:
        raise ProblemsError(problems)
    return found


def _database_problems(session: Session, bank: LoadedBank) -> list[Problem]:
    """Checks that need the stored bank: items moving between units, unknown calibrations."""
    problems: list[Problem] = []
    known_calibrations = set(session.scalars(select(Calibration.id))) | {c.id for c in bank.calibrations}
    item_units: dict[str, str] = {row[0]: row[1] for row in session.execute(select(Item.id, Item.unit_id))}
    for loaded in bank.units:
        for i, item in enumerate(loaded.unit.items):
            owner = item_units.get(item.id)
            if owner is not None and owner != loaded.unit.id:
                problems.append(Problem(loaded.file, 0, 0, f"items[{i}].id: item {item.id!r} belongs to unit "
                                                           f"{owner!r} in the bank; an item cannot move to another "
                                                           "unit: give it a new id"))
            if item.irt is not None and item.irt.calibration not in known_calibrations:
                problems.append(Problem(loaded.file, 0, 0, f"items[{i}].irt.calibration: unknown calibration "
                                                           f"{item.irt.calibration!r}; import its record first"))
    return problems


def save_calibration(session: Session, record: CalibrationRecord) -> Calibration:
    row = session.get(Calibration, record.id) or Calibration(id=record.id)
    row.date = record.date
    row.method = record.method
    row.software = record.software
    row.data = record.data
    row.persons = record.persons
    row.population_mean = record.population["mean"]
    row.population_sd = record.population["sd"]
    row.description = record.description.model_dump(by_alias=True) if record.description else None
    session.add(row)
    return row


def _save_media(session: Session, images: dict[str, bytes], unit_id: str) -> dict[str, str]:
    """Store new images by their hash.  Every image that enters the bank passes here (editor
    upload, YAML import, QTI import, restore), so the one image check runs here as the last gate;
    a refused image raises ProblemsError and the caller's transaction stores nothing."""
    refs = {}
    for src, data in sorted(images.items()):
        digest = hashlib.sha256(data).hexdigest()
        if session.get(MediaFile, digest) is None:
            try:
                mime = check_image(src, data)
            except ImageError as exc:
                raise ProblemsError([Problem(f"{unit_id}.yaml", 0, 0, f"image {src!r}: {exc}")]) from None
            session.add(MediaFile(sha256=digest, mime=mime, data=data))
        refs[src] = digest
    return refs


def save_unit(
    session: Session,
    unit: UnitSchema,
    relpath: str | None = None,
    images: dict[str, bytes] | None = None,
    author: str | None = None,
) -> tuple[str, str]:
    """Store ``unit``: a new unit, a new version, or (same content) status and parameters only.

    Returns ("created" | "new_versions" | "unchanged", a description).
    """
    content = unit_content(unit)
    digest = content_hash(content)
    media = _save_media(session, images or {}, unit.id)
    row = session.get(Unit, unit.id)
    if row is None:
        row = Unit(id=unit.id, source_path=relpath or f"{unit.id}.yaml")
        session.add(row)
        version = _new_version(session, row, unit, content, digest, media, unit.version, author)
        _attach_parameters(session, version, unit)
        return "created", unit.id
    if relpath:
        row.source_path = relpath
    latest = row.latest
    if latest.content_hash == digest and latest.media == media:
        latest.status = str(unit.status)
        _attach_parameters(session, latest, unit)
        return "unchanged", unit.id
    number = max(latest.version + 1, unit.version)
    version = _new_version(session, row, unit, content, digest, media, number, author)
    _attach_parameters(session, version, unit)
    return "new_versions", f"{unit.id} v{number}"


def _new_version(
    session: Session, row: Unit, unit: UnitSchema, content: dict, digest: str, media: dict[str, str],
    number: int, author: str | None,
) -> UnitVersion:
    stored = without_irt(content)
    stored.pop("version")
    stored.pop("status")
    version = UnitVersion(
        version=number, status=str(unit.status), content=stored, content_hash=digest, media=media,
        dimension=str(unit.metadata.dimension), content_domain=str(unit.metadata.content_domain),
        title_en=unit.title.en[:300], title_zh=unit.title.zh_TW[:300], created_by=author,
    )
    row.versions.append(version)
    # the unit's items that are new to the bank, added with one flush (not one per item)
    ids = [item.id for item in unit.items]
    known = set(session.scalars(select(Item.id).where(Item.id.in_(ids))))
    new_items = [Item(id=item_id, unit_id=unit.id) for item_id in dict.fromkeys(ids) if item_id not in known]
    if new_items:
        session.add_all(new_items)
        session.flush()
    for position, (item, item_content) in enumerate(zip(unit.items, stored["items"], strict=True)):
        version.item_versions.append(
            ItemVersion(item_id=item.id, position=position, type=str(item.type), max_score=item.max_score,
                        content=item_content)
        )
    session.flush()
    return version


def _attach_parameters(session: Session, version: UnitVersion, unit: UnitSchema) -> None:
    by_id = {iv.item_id: iv for iv in version.item_versions}
    session.flush()  # once; the look-ups below (one per item, ids unique in a unit) need no autoflush
    with session.no_autoflush:
        for item in unit.items:
            by_id[item.id].parameters = None if item.irt is None else parameters_row(session, item.id, item.irt)


def parameters_row(session: Session, item_id: str, irt: Irt) -> ItemParameters:
    """The stored parameter set of ``item_id`` from ``irt.calibration``, created or updated to ``irt``."""
    row = session.scalars(
        select(ItemParameters).where(ItemParameters.item_id == item_id,
                                     ItemParameters.calibration_id == irt.calibration)
    ).first()
    if row is None:
        row = ItemParameters(item_id=item_id, calibration_id=irt.calibration)
        session.add(row)
    row.model = str(irt.model)
    row.a = irt.a
    row.b = irt.b
    row.c = irt.c
    return row


def loaded_unit(unit: UnitSchema) -> LoadedUnit:
    """Wrap a unit built in code (web editor, QTI import) like one read from a file."""
    return LoadedUnit(unit=unit, file=f"{unit.id}.yaml", relpath=f"{unit.id}.yaml")
