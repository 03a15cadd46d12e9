"""Validate unit and calibration files, one by one and as a bank, reporting every problem at once.

Each problem is a :class:`~itembank.errors.Problem` with the file, line and column it concerns
and a message that says what is wrong and what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from itembank.errors import Problem

from .images import IMAGE_TYPES, MAX_IMAGE_BYTES, ImageError, check_image
from .schema import LANGUAGES, CalibrationFile, CalibrationRecord, ImageBlock, Unit
from .yaml_source import Loc, SourceDocument, parse_yaml, read_yaml

CALIBRATIONS_DIR = "calibrations"
QUESTIONNAIRES_DIR = "questionnaires"  # itembank/bank/questionnaire.py


@dataclass
class LoadedUnit:
    unit: Unit
    file: str  # as displayed in messages
    relpath: str  # path relative to the bank folder it was found in, with forward slashes
    images: dict[str, bytes] = field(default_factory=dict)  # src -> content


@dataclass
class LoadedBank:
    units: list[LoadedUnit] = field(default_factory=list)
    calibrations: list[CalibrationRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    questionnaires: list[str] = field(default_factory=list)  # files read without a problem

    @property
    def ok(self) -> bool:
        return not self.problems


# -- mapping pydantic errors to places and messages --------------------------------------------
_PREFIX = re.compile(r"^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*): (.*)$", re.S)
_TOKEN = re.compile(r"[A-Za-z_]\w*|\[(\d+)\]")


def _split_prefix(message: str) -> tuple[Loc, str]:
    """'key: x is not ...' -> (('key',), 'x is not ...'), so the problem points at that field."""
    match = _PREFIX.match(message)
    if not match:
        return (), message
    loc: list[str | int] = []
    for tok in _TOKEN.finditer(match.group(1)):
        loc.append(int(tok.group(1)) if tok.group(1) is not None else tok.group(0))
    return tuple(loc), match.group(2)


def _display_path(loc: Loc) -> str:
    """('items', 2, 'options', 0, 'text') -> 'items[2].options[0].text'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_TAGS = frozenset({"single_choice", "multiple_choice", "complex_choice", "short_response",
                   "open_response", "text", "table", "image", "str", "int", "float", "LocalText"})


def _is_tag(part: str | int) -> bool:
    """Parts of a pydantic error location that name a union member, not a field."""
    return isinstance(part, str) and (part in _TAGS or part.startswith("function-"))


def _clean_loc(doc: SourceDocument, loc: Sequence[str | int]) -> Loc:
    """Drop the parts of ``loc`` that name a union member (pydantic puts them after the field)."""
    out: list[str | int] = []
    node: Any = doc.data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif _is_tag(part) or (isinstance(node, dict) and part == node.get("type")):
            continue
        else:
            node = None
        out.append(part)
    return tuple(out)


def schema_problems(doc: SourceDocument, error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for err in error.errors(include_url=False):
        loc = _clean_loc(doc, err["loc"])
        kind = err["type"]
        msg = str(err["msg"])
        if kind == "value_error":
            msg = msg.removeprefix("Value error, ")
            sub, msg = _split_prefix(msg)
            loc = (*loc, *sub)
        where = _display_path(loc)
        last = loc[-1] if loc else None
        if kind == "missing":
            parent = _display_path(loc[:-1])
            if last in LANGUAGES:
                text = f"{parent}: the {last} text is missing; every text needs both zh-TW and en"
            else:
                text = f"{parent}: required field '{last}' is missing"
            line, col = doc.place(loc[:-1])
        elif kind == "extra_forbidden":
            parent = _display_path(loc[:-1])
            text = f"{parent}: unknown field '{last}'; check its spelling against docs/item-format.md"
            line, col = doc.place_of_key(loc)
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            text = f"{where}: {_tag_message(err)}"
            line, col = doc.place(loc)
        elif kind == "model_type" or kind == "dict_type":
            text = f"{where}: expected a mapping of fields here, got {type(err.get('input')).__name__}"
            line, col = doc.place(loc)
        else:
            text = f"{where}: {msg}"
            line, col = doc.place(loc)
        key = (loc, text)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(doc.path, line, col, text))
    return problems


