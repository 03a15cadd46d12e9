"""Write units as an IMS QTI 3.0 content package: one item file per item and language, one
stimulus file per unit and language, media files, and an imsmanifest.xml tying them together.

See docs/qti.md for the mapping of each item type and what the package keeps where.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import PurePosixPath
from typing import BinaryIO

from lxml import etree
from sqlalchemy.orm import Session

from itembank.bank.schema import (
    LANGUAGES,
    CalibrationRecord,
    ComplexChoice,
    ImageBlock,
    LocalText,
    MultipleChoice,
    OpenResponse,
    Order,
    ScoreRule,
    ShortResponse,
    SingleChoice,
    TableBlock,
    TextBlock,
    Unit,
    rationale_parts,
)

from .markup import markdown_elements
from .names import (
    ASI_SCHEMA_URL,
    CP,
    CP_SCHEMA_URL,
    GC,
    ITEM_TYPE,
    LOM,
    LOM_SCHEMA_URL,
    QTI3,
    RP_TEMPLATES,
    STIMULUS_TYPE,
    TEST_TYPE,
    XML_LANG,
    XSI,
    qti_id,
)
from .package import write_zip

Q = f"{{{QTI3}}}"
C = f"{{{CP}}}"
L = f"{{{LOM}}}"
G = f"{{{GC}}}"


def q(tag: str, parent: etree._Element | None = None, text: str | None = None,
      **attrs: str | None) -> etree._Element:
    """A QTI element (attribute names with '_' written with '-')."""
    attributes: dict[str, str] = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items() if v is not None}
    if parent is None:
        el = etree.Element(Q + tag, attributes, nsmap={None: QTI3, "xsi": XSI})
    else:
        el = etree.SubElement(parent, Q + tag, attributes)
    if text is not None:
        el.text = text
    return el


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def item_path(item_id: str, lang: str) -> str:
    return f"items/{item_id}.{lang}.xml"


def stimulus_path(unit_id: str, lang: str) -> str:
    return f"stimuli/{unit_id}.{lang}.xml"


def test_path(lang: str) -> str:
    return f"tests/bank.{lang}.xml"


def media_path(unit_id: str, src: str) -> str:
    return f"media/{unit_id}/{PurePosixPath(src).as_posix()}"


# -- content -----------------------------------------------------------------------------------
def _markdown_into(parent: etree._Element, text: str) -> None:
    parent.extend(markdown_elements(text, QTI3))


def stimulus_xml(unit: Unit, lang: str) -> bytes:
    root = q("qti-assessment-stimulus", identifier=qti_id(unit.id), title=unit.title.get(lang))
    root.set(XML_LANG, lang)
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI3} {ASI_SCHEMA_URL}")
    body = q("qti-stimulus-body", root)
    if not unit.stimulus:  # a unit of items that stand alone: the body needs one (empty) block
        q("div", body, class_="gc-empty")
    for block in unit.stimulus:
        if isinstance(block, TextBlock):
            _markdown_into(q("div", body, class_="gc-text"), block.text.get(lang))
        elif isinstance(block, ImageBlock):
            figure = q("figure", body, class_="gc-image")
            q("img", figure, src=f"../{media_path(unit.id, block.src)}", alt=block.alt.get(lang),
              width=str(block.width) if block.width else None)
            if block.caption is not None:
                q("figcaption", figure, block.caption.get(lang))
        elif isinstance(block, TableBlock):
            _table(q("div", body, class_="gc-table"), block, lang)
    return _bytes(root)


def _cell(parent: etree._Element, tag: str, value: LocalText | str | int | float, lang: str) -> None:
    if isinstance(value, LocalText):
        q(tag, parent, value.get(lang))
    else:  # kind kept in the class, so that 2020 comes back a number and "A1" a code
        kind = "gc-int" if isinstance(value, int) else "gc-float" if isinstance(value, float) else "gc-code"
        q(tag, parent, str(value), class_=kind)


def _table(div: etree._Element, block: TableBlock, lang: str) -> None:
    table = q("table", div)
    if block.caption is not None:
        q("caption", table, block.caption.get(lang))
    head = q("tr", q("thead", table))
    for column in block.columns:
        _cell(head, "th", column, lang)
    body = q("tbody", table)
    for row in block.rows:
        tr = q("tr", body)
        for value in row:
            _cell(tr, "td", value, lang)
    if block.source is not None:
        q("p", div, block.source.get(lang), class_="gc-source")


def _declare(root: etree._Element, cardinality: str, base_type: str, correct: Sequence[str]) -> etree._Element:
    decl = q("qti-response-declaration", root, identifier="RESPONSE", cardinality=cardinality, base_type=base_type)
    if correct:
        values = q("qti-correct-response", decl)
        for value in correct:
            q("qti-value", values, value)
    return decl


def _outcome(root: etree._Element, identifier: str, default: str | None, base_type: str = "float", **attrs: str) -> None:
    out = q("qti-outcome-declaration", root, identifier=identifier, cardinality="single", base_type=base_type,
            **attrs)
    if default is not None:
        q("qti-value", q("qti-default-value", out), default)


def _set(parent: etree._Element, identifier: str, value: etree._Element) -> None:
    q("qti-set-outcome-value", parent, identifier=identifier).append(value)


def _float(value: float | int) -> etree._Element:
    return q("qti-base-value", text=f"{value:g}", base_type="float")


def _counting_rules(rp: etree._Element, count: etree._Element, offset: int, rules: Sequence[ScoreRule]) -> None:
    """NUM_CORRECT = count (+ offset); then the first rule whose min_correct is met sets SCORE."""
    cond = q("qti-response-condition", rp)
    when_null = q("qti-response-if", cond)
    q("qti-variable", q("qti-is-null", when_null), identifier="RESPONSE")
    _set(when_null, "NUM_CORRECT", _float(offset))
    otherwise = q("qti-response-else", cond)
    if offset:
        total = q("qti-sum")
        total.extend([count, _float(offset)])
        _set(otherwise, "NUM_CORRECT", total)
    else:
        _set(otherwise, "NUM_CORRECT", count)
    cond = q("qti-response-condition", rp)
    for n, rule in enumerate(rules):
        branch = q("qti-response-if" if n == 0 else "qti-response-else-if", cond)
        gte = q("qti-gte", branch)
        q("qti-variable", gte, identifier="NUM_CORRECT")
        gte.append(_float(rule.min_correct))
        _set(branch, "SCORE", _float(rule.score))
    _set(q("qti-response-else", cond), "SCORE", _float(0))


def item_xml(unit: Unit, index: int, lang: str) -> bytes:
    item = unit.items[index]
    title = f"{unit.title.get(lang)} ({item.id})"
    root = q("qti-assessment-item", identifier=qti_id(item.id), title=title, adaptive="false",
             time_dependent="false")
    root.set(XML_LANG, lang)
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI3} {ASI_SCHEMA_URL}")
    counting = isinstance(item, MultipleChoice | ComplexChoice) and bool(item.scoring)
    weighted = isinstance(item, MultipleChoice | ComplexChoice) and item.weights is not None

    # declarations
    if isinstance(item, SingleChoice):
        _declare(root, "single", "identifier", [qti_id(item.key)])
    elif isinstance(item, MultipleChoice):
        decl = _declare(root, "multiple", "identifier", [qti_id(k) for k in item.key])
        if item.weights is not None:
            _weights_mapping(decl, {qti_id(o): p for o, p in item.weights.points.items()}, item.weights.upper)
        elif counting:  # +1 per key option chosen, -1 per other option chosen
            mapping = q("qti-mapping", decl, default_value="0")
            for option in item.options:
                q("qti-map-entry", mapping, map_key=qti_id(option.id),
                  mapped_value="1" if option.id in item.key else "-1")
    elif isinstance(item, ComplexChoice):
        pairs = [f"{qti_id(s.id)} {qti_id(item.key[s.id])}" for s in item.statements]
        decl = _declare(root, "multiple", "directedPair", pairs)
        if item.weights is not None:
            _weights_mapping(decl, {f"{qti_id(s)} {qti_id(c)}": p for s, row in item.weights.points.items()
                                    for c, p in row.items()}, item.weights.upper)
        elif counting:
            mapping = q("qti-mapping", decl, default_value="0")
            for pair in pairs:
                q("qti-map-entry", mapping, map_key=pair, mapped_value="1")
    elif isinstance(item, Order):
        _declare(root, "ordered", "identifier", [qti_id(k) for k in item.key])
    elif isinstance(item, ShortResponse):
        answers = getattr(item.accepted, "zh_TW" if lang == "zh-TW" else "en")
        decl = _declare(root, "single", "string", answers[:1])
        mapping = q("qti-mapping", decl, default_value="0", lower_bound="0", upper_bound="1")
        for answer in short_answer_variants(item, lang):
            q("qti-map-entry", mapping, map_key=answer, mapped_value="1", case_sensitive="false")
    else:
        _declare(root, "single", "string", [])
    max_score = str(item.max_score)
    if isinstance(item, OpenResponse):
        _outcome(root, "SCORE", "0", normal_minimum="0", normal_maximum=max_score, external_scored="human")
    else:
        _outcome(root, "SCORE", "0", normal_minimum="0", normal_maximum=max_score)
    _outcome(root, "MAXSCORE", max_score)
    if counting:
        _outcome(root, "NUM_CORRECT", "0")
    q("qti-assessment-stimulus-ref", root, identifier=qti_id(unit.id),
      href=f"../{stimulus_path(unit.id, lang)}", title=unit.title.get(lang))

    # body
    body = q("qti-item-body", root)
    if isinstance(item, SingleChoice | MultipleChoice):
        interaction = q("qti-choice-interaction", body, response_identifier="RESPONSE", shuffle="false",
                        max_choices="1" if isinstance(item, SingleChoice) else "0",
                        min_choices="0" if isinstance(item, MultipleChoice) else None)
        _markdown_into(q("qti-prompt", interaction), item.prompt.get(lang))
        for option in item.options:
            q("qti-simple-choice", interaction, option.text.get(lang), identifier=qti_id(option.id))
    elif isinstance(item, ComplexChoice):
        interaction = q("qti-match-interaction", body, response_identifier="RESPONSE", shuffle="false",
                        max_associations=str(len(item.statements)), class_="qti-match-tabular")
        _markdown_into(q("qti-prompt", interaction), item.prompt.get(lang))
        statements = q("qti-simple-match-set", interaction)
        for statement in item.statements:
            q("qti-simple-associable-choice", statements, statement.text.get(lang), identifier=qti_id(statement.id),
              match_max="1")
        choices = q("qti-simple-match-set", interaction)
        for choice in item.choices:
            q("qti-simple-associable-choice", choices, choice.text.get(lang), identifier=qti_id(choice.id),
              match_max=str(len(item.statements)))
    elif isinstance(item, Order):
        interaction = q("qti-order-interaction", body, response_identifier="RESPONSE", shuffle="false",
                        orientation="vertical")
        _markdown_into(q("qti-prompt", interaction), item.prompt.get(lang))
        for step in item.options:
            q("qti-simple-choice", interaction, step.text.get(lang), identifier=qti_id(step.id))
    elif isinstance(item, ShortResponse):
        _markdown_into(q("div", body, class_="gc-prompt"), item.prompt.get(lang))
        q("qti-text-entry-interaction", q("p", body), response_identifier="RESPONSE", expected_length="20")
    elif isinstance(item, OpenResponse):
        interaction = q("qti-extended-text-interaction", body, response_identifier="RESPONSE",
                        expected_lines=str(item.lines))
        _markdown_into(q("qti-prompt", interaction), item.prompt.get(lang))
        _coding_guide(q("qti-content-body", q("qti-rubric-block", body, use="scoring", view="scorer")), item, lang)

    # response processing
    if weighted:
        _weighted_processing(q("qti-response-processing", root))
    elif isinstance(item, MultipleChoice) and item.also_correct:
        _alternatives_processing(q("qti-response-processing", root), item.also_correct)
    elif isinstance(item, SingleChoice | Order) or (isinstance(item, MultipleChoice | ComplexChoice) and not counting):
        q("qti-response-processing", root, template=f"{RP_TEMPLATES}match_correct.xml")
    elif isinstance(item, MultipleChoice):
        rp = q("qti-response-processing", root)
        others = len(item.options) - len(item.key)  # right when left out: counted by the offset
        _counting_rules(rp, q("qti-map-response", identifier="RESPONSE"), others, item.scoring)
    elif isinstance(item, ComplexChoice):
        rp = q("qti-response-processing", root)
        _counting_rules(rp, q("qti-map-response", identifier="RESPONSE"), 0, item.scoring)
    elif isinstance(item, ShortResponse):
        _short_processing(q("qti-response-processing", root), item)
    return _bytes(root)


def _weights_mapping(decl: etree._Element, points: dict[str, int], upper: int | None) -> None:
    """The item's ``weights`` as a mapping: its points, 0 for the rest, the sum kept within 0 and upper."""
    mapping = q("qti-mapping", decl, default_value="0", lower_bound="0",
                upper_bound=None if upper is None else str(upper))
    for key, value in points.items():
        q("qti-map-entry", mapping, map_key=key, mapped_value=str(value))


