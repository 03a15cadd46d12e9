"""Simulate the demo questionnaire's field trial (fixed seed), scale it with
`itembank questionnaire scale`, and measure how well the indices recover their generating values.

1. The students are those of the cognitive field trial (calibration_data/field_trial_2026,
   persons.csv: person ids and test language), so the indices join their test scores.
2. Generating values: seven correlated traits per student (correlation 0.35 between scales), the
   en group 0.2 SD higher on interest in and respect for other cultures; a student weight
   (log-normal, as the final weights of a school sample vary).
3. Generating item parameters: GPCM (Muraki 1992), slopes log-normal around 1.3, steps spread
   around a centre below 0 (attitude statements are mostly endorsed).  One planted translation
   problem: RESPECT04 is 1.5 logits harder to endorse in en (every step), so the invariance check
   has something to find.
4. Responses: the category chosen (0 = the first category of the response scale); reverse-coded
   statements are answered against the construct (the recorded category is K − 1 − x); 2% of the
   answers skipped at random.
5. Scaling: `itembank questionnaire scale responses.csv --questionnaire GCQ-DEMO.yaml --weight
   weight --group language`, then the correlation of each index with its generating value, and
   the en − zh-TW difference of each index, with common parameters and again with the flagged
   items given parameters per language (`--free-flagged`), against the generating difference.

Run from the repository root:  .venv/bin/python calibration_data/questionnaire_trial_2026/generate.py
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from irt.models import ItemParameters, sample_responses
from itembank.bank.questionnaire import load_questionnaire

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
QUESTIONNAIRE = REPO / "items" / "questionnaires" / "GCQ-DEMO.yaml"
PERSONS = REPO / "calibration_data" / "field_trial_2026" / "persons.csv"
SEED = 20261203
CORRELATION = 0.35
EN_SHIFT = {"INTCULT": 0.2, "RESPECT": 0.2}
NON_INVARIANT = {"item": "RESPECT04", "group": "en", "shift": 1.5}
MISSING = 0.02


def main() -> None:
    rng = np.random.default_rng(SEED)
    q = load_questionnaire(QUESTIONNAIRE)
    with PERSONS.open(encoding="utf-8") as fh:
        persons = list(csv.DictReader(fh))
    ids = [p["person_id"] for p in persons]
    language = np.array([p["language"] for p in persons])
    n, n_scales = len(ids), len(q.scales)

    corr = np.full((n_scales, n_scales), CORRELATION) + (1 - CORRELATION) * np.eye(n_scales)
    traits = rng.multivariate_normal(np.zeros(n_scales), corr, size=n)
    for s, scale in enumerate(q.scales):
        traits[:, s] += EN_SHIFT.get(scale.id, 0.0) * (language == "en")
    weights = np.round(np.exp(rng.normal(0.0, 0.3, n)) * 20.0, 3)

    columns: list[str] = []
    blocks: list[np.ndarray] = []
    generating: dict[str, list[dict]] = {}
    for s, scale in enumerate(q.scales):
        k = q.n_categories(scale)
        records = []
        for item in scale.items:
            centre = rng.normal(-0.4, 0.5)
            steps = centre + np.linspace(-1.3, 1.3, k - 1) + rng.normal(0.0, 0.15, k - 1)
            records.append({"id": item.id, "model": "gpcm",
                            "a": float(np.exp(rng.normal(np.log(1.3), 0.25))),
                            "b": [float(b) for b in np.sort(steps)]})
        generating[scale.id] = records
        params = ItemParameters.from_records(records)
        x = sample_responses(params, traits[:, s], rng).astype(float)
        if NON_INVARIANT["item"] in params.ids:
            j = params.ids.index(NON_INVARIANT["item"])
            shifted = [dict(r) for r in records]
            shifted[j]["b"] = [b + NON_INVARIANT["shift"] for b in records[j]["b"]]
            group = language == NON_INVARIANT["group"]
            x[group, j] = sample_responses(ItemParameters.from_records(shifted), traits[group, s],
                                           rng)[:, j]
        reverse = np.array([item.reverse for item in scale.items])
        x[:, reverse] = (k - 1) - x[:, reverse]  # the category the student ticked
        x[rng.random(x.shape) < MISSING] = np.nan
        columns += params.ids
        blocks.append(x)
    responses = np.hstack(blocks)

    with (HERE / "responses.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["person_id", "language", "weight", *columns])
        for i, pid in enumerate(ids):
            cells = ["" if np.isnan(v) else str(int(v)) for v in responses[i]]
            w.writerow([pid, language[i], f"{weights[i]:g}", *cells])
    with (HERE / "generating_values.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["person_id", *(s.id for s in q.scales)])
        for i, pid in enumerate(ids):
            w.writerow([pid, *(f"{v:.4f}" for v in traits[i])])
    (HERE / "generating_params.json").write_text(json.dumps(
        {"seed": SEED, "correlation": CORRELATION, "en_shift": EN_SHIFT,
         "non_invariant": NON_INVARIANT, "missing": MISSING, "scales": generating},
        indent=2) + "\n", encoding="utf-8")

    itembank = Path(sys.executable).parent / "itembank"
    command = [str(itembank), "questionnaire", "scale", str(HERE / "responses.csv"),
               "--questionnaire", str(QUESTIONNAIRE), "--weight", "weight", "--group", "language"]
    subprocess.run([*command, "--out", str(HERE / "indices.csv"),
                    "--report", str(HERE / "report.json")], check=True, cwd=REPO)
    with tempfile.TemporaryDirectory() as tmp:  # again, flagged items per language
        subprocess.run([*command, "--free-flagged", "--out", str(Path(tmp) / "indices.csv")],
                       check=True, cwd=REPO)
        freed = _indices(Path(tmp) / "indices.csv", q)
    common = _indices(HERE / "indices.csv", q)

    en = language == "en"
    w = weights / weights.sum()

    def gap(values: np.ndarray) -> float:
        """Weighted en − zh-TW difference in units of the weighted SD."""
        mean = np.sum(w * values)
        sd = np.sqrt(np.sum(w * (values - mean) ** 2))
        return round(float((np.average(values[en], weights=w[en])
                            - np.average(values[~en], weights=w[~en])) / sd), 3)

    recovery, gaps = {}, {}
    for s, scale in enumerate(q.scales):
        est = common[scale.id]
        ok = np.isfinite(est)
        recovery[scale.id] = round(float(np.corrcoef(est[ok], traits[ok, s])[0, 1]), 3)
        gaps[scale.id] = {"generating": gap(traits[:, s]), "common_parameters": gap(est),
                          "flagged_items_freed": gap(freed[scale.id])}
    report = json.loads((HERE / "report.json").read_text(encoding="utf-8"))
    summary = {"correlation_with_generating_values": recovery,
               "reliability": {sc["id"]: round(sc["reliability"], 3) for sc in report["scales"]},
               "flags": report["flags"], "en_minus_zh_TW_in_sd": gaps}
    (HERE / "recovery.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


def _indices(path: Path, q) -> dict[str, np.ndarray]:  # noqa: ANN001 - a Questionnaire
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {s.id: np.array([float(r[s.id]) if r[s.id] else np.nan for r in rows])
            for s in q.scales}


if __name__ == "__main__":
    main()
