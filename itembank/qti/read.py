"""Read a QTI package (or loose QTI 2.x/3 item files) into units of the bank, with every problem
and every loss named by file and element.

``read_qti_package(data, name)`` returns a :class:`QtiBank`: the units that could be mapped, the
problems (what could not be mapped), and notes (what was mapped with a loss, such as a text copied
into the missing language).  Import it with :func:`itembank.bank.importer.import_bank` in one transaction.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree
from pydantic import ValidationError

from itembank import config
from itembank.bank.images import ImageError, check_image
from itembank.bank.schema import LANGUAGES, CalibrationRecord, Unit
from itembank.bank.validation import LoadedBank, LoadedUnit
from itembank.errors import Problem, ProblemsError

from .import_v2 import is_qti2, to_qti3
from .import_v3 import UNKNOWN, Draft, Text, map_item, map_stimulus
from .markup import local
from .names import GC, LOM, QTI3, XML_LANG, bank_id
from .package import Limits, parse_xml, read_zip

G = f"{{{GC}}}"
ITEM_ROOTS = {"qti-assessment-item", "assessmentItem"}
STIMULUS_ROOTS = {"qti-assessment-stimulus"}


@dataclass
class QtiBank(LoadedBank):
    notes: list[Problem] = field(default_factory=list)  # mapped, with a loss the user should know


class MergeConflict(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def merge(a: Any, b: Any, path: str = "") -> Any:
    """Merge two language versions of the same draft; anything but texts must agree."""
    if isinstance(a, Text) and isinstance(b, Text):
        return Text({**a, **{k: v for k, v in b.items() if k not in a}})
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            raise MergeConflict(f"{path} (fields {sorted(set(a) ^ set(b))})")
        return {k: merge(a[k], b[k], f"{path}.{k}" if path else str(k)) for k in a}
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise MergeConflict(f"{path} ({len(a)} vs {len(b)} entries)")
        return [merge(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True))]
    if a != b:
        raise MergeConflict(f"{path} ({a!r} vs {b!r})")
    return a


def fill_languages(obj: Any, copied: set[str]) -> Any:
    """Texts as {'zh-TW', 'en'}; a language missing is copied from the other (recorded in ``copied``)."""
    if isinstance(obj, Text):
        source = obj.get("en", obj.get("zh-TW", obj.get(UNKNOWN)))
        out = {}
        for lang in LANGUAGES:
            if lang in obj:
                out[lang] = obj[lang]
            else:
                out[lang] = source
                copied.add(lang)
        return out
    if isinstance(obj, dict):
        return {k: fill_languages(v, copied) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fill_languages(v, copied) for v in obj]
    return obj


# -- manifest and our extension ----------------------------------------------------------------
@dataclass
class Manifest:
    items: list[str] = field(default_factory=list)  # package paths of item files, in order
    stimuli: list[str] = field(default_factory=list)
    item_meta: dict[str, etree._Element] = field(default_factory=dict)  # path -> gc:item
    unit_meta: dict[str, etree._Element] = field(default_factory=dict)  # unit id -> gc:unit
    unit_titles: dict[str, Text] = field(default_factory=dict)
    calibrations: list[etree._Element] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_manifest(files: dict[str, bytes], name: str) -> Manifest:
    manifest = Manifest()
    data = files.get("imsmanifest.xml")
    if data is None:  # loose item files: every XML file whose root is an item or a stimulus
        for path in sorted(files):
            if path.endswith(".xml"):
                try:
                    root = parse_xml(files[path], f"{name}:{path}")
                except ProblemsError as exc:
                    manifest.problems.extend(exc.problems)
                    continue
                if etree.QName(root).localname in ITEM_ROOTS:
                    manifest.items.append(path)
        return manifest
    root = parse_xml(data, f"{name}:imsmanifest.xml")
    most = config.load().max_qti_resources
    resources = sum(1 for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "resource")
    if resources > most:
        raise ProblemsError([Problem(f"{name}:imsmanifest.xml", 0, 0, f"the manifest lists {resources} "
                                     f"resources; at most {most} are imported at once: split the package")])
    manifest.calibrations = list(root.iter(G + "calibration"))
    for res in root.iter():
        if not isinstance(res.tag, str) or etree.QName(res).localname != "resource":
            continue
        kind = res.get("type", "")
        href = res.get("href") or next((f.get("href") for f in res if local(f) == "file"), None)
        if not href:
            continue
        href = posixpath.normpath(href)
        if kind.startswith("imsqti_item_xml"):
            manifest.items.append(href)
            meta = next(res.iter(G + "item"), None)
            if meta is not None:
                manifest.item_meta[href] = meta
        elif kind.startswith("imsqti_stimulus_xml"):
            manifest.stimuli.append(href)
            meta = next(res.iter(G + "unit"), None)
            if meta is not None:
                manifest.unit_meta[meta.get("id", "")] = meta
                title = next(res.iter(f"{{{LOM}}}title"), None)
                if title is not None:
                    manifest.unit_titles[meta.get("id", "")] = Text(
                        {s.get("language"): (s.text or "") for s in title if s.get("language") in LANGUAGES})
    return manifest


def _localtext(el: etree._Element | None) -> dict[str, str] | None:
    if el is None:
        return None
    return {t.get(XML_LANG): (t.text or "") for t in el if t.get(XML_LANG) in LANGUAGES}


def _calibration(el: etree._Element) -> CalibrationRecord:
    return CalibrationRecord.model_validate({
        "id": el.get("id"), "date": date.fromisoformat(el.get("date", "")), "method": el.get("method"),
        "software": el.get("software"), "data": el.get("data"), "persons": int(el.get("persons", "0")),
        "population": {"mean": float(el.get("population-mean", "0")), "sd": float(el.get("population-sd", "1"))},
        "description": _localtext(el.find(G + "description")),
    })


def _apply_item_meta(item: dict, meta: etree._Element) -> None:
    item["id"] = meta.get("id", item["id"])
    item["process"] = meta.get("process", item["process"])
    if meta.get("dimension"):
        item["dimension"] = meta.get("dimension")
    if meta.get("lines"):
        item["lines"] = int(meta.get("lines", "6"))
    for rationale in meta.findall(G + "rationale"):
        for part in item.get("options", item.get("statements", [])):
            if part.get("id") == rationale.get("for"):
                part["rationale"] = _localtext(rationale)
    answers = meta.findall(G + "answer")
    if answers:
        accepted: dict[str, list[str]] = {}
        for answer in answers:
            accepted.setdefault(answer.get(XML_LANG, ""), []).append(answer.text or "")
        item["accepted"] = Text(accepted)
    numeric = meta.find(G + "numeric")
    if numeric is not None:
        item["numeric"] = {"value": float(numeric.get("value", "0")), "tolerance": float(numeric.get("tolerance", "0"))}
    irt = meta.find(G + "irt")
    if irt is not None:
        b_values = [float(x) for x in irt.get("b", "").split()]
        block: dict[str, Any] = {"model": irt.get("model"), "calibration": irt.get("calibration"),
                                 "b": b_values if irt.get("model") in ("grm", "gpcm") else b_values[0]}
        for p in ("a", "c"):
            if irt.get(p) is not None:
                block[p] = float(irt.get(p, "0"))
        item["irt"] = block


# -- the package ----------------------------------------------------------------------------------
def read_qti_package(data: bytes, name: str, limits: Limits | None = None) -> QtiBank:
    """Read a QTI content package (zip) or one QTI item file (XML) named ``name``."""
    limits = limits or Limits()
    if data.lstrip()[:1] == b"<":
        return read_qti_files({posixpath.basename(name): data}, name)
    return read_qti_files(read_zip(data, name, limits), name)


def read_qti_files(files: dict[str, bytes], name: str) -> QtiBank:
    """Map the package files (path -> bytes) to units; never raises for content it cannot map."""
    bank = QtiBank()
    try:
        manifest = read_manifest(files, name)
    except ProblemsError as exc:
        bank.problems.extend(exc.problems)
        return bank
    bank.problems.extend(manifest.problems)
    own = bool(manifest.item_meta)
    paths = set(files)
    for el in manifest.calibrations:
        try:
            bank.calibrations.append(_calibration(el))
        except (ValidationError, ValueError) as exc:
            bank.problems.append(Problem(f"{name}:imsmanifest.xml", el.sourceline or 0, 0,
                                         f"<gc:calibration>: {exc}"))

    # 1. every item file mapped on its own
    drafts: list[Draft] = []
    for path in manifest.items:
        where = f"{name}:{path}"
        if path not in files:
            bank.problems.append(Problem(f"{name}:imsmanifest.xml", 0, 0, f"item file {path!r} is listed but "
                                                                          "missing from the package"))
            continue
        try:
            root = parse_xml(files[path], where)
        except ProblemsError as exc:
            bank.problems.extend(exc.problems)
            continue
        if etree.QName(root).localname not in ITEM_ROOTS:
            bank.problems.append(Problem(where, root.sourceline or 0, 0, f"<{etree.QName(root).localname}>: "
                                                                         "not a QTI assessment item"))
            continue
        if is_qti2(root):
            root = to_qti3(root)
        elif etree.QName(root).namespace != QTI3:
            bank.problems.append(Problem(where, root.sourceline or 0, 0, f"namespace "
                                         f"{etree.QName(root).namespace!r} is not QTI 2.1, 2.2 or 3.0"))
            continue
        draft = map_item(root, where, path, path in manifest.item_meta, paths)
        bank.notes.extend(draft.notes)
        if draft.problems or draft.data is None:
            bank.problems.extend(draft.problems)
            continue
        meta = manifest.item_meta.get(path)
        if meta is not None:
            _apply_item_meta(draft.data, meta)
            draft.stimulus_ref = meta.get("unit", draft.stimulus_ref)
        drafts.append(draft)

    # 2. language versions of one item merged (same identifier, different languages)
    groups: dict[str, list[Draft]] = defaultdict(list)
    for draft in drafts:
        groups[draft.data["id"]].append(draft)
    items: dict[str, tuple[dict, list[Draft]]] = {}
    for key, group in groups.items():
        langs = [d.lang for d in group]
        if len(group) > 1 and (UNKNOWN in langs or len(set(langs)) != len(langs)):
            for d in group:  # distinct items that happen to share an identifier: name them by file
                d.data["id"] = bank_id(posixpath.splitext(posixpath.basename(d.where.split(":", 1)[1]))[0])
                items[d.data["id"]] = (d.data, [d])
            continue
        merged = group[0].data
        try:
            for d in group[1:]:
                merged = merge(merged, d.data)
        except MergeConflict as exc:
            bank.problems.append(Problem(group[1].where, 0, 0, f"the {group[0].lang} and {group[1].lang} "
                                         f"versions of item {key!r} differ in {exc.path}; translations must "
                                         "have the same structure and keys"))
            continue
        items[key] = (merged, group)

    # 3. units: items grouped by the stimulus they share
    # stimuli the items refer to are read even when the manifest does not list them as stimuli
    # (loose files, or a converter that listed them as webcontent)
    for _, group in items.values():
        for d in group:
            href = d.stimulus_href
            if href and href in files and href not in manifest.stimuli and not own:
                manifest.stimuli.append(href)
            elif href and href not in files and d.stimulus_ref and not own:
                bank.problems.append(Problem(d.where, 0, 0, f"<qti-assessment-stimulus-ref>: stimulus "
                                             f"{d.stimulus_ref!r} ({href}) is missing from the package"))
    stimuli, by_path = _read_stimuli(files, manifest, name, own, paths, bank)
    units: dict[str, list[str]] = defaultdict(list)
    for key, (_, group) in items.items():
        ref = group[0].stimulus_ref
        found = by_path.get(group[0].stimulus_href or "")
        units[found if found and not own else bank_id(ref) if ref else key].append(key)
    for unit_id, item_ids in units.items():
        _build_unit(bank, unit_id, item_ids, items, stimuli.get(unit_id), manifest, files, name)
    bank.problems.sort()
    bank.notes.sort()
    return bank


def _read_stimuli(files, manifest, name, own, paths, bank) -> tuple[dict[str, list[Draft]], dict[str, str]]:
    """Stimulus drafts by unit id, and the unit id of each stimulus file's path."""
    stimuli: dict[str, list[Draft]] = defaultdict(list)
    by_path: dict[str, str] = {}
    for path in manifest.stimuli:
        where = f"{name}:{path}"
        if path not in files:
            bank.problems.append(Problem(f"{name}:imsmanifest.xml", 0, 0, f"stimulus file {path!r} is missing"))
            continue
        try:
            root = parse_xml(files[path], where)
        except ProblemsError as exc:
            bank.problems.extend(exc.problems)
            continue
        draft = map_stimulus(root, where, path, own, paths)
        bank.problems.extend(draft.problems)
        bank.notes.extend(draft.notes)
        stimuli[bank_id(draft.identifier)].append(draft)
        by_path[path] = bank_id(draft.identifier)
    return stimuli, by_path