def _alternatives_processing(rp: etree._Element, answers: Sequence[Sequence[str]]) -> None:
    """SCORE = 1 when the response is the correct response or one of the other correct answers."""
    cond = q("qti-response-condition", rp)
    branch = q("qti-response-if", cond)
    either = q("qti-or", branch)
    match = q("qti-match", either)
    q("qti-variable", match, identifier="RESPONSE")
    q("qti-correct", match, identifier="RESPONSE")
    for answer in answers:
        match = q("qti-match", either)
        q("qti-variable", match, identifier="RESPONSE")
        values = q("qti-multiple", match)
        for option in answer:
            q("qti-base-value", values, qti_id(option), base_type="identifier")
    _set(branch, "SCORE", _float(1))
    _set(q("qti-response-else", cond), "SCORE", _float(0))


def _weighted_processing(rp: etree._Element) -> None:
    """SCORE = 0 without an answer, else the mapped value of the response (as the map_response
    template, written out so that no player needs to fetch the template)."""
    cond = q("qti-response-condition", rp)
    when_null = q("qti-response-if", cond)
    q("qti-variable", q("qti-is-null", when_null), identifier="RESPONSE")
    _set(when_null, "SCORE", _float(0))
    _set(q("qti-response-else", cond), "SCORE", q("qti-map-response", identifier="RESPONSE"))


