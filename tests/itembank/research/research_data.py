"""Upload files built from calibration_data/field_trial_2026 for the research tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path

FIELD_TRIAL = Path(__file__).resolve().parents[3] / "calibration_data" / "field_trial_2026"


def field_trial_csv(n_items: int = 40, n_persons: int | None = None, window: str | None = None) -> bytes:
    """Wide CSV with background columns: person_id, city, school, grade, language, gender[, window],
    the first ``n_items`` items; persons who took none of them are left out."""
    with open(FIELD_TRIAL / "persons.csv", encoding="utf-8") as fh:
        persons = {r["person_id"]: r for r in csv.DictReader(fh)}
    with open(FIELD_TRIAL / "responses.csv", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader]
    items = header[1 : n_items + 1]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    bg = ["city", "school", "grade", "language", "gender"]
    w.writerow(["person_id", *bg, *(["window"] if window else []), *items])
    kept = 0
    for r in rows:
        cells = r[1 : n_items + 1]
        if not any(c.strip() for c in cells):
            continue
        p = persons[r[0]]
        w.writerow([r[0], *(p[c] for c in bg), *([window] if window else []), *cells])
        kept += 1
        if n_persons is not None and kept >= n_persons:
            break
    return out.getvalue().encode()
