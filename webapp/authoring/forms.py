"""The unit editor's form: its flat field names (``u.items.2.prompt.en``) to and from the unit's
content, the buttons that add and remove parts, the translator's text-only overlay, and the
placing of validation problems beside the fields they concern.

The form's content is turned into YAML and validated by :func:`itembank.bank.validation.parse_unit_text`,
exactly like a file or the YAML editor: one validation, the same messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import current_app
from werkzeug.datastructures import MultiDict

from itembank.bank.schema import LANGUAGES
from itembank.errors import Problem

PREFIX = "u."
MULTI = {"u.metadata.grade_band"}
ITEM_TYPES = ("single_choice", "multiple_choice", "complex_choice", "short_response", "open_response", "order")


def blank_text() -> dict[str, str]:
    return {lang: "" for lang in LANGUAGES}


# -- form → content ---------------------------------------------------------------------------------
def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(isinstance(k, int) for k in converted):
            return [converted[k] for k in sorted(converted)]
        return converted
    return value


def _int(value: Any) -> Any:
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text  # left as written: validation names the field


def _float(value: Any) -> Any:
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return text


def _optional_text(value: Any) -> Any:
    if isinstance(value, dict) and not any(str(value.get(lang, "")).strip() for lang in LANGUAGES):
        return None
    return value


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def _pick(entries: list[Any], index: Any) -> str:
    try:
        return str(entries[int(index)]["id"])
    except (ValueError, TypeError, IndexError, KeyError):
        return ""


def parse_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The unit content that the editor's fields describe (not yet validated)."""
    raw: dict[Any, Any] = {}
    for name in form:
        if not name.startswith(PREFIX):
            continue
        value: Any = form.getlist(name) if name in MULTI else form.get(name, "")
        node = raw
        parts = [int(p) if p.isdigit() else p for p in name[len(PREFIX):].split(".")]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    data: dict[str, Any] = _listify(raw)
    meta = data.get("metadata", {})
    if isinstance(meta, dict):
        meta.setdefault("grade_band", [])
        meta["estimated_minutes"] = _int(meta.get("estimated_minutes", ""))
        meta["sdgs"] = [_int(x) for x in re.split(r"[,\s]+", str(meta.get("sdgs", ""))) if x]
        meta["topics"] = [x for x in re.split(r"[,\s]+", str(meta.get("topics", ""))) if x]
    data["stimulus"] = [_block(b) for b in data.get("stimulus", []) if isinstance(b, dict)]
    data["items"] = [_item(i) for i in data.get("items", []) if isinstance(i, dict)]
    ordered = {k: data[k] for k in ("id", "title", "metadata", "stimulus", "items") if k in data}
    return ordered


def _block(block: dict[str, Any]) -> Any:
    if "json" in block:
        try:
            # the app's bounded reader: a block nested thousands deep is a ValueError, not a 500
            return current_app.json.loads(block["json"])
        except ValueError:
            return block["json"]
    out: dict[str, Any] = {"type": block.get("type", "text")}
    if out["type"] == "image":
        out["src"] = block.get("src", "")
        out["alt"] = block.get("alt", blank_text())
        caption = _optional_text(block.get("caption"))
        if caption:
            out["caption"] = caption
        if str(block.get("width", "")).strip():
            out["width"] = _int(block["width"])
    else:
        out["text"] = block.get("text", blank_text())
    return out


def _rules(rules: Any) -> list[dict[str, Any]]:
    out = []
    for rule in rules or []:
        if str(rule.get("score", "")).strip() or str(rule.get("min_correct", "")).strip():
            out.append({"score": _int(rule.get("score", "")), "min_correct": _int(rule.get("min_correct", ""))})
    return out


def _weights(raw: Any, rows: list[str], columns: list[str] | None = None) -> dict[str, Any] | None:
    """The weights fields (points per option, or per statement and choice, and the ceiling) as the
    item's ``weights``; None when no point is filled in.  Blank fields are worth nothing."""
    if not isinstance(raw, dict):
        return None
    given = raw.get("points")
    entries = given if isinstance(given, list) else []
    points: dict[str, Any] = {}
    for row_id, value in zip(rows, entries, strict=False):
        if columns is None:
            if str(value).strip():
                points[row_id] = _int(value)
        elif isinstance(value, list):
            cells = {c: _int(v) for c, v in zip(columns, value, strict=False) if str(v).strip()}
            if cells:
                points[row_id] = cells
    upper = str(raw.get("upper", "")).strip()
    if not points and not upper:
        return None
    return {"points": points, **({"upper": _int(upper)} if upper else {})}