def _build_unit(bank: QtiBank, unit_id: str, item_ids: list[str], items: dict, stimulus: list[Draft] | None,
                manifest: Manifest, files: dict[str, bytes], name: str) -> None:
    meta = manifest.unit_meta.get(unit_id)
    first = items[item_ids[0]][1][0]
    where = (stimulus[0].where if stimulus else first.where)
    images: dict[str, str] = {}
    # stimulus blocks and title
    try:
        if stimulus:
            blocks: Any = stimulus[0].data
            title: Any = stimulus[0].title
            for d in stimulus[1:]:
                blocks = merge(blocks, d.data, "stimulus")
                title = merge(title, d.title)
            for d in stimulus:
                images.update(d.images)
        else:
            blocks, title = [], first.title
            for key in item_ids:
                for d in items[key][1][:1]:
                    blocks.extend(d.body_blocks)
                    images.update(d.images)
    except MergeConflict as exc:
        bank.problems.append(Problem(where, 0, 0, f"the language versions of unit {unit_id!r} differ in "
                                                  f"{exc.path}; translations must have the same structure"))
        return
    for key in item_ids:
        for d in items[key][1]:
            if stimulus:
                blocks.extend(b for b in d.body_blocks if b not in blocks)
            images.update(d.images)
    if meta is not None:
        order = meta.get("items", "").split()
        item_ids = sorted(item_ids, key=lambda k: order.index(k) if k in order else len(order))
        title = manifest.unit_titles.get(unit_id, title)
        metadata = {
            "dimension": meta.get("dimension"), "content_domain": meta.get("content-domain"),
            "context": _localtext(meta.find(G + "context")), "grade_band": meta.get("grade-band", "").split(),
            "estimated_minutes": int(meta.get("estimated-minutes", "1")), "author": meta.get("author"),
            "sdgs": [int(s) for s in meta.get("sdgs", "").split()], "topics": meta.get("topics", "").split(),
        }
        head = {"id": meta.get("id", unit_id), "version": int(meta.get("version", "1")), "status": meta.get("status")}
    else:
        metadata = {"dimension": "examine_issues", "content_domain": "culture", "context": title,
                    "grade_band": ["junior_high"], "estimated_minutes": max(1, 2 * len(item_ids)),
                    "author": f"QTI import: {name}"}
        head = {"id": unit_id, "version": 1, "status": "draft"}
        bank.notes.append(Problem(where, 0, 0, f"unit {unit_id}: dimension, content domain, grade band and "
                                               "processes are placeholders (QTI has no place for them); the "
                                               "unit is a draft: set them before review"))
    raw = {**head, "title": title, "metadata": metadata, "stimulus": blocks,
           "items": [items[k][0] for k in item_ids]}
    copied: set[str] = set()
    content = fill_languages(raw, copied)
    if copied:
        langs = sorted({d.xml_lang or "no xml:lang" for k in item_ids for d in items[k][1]})
        content["status"] = "draft"
        bank.notes.append(Problem(where, 0, 0, f"unit {unit_id}: no {' or '.join(sorted(copied))} text "
                                  f"(the package has {', '.join(langs)}"
                                  "); the text was copied into both languages and the unit marked draft until "
                                  "a translator checks it"))
    try:
        unit = Unit.model_validate(content)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            bank.problems.append(Problem(where, 0, 0, f"unit {unit_id}: {loc}: {err['msg']}"))
        return
    loaded = LoadedUnit(unit, where, f"{unit.id}.yaml")
    refused = False
    for src, path in images.items():
        try:
            check_image(path, files[path])
        except ImageError as exc:  # QTI import runs the same image check as every other way in
            bank.problems.append(Problem(f"{name}:{path}", 0, 0, f"unit {unit_id}: image {src!r}: {exc}"))
            refused = True
        loaded.images[src] = files[path]
    if not refused:
        bank.units.append(loaded)
