"""CAT.yaml → plain dict → :class:`irt.cat.CatConfig`, the bank's unit and content attributes from
``item_attributes``, and the default reporting scale with six global competence levels.

A CAT.yaml holds the engine's keys (see :mod:`irt.cat.config`) and optionally::

    item_attributes: attributes.csv        # path relative to the YAML file: CSV with header
                                           # item_id,unit,dimension,domain[,auto_scored]
    item_attributes:                       # or inline, one mapping per item
      - {item_id: GC01-1, unit: GC01, dimension: perspectives, domain: culture}
      - {item_id: GC01-2, unit: GC01, auto_scored: false}

Every error is a :class:`CatConfigFileError` naming the file and the field (``CAT.yaml:
stopping.se: must be >= 0.0, got -1.0``) or the CSV row and column.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irt.cat import BankItem, CatConfig, CatConfigError
from irt.reporting import ReportingError
from irt.reporting import from_dict as reporting_from_dict
from itembank.bank.csv_import import checked_text
from itembank.bank.yaml_source import parse_yaml
from itembank.errors import DataFileError, ItembankError, Problem

DEFAULT_REPORTING: dict[str, Any] = {
    "mean": 500,
    "sd": 100,
    "population": {"mean": 0.0, "sd": 1.0},
    "levels": {
        "cuts": [340, 410, 480, 550, 620],
        "labels": ["1", "2", "3", "4", "5", "6"],
        "descriptors": [
            {
                "zh-TW": "能在題材清楚呈現時辨認熟悉的全球或跨文化議題，並能複述材料中明白"
                "陳述的單一觀點。",
                "en": "Recognises a familiar global or intercultural issue when it is presented "
                "plainly, and can restate a single perspective that the material spells out.",
            },
            {
                "zh-TW": "能在簡單情境中指出主要議題與受影響的人，在標示清楚時分辨事實與意見，"
                "並說出顯而易見的回應方式。",
                "en": "Identifies the main issue and the people it affects in a simple situation, "
                "tells facts from opinions when they are clearly marked, and names an obvious "
                "way to respond.",
            },
            {
                "zh-TW": "能整合多個來源的資訊說明在地或全球議題，描述處境不同的人可能有哪些"
                "不同看法，並提出合宜且尊重他人的溝通方式。",
                "en": "Explains a local or global issue with information from more than one "
                "source, describes how people in different situations may see it differently, "
                "and suggests respectful ways to communicate about it.",
            },
            {
                "zh-TW": "能評估資料來源的可信度與目的，說明不同觀點背後的假設，並權衡各種"
                "行動對不同群體可能帶來的後果。",
                "en": "Evaluates the reliability and purpose of sources, explains the assumptions "
                "behind different perspectives, and weighs the likely consequences of possible "
                "actions for different groups.",
            },
            {
                "zh-TW": "能分析涉及多方利益的複雜議題，將在地情境連結到全球趨勢，依文化脈絡"
                "調整溝通方式，並以證據說明行動方案的理由。",
                "en": "Analyses complex issues with competing interests, connects local situations "
                "to global patterns, adapts communication to its cultural context, and justifies "
                "a course of action with evidence.",
            },
            {
                "zh-TW": "面對陌生而複雜的議題，能批判地整合多元觀點與資料，覺察自身觀點的"
                "侷限，並提出考量長遠與廣泛影響、論證周全且負責任的行動方案。",
                "en": "Critically integrates many perspectives and sources on unfamiliar, complex "
                "issues, recognises the limits of their own point of view, and proposes "
                "well-argued, responsible action that weighs long-term and wider consequences.",
            },
        ],
    },
}
"""The default reporting scale (500/100 in the calibration population) and six proficiency levels
with original descriptors in zh-TW and en; a CAT.yaml ``reporting`` section replaces it."""


class CatConfigFileError(ItembankError):
    """A CAT.yaml that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class LoadedCatConfig:
    """A CAT.yaml read and validated: the engine config, the plain dict it came from (with the
    overrides applied), and the bank items from ``item_attributes`` (None if not given)."""

    config: CatConfig
    data: dict[str, Any]
    items: list[BankItem] | None