def _short_processing(rp: etree._Element, item: ShortResponse) -> None:
    """SCORE = 1 when the response is one of the mapped variants (compared whole, case-insensitively)."""
    cond = q("qti-response-condition", rp)
    branch = q("qti-response-if", cond)
    gte = q("qti-gte", branch)
    q("qti-map-response", gte, identifier="RESPONSE")
    gte.append(_float(1))
    _set(branch, "SCORE", _float(1))
    _set(q("qti-response-else", cond), "SCORE", _float(0))


# What a student may type that the bank accepts: the bank compares answers after NFKC (full-width ->
# half-width), case folding and removing trailing spaces and punctuation (delivery/scoring.py), and
# numbers within the tolerance.  A QTI player compares a string response with map keys whole and, with
# case-sensitive="false", ignoring case, so the variants are written out.
_TRAILING_VARIANTS = ("", " ", ".", "。")
_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
MAX_NUMBERS = 201  # numbers written out for a tolerance; more and the item gets the nearest ones


def _number_forms(value: Decimal, decimals: int) -> list[str]:
    """``value`` as students write it: shortest form, with trailing zeros up to ``decimals`` + 1
    places, and with thousands separators."""
    shortest = format(value.normalize(), "f")
    if "." in shortest:
        shortest = shortest.rstrip("0").rstrip(".")
    places = len(shortest.partition(".")[2])
    forms = [shortest] + [format(value, f".{n}f") for n in range(max(places, 1), max(decimals, places, 1) + 2)]
    if abs(value) >= 1000:
        forms += [format(value, f",.{places}f")]
    return list(dict.fromkeys(forms))