@dataclass(frozen=True)
class SchemaError:
    """One schema error in the unit's own terms, for messages made elsewhere (the web editor's):
    ``loc`` without pydantic's union tags and with a custom validator's ``field:`` prefix moved into
    it, ``kind`` pydantic's error type, ``message`` its text (the validator's own, unprefixed) and
    ``ctx`` its context (``min_length``, ``ge``, ``expected``...)."""

    loc: Loc
    kind: str
    message: str
    ctx: dict[str, Any] = field(default_factory=dict)


def schema_errors(doc: SourceDocument, error: ValidationError) -> list[SchemaError]:
    out: list[SchemaError] = []
    for err in error.errors(include_url=False):
        loc = _clean_loc(doc, err["loc"])
        msg = str(err["msg"])
        if err["type"] == "value_error":
            sub, msg = _split_prefix(msg.removeprefix("Value error, "))
            loc = (*loc, *sub)
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if not isinstance(v, Exception)}
        out.append(SchemaError(loc, err["type"], msg, ctx))
    return out


def _tag_message(err: Any) -> str:
    ctx = err.get("ctx") or {}
    expected = ctx.get("expected_tags", "")
    if err["type"] == "union_tag_not_found":
        return f"'type' is missing; use one of {expected}"
    return f"unknown type {ctx.get('tag')!r}; use one of {expected}"


def _validate_model(model: type[BaseModel], doc: SourceDocument) -> tuple[Any, list[Problem]]:
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, schema_problems(doc, exc)


# -- files -------------------------------------------------------------------------------------
def is_calibration_path(path: Path) -> bool:
    return CALIBRATIONS_DIR in path.parts[:-1]


def parse_unit_text(raw: bytes | str, name: str) -> tuple[Unit | None, SourceDocument | None, list[Problem]]:
    """Validate one unit given as text (used by the web editor as by the files)."""
    doc, problems = parse_yaml(raw, name)
    if doc is None:
        return None, None, problems
    if not isinstance(doc.data, dict):
        return None, doc, [*problems, Problem(name, 1, 1, "a unit file holds one mapping (id, title, metadata, "
                                                         "stimulus, items), not a list or a single value")]
    unit, more = _validate_model(Unit, doc)
    return (unit if not problems else None), doc, [*problems, *more]


def _find_files(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[Problem]]:
    """(file, bank root) pairs for every .yaml/.yml under ``paths``, sorted for stable output."""
    found: list[tuple[Path, Path]] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            found.extend((f, path) for f in files)
        elif path.is_file():
            root = path.parent.parent if path.parent.name == CALIBRATIONS_DIR else path.parent
            found.append((path, root))
        else:
            problems.append(Problem(str(path), 0, 0, "no such file or folder"))
    return found, problems


def load_bank(paths: Sequence[Path | str]) -> LoadedBank:
    """Read and check every unit and calibration file under ``paths`` and the bank as a whole."""
    bank = LoadedBank()
    files, bank.problems = _find_files(Path(p) for p in paths)
    docs: dict[str, SourceDocument] = {}
    for file, root in files:
        name = str(file)
        if is_calibration_path(file):
            doc, problems = read_yaml(file, name)
            bank.problems.extend(problems)
            if doc is not None:
                record, more = _validate_model(CalibrationFile, doc)
                bank.problems.extend(more)
                if record is not None:
                    bank.calibrations.append(record.calibration)
            continue
        if file.parent.name == QUESTIONNAIRES_DIR:  # an instrument of its own, not a unit
            from .questionnaire import parse_questionnaire  # it imports this module

            found = parse_questionnaire(_read_bytes(file), name)[1]
            bank.problems.extend(found)
            if not found:
                bank.questionnaires.append(name)
            continue
        unit, doc, problems = parse_unit_text(_read_bytes(file), name)
        bank.problems.extend(problems)
        if unit is None or doc is None:
            continue
        docs[name] = doc
        relpath = file.relative_to(root).as_posix() if file.is_relative_to(root) else file.name
        loaded = LoadedUnit(unit, name, relpath)
        bank.problems.extend(_load_images(loaded, file.parent, doc))
        bank.units.append(loaded)
    bank.problems.extend(_bank_problems(bank, docs, files))
    bank.problems.sort()
    return bank


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError:
        return b""


