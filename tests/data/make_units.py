"""Generate the small test bank in tests/data/units (run by hand; the output is committed).

Eight short units, every item type, IRT parameters from a fictional calibration, one image:
enough for import/export, delivery and CAT tests without depending on the demo bank's content.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from itembank.bank.schema import CalibrationRecord, Unit
from itembank.bank.yaml_export import calibration_yaml, unit_yaml

HERE = Path(__file__).resolve().parent / "units"
CAL = "test-calibration"
DIMS = ["examine_issues", "understand_perspectives", "take_action", "intercultural_interaction"]
DOMAINS = ["culture", "socio_economic", "environment", "institutions"]
TYPES = ["single_choice", "multiple_choice", "complex_choice", "short_response", "open_response"]


def t(zh: str, en: str) -> dict:
    return {"zh-TW": zh, "en": en}


def item(uid: str, k: int, kind: str, rng: np.random.Generator) -> dict:
    iid = f"{uid}-Q{k}"
    base = {"id": iid, "type": kind, "prompt": t(f"測試題目 {iid}", f"Test question {iid}"),
            "process": "evaluate_information"}
    a = round(float(rng.uniform(0.8, 1.8)), 3)
    b = round(float(rng.normal(0, 1)), 3)
    if kind == "single_choice":
        base |= {"options": [{"id": o, "text": t(f"選項{o}", f"Option {o}"),
                              "rationale": t(f"選項{o}的理由", f"Why option {o}")} for o in "ABCD"],
                 "key": "B"}
        base["irt"] = {"model": "2pl", "a": a, "b": b, "calibration": CAL}
    elif kind == "multiple_choice":
        base |= {"options": [{"id": o, "text": t(f"選項{o}", f"Option {o}"),
                              "rationale": t(f"選項{o}的理由", f"Why option {o}")} for o in "ABCD"],
                 "key": ["A", "C"]}
        base["irt"] = {"model": "3pl", "a": a, "b": b, "c": 0.15, "calibration": CAL}
    elif kind == "complex_choice":
        base |= {"statements": [{"id": f"S{s}", "text": t(f"敘述{s}", f"Statement {s}"),
                                 "rationale": t(f"敘述{s}的理由", f"Why statement {s}")}
                                for s in (1, 2, 3)],
                 "choices": [{"id": "Y", "text": t("是", "Yes")}, {"id": "N", "text": t("否", "No")}],
                 "key": {"S1": "Y", "S2": "N", "S3": "Y"},
                 "scoring": [{"score": 2, "min_correct": 3}, {"score": 1, "min_correct": 2}]}
        base["irt"] = {"model": "gpcm", "a": a, "b": sorted([b - 0.6, b + 0.6]), "calibration": CAL}
    elif kind == "short_response":
        base |= {"accepted": {"zh-TW": ["42", "四十二"], "en": ["42", "forty-two"]},
                 "numeric": {"value": 42, "tolerance": 0}}
        base["irt"] = {"model": "rasch", "b": b, "calibration": CAL}
    else:
        guide = [
            {"code": "2", "credit": "full", "score": 2, "descriptor": t("完整", "Complete"),
             "examples": [t("完整答案一", "Full answer one"), t("完整答案二", "Full answer two")]},
            {"code": "1", "credit": "partial", "score": 1, "descriptor": t("部分", "Partial"),
             "examples": [t("部分答案一", "Partial one"), t("部分答案二", "Partial two")]},
            {"code": "0", "credit": "none", "score": 0, "descriptor": t("錯誤", "Wrong"),
             "examples": [t("錯誤答案一", "Wrong one"), t("錯誤答案二", "Wrong two")]},
            {"code": "9", "credit": "missing", "score": 0, "descriptor": t("未作答", "No response"),
             "examples": [t("（空白）", "(blank)"), t("不知道", "I don't know")]},
        ]
        base |= {"coding_guide": guide}
        if k % 2:
            base["irt"] = {"model": "grm", "a": a, "b": [b - 0.7, b + 0.7], "calibration": CAL}
    return base


def main() -> None:
    rng = np.random.default_rng(20261125)
    for u in range(1, 9):
        uid = f"T-{u:02d}"
        kinds = [TYPES[(u + k) % 5] for k in range(4)]
        stimulus = [{"type": "text", "text": t(f"測試情境 {uid}：這是一段**刺激文本**。",
                                                f"Test scenario {uid}: this is a **stimulus** text.")}]
        if u == 1:
            stimulus.append({"type": "image", "src": "images/T-01-chart.svg",
                             "alt": t("長條圖", "A bar chart"), "caption": t("圖一", "Figure 1")})
        if u == 2:
            stimulus.append({"type": "table", "columns": [t("年", "Year"), t("數量", "Count")],
                             "rows": [[2020, 5], [2024, t("約 8", "about 8")]]})
        unit = Unit.model_validate({
            "id": uid, "version": 1, "status": "approved", "title": t(f"測試單元 {u}", f"Test unit {u}"),
            "metadata": {"dimension": DIMS[u % 4], "content_domain": DOMAINS[u % 4],
                         "context": t("測試", "Testing"), "grade_band": ["junior_high"],
                         "estimated_minutes": 5, "author": "tests", "sdgs": [4], "topics": ["local_culture"]},
            "stimulus": stimulus,
            "items": [item(uid, k + 1, kind, rng) for k, kind in enumerate(kinds)],
        })
        (HERE / f"{uid}.yaml").write_text(unit_yaml(unit), encoding="utf-8")
    record = CalibrationRecord.model_validate({
        "id": CAL, "date": "2026-11-25", "method": "fictional", "software": "tests",
        "data": "none", "persons": 1000, "population": {"mean": 0.0, "sd": 1.0}})
    (HERE / "calibrations" / f"{CAL}.yaml").write_text(calibration_yaml(record), encoding="utf-8")
    (HERE / "images" / "T-01-chart.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="200" height="100">'
        '<rect x="20" y="40" width="40" height="60" fill="#3b6ea5"/>'
        '<rect x="80" y="20" width="40" height="80" fill="#3b6ea5"/>'
        '<text x="30" y="35" font-size="14">5</text><text x="90" y="15" font-size="14">8</text></svg>\n',
        encoding="utf-8")


if __name__ == "__main__":
    main()