def numeric_answers(item: ShortResponse) -> list[str]:
    """The numbers the bank accepts for ``item.numeric``, each in the forms students write."""
    if item.numeric is None:
        return []
    value = Decimal(repr(item.numeric.value))
    tolerance = Decimal(repr(item.numeric.tolerance))
    exponent = min(value.normalize().as_tuple().exponent, tolerance.normalize().as_tuple().exponent, 0)
    decimals = -int(exponent)
    step = Decimal(1).scaleb(-decimals)
    low = ((value - tolerance) / step).to_integral_value(ROUND_CEILING)
    high = ((value + tolerance) / step).to_integral_value(ROUND_FLOOR)
    centre = (value / step).to_integral_value()
    count = int(high - low) + 1
    if count > MAX_NUMBERS:
        low, high = centre - MAX_NUMBERS // 2, centre + MAX_NUMBERS // 2
    forms: list[str] = []
    for k in range(int(low), int(high) + 1):
        forms.extend(_number_forms(Decimal(k) * step, decimals))
    return forms


def short_answer_variants(item: ShortResponse, lang: str) -> list[str]:
    """Map keys for a short response file in ``lang``: the accepted answers of both languages (the
    file's first), the numbers within the tolerance, each also in full-width characters and followed
    by a space or a full stop; case is left to case-sensitive="false"."""
    first, second = (item.accepted.zh_TW, item.accepted.en) if lang == "zh-TW" else (item.accepted.en, item.accepted.zh_TW)
    bases = [*first, *second, *numeric_answers(item)]
    out: dict[str, str] = {}  # lower case -> as written (players compare in lower case)
    for base in bases:
        nfkc = unicodedata.normalize("NFKC", base)
        for form in (base, nfkc, base.casefold(), nfkc.casefold(), base.translate(_FULL_WIDTH)):
            for tail in _TRAILING_VARIANTS:
                variant = form.strip() + tail
                if variant.strip():
                    out.setdefault(variant.lower(), variant)
    return list(out.values())


