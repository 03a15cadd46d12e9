"""Write units and calibration records as canonical YAML: fixed key order, stable formatting.

The same unit always gives the same bytes, so export → import → export is byte-identical and
exports make clean git diffs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from .schema import CalibrationRecord, Unit

# Within an item, the fields a reader expects first; the rest follow in schema order, irt last.
_ITEM_HEAD = ("id", "type", "prompt", "process", "dimension")


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings as literal blocks; lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list_representer(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    """Short lists of plain scalars (grade bands, SDGs, keys) on one line: [6, 13]."""
    flat = all(isinstance(v, int | float | str) and "\n" not in str(v) for v in value)
    flow = flat and len(value) > 0 and sum(len(str(v)) + 2 for v in value) <= 60
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _str_representer)
_Dumper.add_representer(list, _list_representer)


def unit_content(unit: Unit) -> dict[str, Any]:
    """The unit as plain data in canonical key order, defaults left out (``irt`` included)."""
    data = unit.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data = {"id": unit.id, "version": unit.version, "status": str(unit.status), **data}
    data["items"] = [_order_item(item) for item in data["items"]]
    keys = ("id", "version", "status", "title", "metadata", "stimulus", "items")
    ordered: dict[str, Any] = {key: data[key] for key in keys if key in data}  # stimulus may be left out
    return ordered


def _order_item(item: dict[str, Any]) -> dict[str, Any]:
    head = {k: item[k] for k in _ITEM_HEAD if k in item}
    rest = {k: v for k, v in item.items() if k not in head and k != "irt"}
    tail = {"irt": item["irt"]} if "irt" in item else {}
    return {**head, **rest, **tail}


def without_irt(content: dict[str, Any]) -> dict[str, Any]:
    return {**content, "items": [{k: v for k, v in i.items() if k != "irt"} for i in content["items"]]}


def content_hash(content: dict[str, Any]) -> str:
    """Hash of what a student or coder sees: everything but version, status and irt blocks."""
    core = without_irt({k: v for k, v in content.items() if k not in ("version", "status")})
    canonical = json.dumps(core, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                     default_flow_style=False)


def unit_yaml(unit: Unit) -> str:
    return dump_yaml(unit_content(unit))


def calibration_yaml(record: CalibrationRecord) -> str:
    data = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dump_yaml({"calibration": data})