def _load_images(loaded: LoadedUnit, folder: Path, doc: SourceDocument) -> list[Problem]:
    problems = []
    for i, block in enumerate(loaded.unit.stimulus):
        if not isinstance(block, ImageBlock):
            continue
        line, col = doc.place(("stimulus", i, "src"))
        src = Path(block.src)
        if src.is_absolute() or ".." in src.parts:
            problems.append(Problem(loaded.file, line, col, f"stimulus[{i}].src: give a path inside the bank "
                                                            f"folder, relative to the unit file, not {block.src!r}"))
            continue
        if src.suffix.lower() not in IMAGE_TYPES:
            problems.append(Problem(loaded.file, line, col, f"stimulus[{i}].src: unsupported image type "
                                                            f"{src.suffix!r}; use {', '.join(IMAGE_TYPES)}"))
            continue
        target = folder / src
        if not target.is_file():
            problems.append(Problem(loaded.file, line, col, f"stimulus[{i}].src: image file {block.src!r} not "
                                                            f"found next to the unit file"))
            continue
        if target.stat().st_size > MAX_IMAGE_BYTES:
            problems.append(Problem(loaded.file, line, col, f"stimulus[{i}].src: image is larger than "
                                                            f"{MAX_IMAGE_BYTES // 1024 // 1024} MB; make it smaller"))
            continue
        data = target.read_bytes()
        try:
            check_image(block.src, data)
        except ImageError as exc:
            problems.append(Problem(loaded.file, line, col, f"stimulus[{i}].src: image {block.src!r}: {exc}"))
            continue
        loaded.images[block.src] = data
    return problems


def _bank_problems(bank: LoadedBank, docs: dict[str, SourceDocument], files: list[tuple[Path, Path]]) -> list[Problem]:
    problems: list[Problem] = []
    unit_seen: dict[str, str] = {}
    item_seen: dict[str, str] = {}
    calibration_ids = {c.id for c in bank.calibrations}
    # calibrations beside the bank folder count even when only one unit file is validated
    for _, root in files:
        folder = root / CALIBRATIONS_DIR
        if folder.is_dir():
            calibration_ids |= {p.stem for p in folder.glob("*.yaml")}
    for loaded in bank.units:
        doc = docs[loaded.file]
        unit = loaded.unit
        if unit.id in unit_seen:
            line, col = doc.place(("id",))
            problems.append(Problem(loaded.file, line, col, f"unit id {unit.id!r} is also used by "
                                                            f"{unit_seen[unit.id]}; unit ids must be unique"))
        else:
            unit_seen[unit.id] = loaded.file
        for i, item in enumerate(unit.items):
            if item.id in item_seen and item_seen[item.id] != loaded.file:
                line, col = doc.place(("items", i, "id"))
                problems.append(Problem(loaded.file, line, col, f"items[{i}].id: item id {item.id!r} is also "
                                                                f"used in {item_seen[item.id]}; item ids must be "
                                                                "unique in the bank"))
            item_seen.setdefault(item.id, loaded.file)
            if item.irt is not None and item.irt.calibration not in calibration_ids:
                line, col = doc.place(("items", i, "irt", "calibration"))
                problems.append(Problem(loaded.file, line, col,
                                        f"items[{i}].irt.calibration: calibration {item.irt.calibration!r} is "
                                        f"not in the bank; add {CALIBRATIONS_DIR}/{item.irt.calibration}.yaml"))
    return problems