def _coding_guide(content: etree._Element, item: OpenResponse, lang: str) -> None:
    """The coding guide as a table a scorer can read and an importer can parse (classes name columns)."""
    table = q("table", content, class_="gc-coding-guide")
    head = q("tr", q("thead", table))
    labels = {"en": ("Code", "Credit", "Score", "Descriptor", "Examples"),
              "zh-TW": ("代碼", "得分類別", "分數", "評分說明", "作答示例")}[lang]
    for label in labels:
        q("th", head, label)
    body = q("tbody", table)
    for code in item.coding_guide:
        tr = q("tr", body, class_=f"gc-credit-{code.credit}")
        q("td", tr, code.code, class_="gc-code")
        q("td", tr, str(code.credit), class_="gc-credit")
        q("td", tr, str(code.score), class_="gc-score")
        _markdown_into(q("td", tr, class_="gc-descriptor"), code.descriptor.get(lang))
        examples = q("td", tr, class_="gc-examples")
        if code.examples:
            ul = q("ul", examples)
            for example in code.examples:
                q("li", ul, example.get(lang))


# -- manifest ----------------------------------------------------------------------------------
def _texts(parent: etree._Element, tag: str, text: LocalText) -> etree._Element:
    el = etree.SubElement(parent, G + tag)
    for lang in LANGUAGES:
        etree.SubElement(el, G + "text", {XML_LANG: lang}).text = text.get(lang)
    return el


def _lom(parent: etree._Element, entry: str, title: LocalText | None) -> etree._Element:
    lom = etree.SubElement(parent, L + "lom")
    general = etree.SubElement(lom, L + "general")
    identifier = etree.SubElement(general, L + "identifier")
    etree.SubElement(identifier, L + "catalog").text = "gc-itembank"
    etree.SubElement(identifier, L + "entry").text = entry
    if title is not None:
        title_el = etree.SubElement(general, L + "title")
        for lang in LANGUAGES:
            etree.SubElement(title_el, L + "string", language=lang).text = title.get(lang)
    return lom


def _unit_extension(lom: etree._Element, unit: Unit) -> None:
    m = unit.metadata
    ext = etree.SubElement(lom, G + "unit", {
        "id": unit.id, "version": str(unit.version), "status": str(unit.status), "dimension": str(m.dimension),
        "content-domain": str(m.content_domain), "grade-band": " ".join(str(g) for g in m.grade_band),
        "estimated-minutes": str(m.estimated_minutes), "author": m.author,
        "sdgs": " ".join(str(s) for s in m.sdgs), "topics": " ".join(m.topics),
        "items": " ".join(i.id for i in unit.items)})
    _texts(ext, "context", m.context)