def _item(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type", "")
    out: dict[str, Any] = {"id": str(item.get("id", "")).strip(), "type": kind,
                           "prompt": item.get("prompt", blank_text()), "process": item.get("process", "")}
    if str(item.get("dimension", "")).strip():
        out["dimension"] = item["dimension"]
    if kind in ("single_choice", "multiple_choice"):
        options = [{"id": str(o.get("id", "")).strip(), "text": o.get("text", blank_text()),
                    "rationale": _optional_text(o.get("rationale"))}
                   for o in item.get("options", [])]
        out["options"] = options
        if kind == "single_choice":
            out["key"] = _pick(options, item.get("key_index"))
        else:
            out["key"] = [o["id"] for o, raw in zip(options, item.get("options", []), strict=True)
                          if raw.get("correct")]
            out["scoring"] = _rules(item.get("scoring"))
            also = [[x for x in re.split(r"[,;\s]+", line) if x] for line in _lines(item.get("also_correct"))]
            if also:
                out["also_correct"] = also
            weights = _weights(item.get("weights"), [o["id"] for o in options])
            if weights is not None:
                out["weights"] = weights
    elif kind == "order":
        steps = item.get("options", [])
        out["options"] = [{"id": str(o.get("id", "")).strip(), "text": o.get("text", blank_text())} for o in steps]
        placed = sorted((_int(o.get("position", "")), n) for n, o in enumerate(steps)
                        if isinstance(_int(o.get("position", "")), int))
        clash = len({pos for pos, _ in placed}) != len(placed)  # two steps in one place: no order
        out["key"] = [] if clash else [out["options"][n]["id"] for _, n in placed]
    elif kind == "complex_choice":
        statements = item.get("statements", [])
        choices = [{"id": str(c.get("id", "")).strip(), "text": c.get("text", blank_text())}
                   for c in item.get("choices", [])]
        out["statements"] = [{"id": str(s.get("id", "")).strip(), "text": s.get("text", blank_text()),
                              "rationale": _optional_text(s.get("rationale"))}
                             for s in statements]
        out["choices"] = choices
        out["key"] = {str(s.get("id", "")).strip(): _pick(choices, s.get("key_index")) for s in statements}
        out["scoring"] = _rules(item.get("scoring"))
        weights = _weights(item.get("weights"), [s["id"] for s in out["statements"]], [c["id"] for c in choices])
        if weights is not None:
            out["weights"] = weights
    elif kind == "short_response":
        accepted = item.get("accepted", {})
        out["accepted"] = {lang: _lines(accepted.get(lang)) for lang in LANGUAGES}
        numeric = item.get("numeric", {})
        if str(numeric.get("value", "")).strip():
            out["numeric"] = {"value": _float(numeric["value"]),
                              "tolerance": _float(numeric.get("tolerance") or 0)}
    elif kind == "open_response":
        out["coding_guide"] = [
            {"code": str(c.get("code", "")).strip(), "credit": c.get("credit", ""), "score": _int(c.get("score", "")),
             "descriptor": c.get("descriptor", blank_text()),
             "examples": [e for e in c.get("examples", []) if _optional_text(e)]}
            for c in item.get("coding_guide", [])
        ]
        if str(item.get("lines", "")).strip():
            out["lines"] = _int(item["lines"])
    for key in ("scoring",):
        if key in out and not out[key]:
            del out[key]
    return out


# -- the add / remove buttons -------------------------------------------------------------------------
def new_item(kind: str, item_id: str) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "type": kind, "prompt": blank_text(), "process": "evaluate_information"}
    if kind == "single_choice":
        item.update(options=[{"id": x, "text": blank_text()} for x in "AB"], key="")
    elif kind == "multiple_choice":
        item.update(options=[{"id": x, "text": blank_text()} for x in "ABC"], key=[])
    elif kind == "order":
        item.update(options=[{"id": x, "text": blank_text()} for x in "ABC"], key=[])
    elif kind == "complex_choice":
        item.update(statements=[{"id": f"S{i}", "text": blank_text()} for i in (1, 2)],
                    choices=[{"id": "Y", "text": {"zh-TW": "是", "en": "Yes"}},
                             {"id": "N", "text": {"zh-TW": "否", "en": "No"}}], key={})
    elif kind == "short_response":
        item.update(accepted={lang: [] for lang in LANGUAGES})
    elif kind == "open_response":
        item.update(coding_guide=[
            {"code": "1", "credit": "full", "score": 1, "descriptor": blank_text(), "examples": [blank_text()]},
            {"code": "0", "credit": "none", "score": 0, "descriptor": blank_text(), "examples": [blank_text()]},
            {"code": "9", "credit": "missing", "score": 0, "descriptor": blank_text(), "examples": []},
        ])
    return item


def new_unit(unit_id: str = "", author: str = "") -> dict[str, Any]:
    return {
        "id": unit_id, "title": blank_text(),
        "metadata": {"dimension": "examine_issues", "content_domain": "culture", "context": blank_text(),
                     "grade_band": ["junior_high"], "estimated_minutes": 10, "author": author,
                     "sdgs": [], "topics": []},
        "stimulus": [{"type": "text", "text": blank_text()}],
        "items": [new_item("single_choice", f"{unit_id or 'UNIT'}-Q1")],
    }


