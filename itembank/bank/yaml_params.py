"""Write calibrated parameters into the bank's YAML source (the irt blocks and a calibration record).

Used to publish a calibration into a git-managed bank folder; the files are rewritten in the
canonical form of :mod:`itembank.bank.yaml_export`, so the diff shows exactly the parameters that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from itembank.errors import ProblemsError

from .schema import CalibrationRecord, Irt
from .validation import CALIBRATIONS_DIR, load_bank
from .yaml_export import calibration_yaml, unit_yaml


def attach_parameters(
    bank_dir: Path, records: list[Mapping[str, Any]], calibration: CalibrationRecord, digits: int = 3
) -> tuple[int, list[str]]:
    """Give every item of ``bank_dir`` found in ``records`` (PARAMS.json item records) an irt block
    from ``calibration``; write the calibration record.  Returns (items updated, ids not in the bank).

    Parameters are rounded to ``digits`` decimals: well below their standard errors, and readable.
    """
    bank = load_bank([bank_dir])
    if bank.problems:
        raise ProblemsError(bank.problems)
    by_id = {str(r["id"]): r for r in records}
    seen: set[str] = set()
    updated = 0
    for loaded in bank.units:
        changed = False
        items = []
        for item in loaded.unit.items:
            record = by_id.get(item.id)
            if record is not None:
                seen.add(item.id)
                item = item.model_copy(update={"irt": _irt(record, calibration.id, digits)})
                changed = True
                updated += 1
            items.append(item)
        if changed:
            unit = loaded.unit.model_copy(update={"items": items})
            type(unit).model_validate(unit.model_dump(by_alias=True))  # the result must stay valid
            (bank_dir / loaded.relpath).write_text(unit_yaml(unit), encoding="utf-8")
    target = bank_dir / CALIBRATIONS_DIR / f"{calibration.id}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(calibration_yaml(calibration), encoding="utf-8")
    return updated, sorted(set(by_id) - seen)


def _irt(record: Mapping[str, Any], calibration_id: str, digits: int) -> Irt:
    model = str(record["model"])
    b = record["b"]
    rounded_b = [round(float(x), digits) for x in b] if isinstance(b, list) else round(float(b), digits)
    return Irt.model_validate({
        "model": model,
        "a": None if model == "rasch" else round(float(record["a"]), digits),
        "b": rounded_b,
        "c": round(float(record["c"]), digits) if model == "3pl" else None,
        "calibration": calibration_id,
    })