def _item_extension(lom: etree._Element, unit: Unit, index: int) -> None:
    item = unit.items[index]
    attrs = {"id": item.id, "unit": unit.id, "type": str(item.type), "process": str(item.process)}
    if item.dimension is not None:
        attrs["dimension"] = str(item.dimension)
    if isinstance(item, OpenResponse):
        attrs["lines"] = str(item.lines)
    ext = etree.SubElement(lom, G + "item", attrs)
    for part in rationale_parts(item):  # teachers' material, never in the student-visible item file
        if part.rationale is not None:
            _texts(ext, "rationale", part.rationale).set("for", part.id)
    if isinstance(item, ShortResponse):  # the accepted answers as written (the map keys add variants)
        for lang in LANGUAGES:
            for answer in item.accepted.zh_TW if lang == "zh-TW" else item.accepted.en:
                etree.SubElement(ext, G + "answer", {XML_LANG: lang}).text = answer
    if isinstance(item, ShortResponse) and item.numeric is not None:
        etree.SubElement(ext, G + "numeric", value=repr(item.numeric.value), tolerance=repr(item.numeric.tolerance))
    if item.irt is not None:
        irt = item.irt
        b = " ".join(repr(x) for x in irt.b) if isinstance(irt.b, list) else repr(irt.b)
        attrs = {"model": str(irt.model), "b": b, "calibration": irt.calibration}
        if irt.a is not None:
            attrs["a"] = repr(irt.a)
        if irt.c is not None:
            attrs["c"] = repr(irt.c)
        etree.SubElement(ext, G + "irt", attrs)


def _calibration_extension(lom: etree._Element, record: CalibrationRecord) -> None:
    ext = etree.SubElement(lom, G + "calibration", {
        "id": record.id, "date": record.date.isoformat(), "method": record.method, "software": record.software,
        "data": record.data, "persons": str(record.persons),
        "population-mean": repr(record.population["mean"]), "population-sd": repr(record.population["sd"])})
    if record.description is not None:
        _texts(ext, "description", record.description)


def _resource(resources: etree._Element, identifier: str, type_: str, href: str) -> etree._Element:
    res = etree.SubElement(resources, C + "resource", identifier=identifier, type=type_, href=href)
    return res


def _finish_resource(res: etree._Element, href: str, depends: Iterable[str]) -> None:
    etree.SubElement(res, C + "file", href=href)
    for dep in depends:
        etree.SubElement(res, C + "dependency", identifierref=dep)


def manifest_xml(units: Sequence[Unit], media: dict[str, dict[str, str]], calibrations: Sequence[CalibrationRecord]) -> bytes:
    nsmap = {None: CP, "lom": LOM, "gc": GC, "xsi": XSI}
    root = etree.Element(C + "manifest", nsmap=nsmap, identifier="MANIFEST-gc-itembank")
    root.set(f"{{{XSI}}}schemaLocation", f"{CP} {CP_SCHEMA_URL} {LOM} {LOM_SCHEMA_URL}")
    metadata = etree.SubElement(root, C + "metadata")
    etree.SubElement(metadata, C + "schema").text = "QTI Package"
    etree.SubElement(metadata, C + "schemaversion").text = "3.0.0"
    if calibrations:
        lom = etree.SubElement(metadata, L + "lom")
        for record in calibrations:
            _calibration_extension(lom, record)
    etree.SubElement(root, C + "organizations")
    resources = etree.SubElement(root, C + "resources")
    media_ids: dict[str, str] = {}
    for unit in units:
        for lang in LANGUAGES:
            sid = f"stimulus-{qti_id(unit.id)}-{lang}"
            res = _resource(resources, sid, STIMULUS_TYPE, stimulus_path(unit.id, lang))
            meta = etree.SubElement(res, C + "metadata")
            lom = _lom(meta, unit.id, unit.title)
            _unit_extension(lom, unit)
            deps = []
            for _src, path in sorted(media.get(unit.id, {}).items()):
                deps.append(media_ids.setdefault(path, f"media-{len(media_ids) + 1}"))
            _finish_resource(res, stimulus_path(unit.id, lang), deps)
            for index, item in enumerate(unit.items):
                res = _resource(resources, f"item-{qti_id(item.id)}-{lang}", ITEM_TYPE, item_path(item.id, lang))
                meta = etree.SubElement(res, C + "metadata")
                _item_extension(_lom(meta, item.id, None), unit, index)
                _finish_resource(res, item_path(item.id, lang), [sid])
    for path, mid in media_ids.items():
        res = _resource(resources, mid, "webcontent", path)
        _finish_resource(res, path, [])
    for lang in LANGUAGES if units else ():
        res = _resource(resources, f"test-{lang}", TEST_TYPE, test_path(lang))
        _finish_resource(res, test_path(lang), [f"item-{qti_id(i.id)}-{lang}" for u in units for i in u.items])
    return _bytes(root)


# -- the test ----------------------------------------------------------------------------------
TEST_TITLE = {"zh-TW": "全球素養題庫", "en": "Global competence item bank"}