def _next_id(existing: Iterable[str], prefix: str, start: int = 1) -> str:
    taken = set(existing)
    n = start
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def apply_action(content: dict[str, Any], action: str) -> bool:
    """Apply an editor button (``add_option:2``); False when the action is unknown."""
    name, _, rest = action.partition(":")
    args = rest.split(":") if rest else []
    items = content.setdefault("items", [])
    try:
        idx = [int(a) for a in args if a.isdigit()]
        if name == "add_block":
            content.setdefault("stimulus", []).append({"type": "text", "text": blank_text()})
        elif name == "remove_block":
            content["stimulus"].pop(idx[0])
        elif name == "add_item" and args and args[0] in ITEM_TYPES:
            items.append(new_item(args[0], _next_id((i.get("id", "") for i in items),
                                                    f"{content.get('id') or 'UNIT'}-Q", len(items) + 1)))
        elif name == "remove_item":
            items.pop(idx[0])
        elif name in ("add_option", "add_choice", "add_statement"):
            field = {"add_option": "options", "add_choice": "choices", "add_statement": "statements"}[name]
            entries = items[idx[0]].setdefault(field, [])
            ids = [e.get("id", "") for e in entries]
            new_id = _next_id(ids, "S") if field == "statements" else next(
                (c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in ids), _next_id(ids, "O"))
            entries.append({"id": new_id, "text": blank_text()})
        elif name in ("remove_option", "remove_choice", "remove_statement", "remove_rule", "remove_code"):
            field = {"remove_option": "options", "remove_choice": "choices", "remove_statement": "statements",
                     "remove_rule": "scoring", "remove_code": "coding_guide"}[name]
            items[idx[0]][field].pop(idx[1])
        elif name == "add_rule":
            items[idx[0]].setdefault("scoring", []).append({"score": "", "min_correct": ""})
        elif name == "add_code":
            items[idx[0]].setdefault("coding_guide", []).append(
                {"code": "", "credit": "partial", "score": "", "descriptor": blank_text(), "examples": [blank_text()]})
        elif name == "add_example":
            items[idx[0]]["coding_guide"][idx[1]].setdefault("examples", []).append(blank_text())
        elif name == "remove_example":
            items[idx[0]]["coding_guide"][idx[1]]["examples"].pop(idx[2])
        else:
            return False
    except (IndexError, KeyError, AttributeError, TypeError):
        return False
    return True


# -- translators: texts only ------------------------------------------------------------------------
class NotATextField(Exception):
    """A translator's form sent a field that is not a text."""


def overlay_texts(base: dict[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """``base`` with the texts of a translator's form put in; any other field is refused."""
    content = json.loads(json.dumps(base))
    for name in form:
        if not name.startswith(PREFIX):
            continue
        parts = [int(p) if p.isdigit() else p for p in name[len(PREFIX):].split(".")]
        node: Any = content
        try:
            for part in parts[:-1]:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            raise NotATextField(name) from None
        if parts[-1] not in LANGUAGES or not isinstance(node, dict) or set(node) != set(LANGUAGES):
            raise NotATextField(name)
        node[parts[-1]] = form.get(name, "")
    return content


# -- problems beside their fields ---------------------------------------------------------------------
_LOCATION = re.compile(r"^((?:[A-Za-z_][\w-]*|\[\d+\])(?:\.[A-Za-z_][\w-]*|\[\d+\])*): (.*)$", re.S)


def field_of(message: str) -> tuple[str, str]:
    """'items[2].prompt.en: text is blank' → ('items.2.prompt.en', 'text is blank')."""
    match = _LOCATION.match(message)
    if not match:
        return "", message
    return re.sub(r"\[(\d+)\]", r".\1", match.group(1)), match.group(2)


class FieldErrors:
    """Problems by form field; a template takes those of a field as it draws it, and what no field
    took is shown at the end of the part it concerns."""

    def __init__(self, problems: Iterable[Problem | str] = ()) -> None:
        self.all: list[tuple[str, str]] = []
        for problem in problems:
            message = problem.message if isinstance(problem, Problem) else problem
            self.all.append(field_of(message))
        self._taken: set[int] = set()
        self._sentences: set[int] = set()  # messages that name their field themselves

    def add_sentence(self, field: str, sentence: str) -> None:
        """A message that names its field by label: shown without the field's path."""
        self._sentences.add(len(self.all))
        self.all.append((field, sentence))

    def extend(self, other: FieldErrors) -> None:
        offset = len(self.all)
        self.all.extend(other.all)
        self._sentences.update(i + offset for i in other._sentences)

    def _shown(self, i: int) -> str:
        field, message = self.all[i]
        return message if i in self._sentences or not field else f"{field}: {message}"

    def __bool__(self) -> bool:
        return bool(self.all)

    def take(self, name: str) -> list[str]:
        out = []
        for i, (field, message) in enumerate(self.all):
            if i not in self._taken and field == name:
                self._taken.add(i)
                out.append(message)
        return out

    def rest(self, prefix: str) -> list[str]:
        out = []
        for i, (field, message) in enumerate(self.all):
            if i not in self._taken and (field == prefix or field.startswith(prefix + ".") or prefix == ""):
                self._taken.add(i)
                out.append(message if field == prefix else self._shown(i))
        return out

    @property
    def summary(self) -> list[tuple[str, str]]:
        """(field, message as shown) of every problem, for the list at the top of the page."""
        return [(field, self._shown(i)) for i, (field, _message) in enumerate(self.all)]