def load_cat_config(
    path: str | Path | None, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> LoadedCatConfig:
    """Read CAT.yaml (None: all defaults), apply ``overrides`` ({section: {key: value}}, e.g.
    from command-line options, which win over the file) and validate."""
    name = str(path) if path is not None else "(defaults)"
    data: Any = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CatConfigFileError(f"{name}: cannot read the file: {exc.strerror}") from exc
        if text.strip():  # the bank's bounded YAML reading (aliases, nodes, size)
            doc, problems = parse_yaml(text, name)
            if problems:
                raise CatConfigFileError(f"{problems[0]} (invalid YAML)")
            data = doc.data if doc is not None and doc.data is not None else {}
        if not isinstance(data, dict):
            raise CatConfigFileError(f"{name}: the top level must be a mapping of sections")
    data = copy.deepcopy(data)
    attributes = data.pop("item_attributes", None)
    for section, values in (overrides or {}).items():
        for key, value in values.items():
            if value is not None:
                target = data.setdefault(section, {})
                if not isinstance(target, dict):
                    raise CatConfigFileError(f"{name}: {section}: must be a mapping")
                target[key] = value
    data.setdefault("reporting", copy.deepcopy(DEFAULT_REPORTING))
    try:
        config = CatConfig.from_dict(data)
        reporting_from_dict(config.reporting)
    except (CatConfigError, ReportingError) as exc:
        raise CatConfigFileError(f"{name}: {exc}") from exc
    base = Path(path).parent if path is not None else Path(".")
    items = _item_attributes(attributes, base, name) if attributes is not None else None
    return LoadedCatConfig(config, data, items)


def _item_attributes(value: Any, base: Path, name: str) -> list[BankItem]:
    if isinstance(value, str):
        return read_item_attributes(base / value)
    if not isinstance(value, list):
        raise CatConfigFileError(
            f"{name}: item_attributes: must be a CSV path or a list of mappings, got {value!r}"
        )
    items = []
    for i, entry in enumerate(value):
        where = f"{name}: item_attributes[{i}]"
        if not isinstance(entry, Mapping) or "item_id" not in entry or "unit" not in entry:
            raise CatConfigFileError(f"{where}: needs at least item_id and unit")
        unknown = set(entry) - {"item_id", "unit", "dimension", "domain", "auto_scored"}
        if unknown:
            raise CatConfigFileError(f"{where}.{sorted(unknown)[0]}: unknown key")
        auto = entry.get("auto_scored", True)
        if not isinstance(auto, bool):
            raise CatConfigFileError(f"{where}.auto_scored: must be true or false, got {auto!r}")
        items.append(
            BankItem(
                str(entry["item_id"]),
                str(entry["unit"]),
                _text(entry.get("dimension")),
                _text(entry.get("domain")),
                auto,
            )
        )
    return items


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def read_item_attributes(path: str | Path) -> list[BankItem]:
    """A CSV ``item_id,unit,dimension,domain[,auto_scored]`` (auto_scored: true/false, default
    true).  Problems name FILE:ROW:COLUMN (DataFileError)."""
    name = str(path)
    try:
        text = checked_text(Path(path).read_bytes(), name)
    except OSError as exc:
        raise DataFileError.at(name, 0, 0, f"cannot read the file: {exc.strerror}") from exc
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip() for h in rows[0]] if rows else []
    required = ["item_id", "unit", "dimension", "domain"]
    if header[:4] != required or header[4:] not in ([], ["auto_scored"]):
        raise DataFileError.at(
            name, 1, 1, "the header must be `item_id,unit,dimension,domain[,auto_scored]`"
        )
    problems: list[Problem] = []
    items: list[BankItem] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(name, line, 1, f"expected {len(header)} fields, got {len(row)}")
            )
            continue
        item_id, unit = row[0].strip(), row[1].strip()
        if not item_id:
            problems.append(Problem(name, line, 1, "item_id is empty"))
        if not unit:
            problems.append(Problem(name, line, 2, "unit is empty"))
        auto = True
        if len(row) == 5:
            flag = row[4].strip().lower()
            if flag not in ("true", "false", "1", "0", ""):
                problems.append(
                    Problem(name, line, 5, f"auto_scored must be true or false: {flag!r}")
                )
            auto = flag not in ("false", "0")
        items.append(BankItem(item_id, unit, _text(row[2]), _text(row[3]), auto))
    if problems:
        raise DataFileError(problems)
    return items