def test_xml(units: Sequence[Unit], lang: str) -> bytes:
    """A ``qti-assessment-test`` of the package's items in one language: one section per unit (its
    title, its items in order), so that players' package loaders find a test; SCORE is the sum of
    the items' scores."""
    root = q("qti-assessment-test", identifier=f"gc-itembank-{lang}", title=TEST_TITLE[lang])
    root.set(XML_LANG, lang)
    root.set(f"{{{XSI}}}schemaLocation", f"{QTI3} {ASI_SCHEMA_URL}")
    _outcome(root, "SCORE", "0")
    part = q("qti-test-part", root, identifier="units", navigation_mode="nonlinear", submission_mode="individual")
    for unit in units:
        section = q("qti-assessment-section", part, identifier=f"unit-{qti_id(unit.id)}", title=unit.title.get(lang),
                    visible="true")
        for item in unit.items:
            q("qti-assessment-item-ref", section, identifier=qti_id(item.id), href=f"../{item_path(item.id, lang)}")
    total = q("qti-sum", q("qti-set-outcome-value", q("qti-outcome-processing", root), identifier="SCORE"))
    q("qti-test-variables", total, variable_identifier="SCORE")
    return _bytes(root)


# -- the package -------------------------------------------------------------------------------
def package_files(units: Sequence[Unit], images: dict[str, dict[str, bytes]],
                  calibrations: Sequence[CalibrationRecord] = ()) -> dict[str, bytes]:
    """Every file of the package by its path.  ``images``: unit id -> {src -> bytes}."""
    files: dict[str, bytes] = {}
    media: dict[str, dict[str, str]] = {}
    for unit in units:
        for block in unit.stimulus:
            if isinstance(block, ImageBlock):
                data = images.get(unit.id, {}).get(block.src)
                if data is None:
                    raise ValueError(f"unit {unit.id}: no image data for {block.src!r}")
                path = media_path(unit.id, block.src)
                files[path] = data
                media.setdefault(unit.id, {})[block.src] = path
        for lang in LANGUAGES:
            files[stimulus_path(unit.id, lang)] = stimulus_xml(unit, lang)
            for index, item in enumerate(unit.items):
                files[item_path(item.id, lang)] = item_xml(unit, index, lang)
    if units:
        for lang in LANGUAGES:
            files[test_path(lang)] = test_xml(units, lang)
    used = {i.irt.calibration for u in units for i in u.items if i.irt is not None}
    files["imsmanifest.xml"] = manifest_xml(units, media, [c for c in calibrations if c.id in used])
    return files


def export_qti(units: Sequence[Unit], images: dict[str, dict[str, bytes]], out: BinaryIO,
               calibrations: Sequence[CalibrationRecord] = ()) -> list[str]:
    """Write ``units`` as a QTI 3.0 content package (a zip) to ``out``; return the paths written."""
    files = package_files(units, images, calibrations)
    write_zip(files, out)
    return sorted(files)


@dataclass
class ExportSummary:
    units: list[str] = field(default_factory=list)
    items: int = 0
    files: list[str] = field(default_factory=list)


def export_bank_qti(session: Session, out: BinaryIO, unit_ids: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = None) -> ExportSummary:
    """Export the latest version of the bank's units (optionally some ids / statuses) to ``out``."""
    from itembank.bank.exporter import calibration_record
    from itembank.bank.models import Calibration, MediaFile
    from itembank.bank.queries import latest_versions, unit_schema

    versions = latest_versions(session, statuses)
    if unit_ids:
        wanted = set(unit_ids)
        missing = wanted - {v.unit_id for v in versions}
        if missing:
            raise LookupError(f"no such unit{'s' if len(missing) > 1 else ''}"
                              f"{' with that status' if statuses else ''}: {', '.join(sorted(missing))}")
        versions = [v for v in versions if v.unit_id in wanted]
    units: list[Unit] = []
    images: dict[str, dict[str, bytes]] = {}
    for version in versions:
        units.append(unit_schema(version))
        images[version.unit_id] = {}
        for src, digest in version.media.items():
            media = session.get(MediaFile, digest)
            if media is not None:  # the foreign key guarantees it
                images[version.unit_id][src] = media.data
    calibrations = [calibration_record(row) for row in session.query(Calibration).order_by(Calibration.id)]
    files = export_qti(units, images, out, calibrations)
    return ExportSummary([u.id for u in units], sum(len(u.items) for u in units), files)
