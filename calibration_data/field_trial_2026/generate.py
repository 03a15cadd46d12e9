"""Simulate the demo bank's field trial (fixed seed) and calibrate it with `itembank calibrate`.

1. Draw generating parameters suited to each item's type: 2PL for items scored 0/1, GPCM for items
   with partial credit (complex and multiple choice with scoring rules, open responses 0/1/2).
2. Group the units into 12 clusters of about equal time and rotate them over 12 booklets of
   3 positions (cyclic design, offsets 0, 1, 3 mod 12: every cluster once in every position, the
   design connected), as PISA rotates clusters.
3. Simulate 5,000 students, θ ~ N(0, 1), each given one booklet; responses for the booklet's items,
   blank elsewhere.  Background columns for later analyses go to persons.csv.
4. Calibrate the responses with the project's own `itembank calibrate` (2PL + GPCM) and write the
   estimates into the bank's YAML (irt blocks + items/calibrations/field-trial-2026.yaml).

Run from the repository root:  .venv/bin/python calibration_data/field_trial_2026/generate.py [ITEMS_DIR]
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np

from irt.models import ItemParameters, sample_responses
from itembank.bank.schema import CalibrationRecord
from itembank.bank.validation import load_bank
from itembank.bank.yaml_params import attach_parameters

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ITEMS = REPO / "items"
SEED = 20261125
N_PERSONS = 5000
N_CLUSTERS = 12
OFFSETS = (0, 1, 3)
CALIBRATION_ID = "field-trial-2026"
# centre of the difficulty distribution by item type (open and constructed answers are harder)
TYPE_DIFFICULTY = {"single_choice": -0.5, "multiple_choice": 0.2, "complex_choice": 0.0,
                   "short_response": 0.1, "open_response": 0.6}


def generating_parameters(units, rng: np.random.Generator) -> list[dict]:
    records = []
    for loaded in units:
        for item in loaded.unit.items:
            a = float(np.exp(rng.normal(np.log(1.1), 0.25)))
            centre = TYPE_DIFFICULTY[str(item.type)] + rng.normal(0, 0.8)
            if item.max_score == 1:
                records.append({"id": item.id, "model": "2pl", "a": a, "b": float(centre)})
            else:
                spread = np.sort(rng.normal(0, 0.5, item.max_score)) + np.linspace(-0.7, 0.7, item.max_score)
                records.append({"id": item.id, "model": "gpcm", "a": a, "b": [float(centre + s) for s in spread]})
    return records


def clusters_by_time(units, n_clusters: int) -> list[list[str]]:
    """Longest-processing-time grouping: each unit to the cluster with the least time so far."""
    order = sorted(units, key=lambda u: (-u.unit.metadata.estimated_minutes, u.unit.id))
    clusters: list[list[str]] = [[] for _ in range(n_clusters)]
    minutes = np.zeros(n_clusters)
    for loaded in order:
        k = int(np.argmin(minutes))
        clusters[k].append(loaded.unit.id)
        minutes[k] += loaded.unit.metadata.estimated_minutes
    return [sorted(c) for c in clusters]


def main(items: Path = ITEMS) -> None:
    rng = np.random.default_rng(SEED)
    bank = load_bank([items])
    if bank.problems:
        sys.exit("\n".join(str(p) for p in bank.problems))
    units = bank.units
    item_ids = [i.id for u in units for i in u.unit.items]
    unit_items = {u.unit.id: [i.id for i in u.unit.items] for u in units}

    records = generating_parameters(units, rng)
    params = ItemParameters.from_records(records)
    clusters = clusters_by_time(units, N_CLUSTERS)
    booklets = [[(b + off) % N_CLUSTERS for off in OFFSETS] for b in range(N_CLUSTERS)]

    theta = rng.normal(0.0, 1.0, N_PERSONS)
    booklet_of = np.arange(N_PERSONS) % N_CLUSTERS  # rotated assignment, as booklets are handed out
    rng.shuffle(booklet_of)
    scores = sample_responses(params, theta, rng).astype(float)
    column = {item_id: j for j, item_id in enumerate(item_ids)}
    administered = np.zeros_like(scores, dtype=bool)
    for b, booklet in enumerate(booklets):
        cols = [column[i] for k in booklet for u in clusters[k] for i in unit_items[u]]
        administered[np.ix_(booklet_of == b, cols)] = True
    scores[~administered] = np.nan

    person_ids = [f"FT{n + 1:05d}" for n in range(N_PERSONS)]
    with (HERE / "responses.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["person_id", *item_ids])
        for pid, row in zip(person_ids, scores, strict=True):
            writer.writerow([pid, *("" if np.isnan(x) else int(x) for x in row)])
    cities = rng.choice(["taipei", "penang", "cebu"], N_PERSONS, p=[0.7, 0.15, 0.15])
    with (HERE / "persons.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["person_id", "booklet", "city", "school", "grade", "language", "gender"])
        for n, pid in enumerate(person_ids):
            city = cities[n]
            language = "zh-TW" if city == "taipei" else "en"
            writer.writerow([pid, int(booklet_of[n]) + 1, city, f"{city}-{n % 10 + 1:02d}",
                             int(rng.integers(8, 11)), language, rng.choice(["female", "male"])])
    with (HERE / "design.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["booklet", "position", "cluster", "units"])
        for b, booklet in enumerate(booklets):
            for pos, k in enumerate(booklet):
                writer.writerow([b + 1, pos + 1, k + 1, " ".join(clusters[k])])
    with (HERE / "item_models.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["item_id", "model"])
        writer.writerows([r["id"], r["model"]] for r in records)
    generating = {"items": [{**r, "c": None} for r in records], "population": {"mean": 0.0, "sd": 1.0},
                  "seed": SEED, "persons": N_PERSONS}
    (HERE / "generating_params.json").write_text(json.dumps(generating, indent=2) + "\n", encoding="utf-8")

    itembank = Path(sys.executable).with_name("itembank")
    subprocess.run([str(itembank), "calibrate", str(HERE / "responses.csv"), "--model", "2pl",
                    "--item-models", str(HERE / "item_models.csv"), "--out", str(HERE / "params.json")],
                   check=True)
    estimated = json.loads((HERE / "params.json").read_text(encoding="utf-8"))
    record = CalibrationRecord.model_validate({
        "id": CALIBRATION_ID, "date": date(2026, 11, 25).isoformat(),
        "method": "MML-EM (Bock-Aitkin), 2PL and GPCM, rotated booklets (12 clusters, 12 booklets)",
        "software": "gc-itembank itembank calibrate",
        "data": "calibration_data/field_trial_2026/responses.csv", "persons": N_PERSONS,
        "population": estimated["population"],
        "description": {"zh-TW": "模擬預試：5,000 名模擬學生，輪替題本設計。",
                        "en": "Simulated field trial: 5,000 simulated students, rotated booklet design."},
    })
    updated, unknown = attach_parameters(items, estimated["items"], record)
    print(f"{updated} items calibrated; not in the bank: {unknown or 'none'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ITEMS)
