"""Write the stored bank back as YAML files: one per unit at its source path, images, calibrations."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Calibration, MediaFile
from .queries import latest_versions, unit_schema
from .schema import CalibrationRecord, LocalText
from .validation import CALIBRATIONS_DIR
from .yaml_export import calibration_yaml, unit_yaml


def export_bank(session: Session, out: Path) -> list[Path]:
    """Write every unit's latest version and every calibration record under ``out``; return the files."""
    written: list[Path] = []
    for version in latest_versions(session):
        relpath = PurePosixPath(version.unit.source_path)
        target = out / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(unit_yaml(unit_schema(version)), encoding="utf-8")
        written.append(target)
        for src, digest in sorted(version.media.items()):
            media = session.get(MediaFile, digest)
            if media is None:  # pragma: no cover - guarded by the foreign data model
                continue
            image = target.parent / src
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(media.data)
            written.append(image)
    for row in session.scalars(select(Calibration).order_by(Calibration.id)):
        target = out / CALIBRATIONS_DIR / f"{row.id}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(calibration_yaml(calibration_record(row)), encoding="utf-8")
        written.append(target)
    return written


def calibration_record(row: Calibration) -> CalibrationRecord:
    return CalibrationRecord(
        id=row.id, date=row.date, method=row.method, software=row.software, data=row.data,
        persons=row.persons, population={"mean": row.population_mean, "sd": row.population_sd},
        description=LocalText.model_validate(row.description) if row.description else None,
    )
