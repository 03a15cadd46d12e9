"""Map one QTI 3 item or stimulus (QTI 2.x ones arrive renamed by :mod:`.import_v2`) to a draft of
the bank's schema: plain data shaped like an item or stimulus block, whose texts are :class:`Text`
values holding the file's one language.  Drafts of the same item in two languages are merged by
:mod:`.read`; what cannot be mapped becomes a :class:`~itembank.errors.Problem` naming the file
and the element.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pydantic import ValidationError

from itembank.bank.images import IMAGE_TYPES
from itembank.bank.schema import ComplexChoice, MultipleChoice
from itembank.errors import Problem

from .mapped_scoring import (
    Mapping,
    NotExpressible,
    choice_responses,
    match_responses,
    rules_for,
    weights_for,
)
from .markup import local, plain_text, to_markdown
from .names import QTI3, XML_LANG, bank_id, language_code

UNKNOWN = "*"  # the language of a text whose file is neither zh-TW nor en
SUPPORTED = {
    "qti-choice-interaction": "single_choice / multiple_choice",
    "qti-match-interaction": "complex_choice",
    "qti-text-entry-interaction": "short_response",
    "qti-extended-text-interaction": "open_response",
    "qti-inline-choice-interaction": "single_choice, its sentence the question with a blank",
    "qti-gap-match-interaction": "complex_choice, its gaps the statements and its gap texts the choices",
    "qti-order-interaction": "order",
}
# interactions the bank has no item type for, and what to do about them
UNSUPPORTED = {
    "qti-associate-interaction": "the bank has no pairing item: rewrite it as a complex_choice",
}
_NOT_CONTENT = {"qti-rubric-block", "qti-feedback-block", "qti-feedback-inline", "qti-modal-feedback",
                "qti-assessment-stimulus-ref", "qti-stylesheet", "qti-template-block", "qti-template-inline",
                "qti-printed-variable", "qti-companion-materials-info", "qti-catalog-info"}


class Text(dict):
    """A localised text being assembled: language ('zh-TW', 'en' or '*') -> text (or answer list)."""


@dataclass
class Draft:
    """One file mapped: ``data`` is shaped like a schema item (or a list of stimulus blocks)."""

    where: str
    identifier: str
    lang: str
    xml_lang: str = ""  # as written in the file, for messages
    data: Any = None
    title: Text | None = None
    stimulus_ref: str | None = None  # identifier of a referenced qti-assessment-stimulus
    stimulus_href: str | None = None  # its package path
    body_blocks: list[dict] = field(default_factory=list)  # content outside the interaction
    images: dict[str, str] = field(default_factory=dict)  # src -> package path
    max_score: int = 1
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def find(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(f".//{{{QTI3}}}{name}")


def findall(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(f".//{{{QTI3}}}{name}")


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(f"{{{QTI3}}}{name}")


class _Context:
    def __init__(self, where: str, root: etree._Element, own: bool, files: set[str], path: str) -> None:
        self.where, self.root, self.own, self.files, self.path = where, root, own, files, path
        self.lang = language_code(root.get(XML_LANG)) or UNKNOWN
        self.draft = Draft(where, root.get("identifier", ""), self.lang, root.get(XML_LANG) or "")

    def text(self, value: str | list[str]) -> Text:
        return Text({self.lang: value})

    def problem(self, el: etree._Element | None, message: str) -> None:
        self.draft.problems.append(self._at(el, message))

    def note(self, el: etree._Element | None, message: str) -> None:
        self.draft.notes.append(self._at(el, message))

    def _at(self, el: etree._Element | None, message: str) -> Problem:
        if el is None:
            return Problem(self.where, 0, 0, message)
        return Problem(self.where, el.sourceline or 0, 0, f"<{local(el)}>: {message}")

    def markdown(self, el: etree._Element, skip: frozenset[str] = frozenset()) -> str:
        return to_markdown(el, collapse=not self.own, skip=skip | frozenset(_NOT_CONTENT) | {"img"})

    def image_path(self, el: etree._Element, src: str) -> str | None:
        """The package path of an image the file refers to, or None (with a problem) if unusable."""
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), src))
        if src.startswith(("http:", "https:", "data:", "/")) or path.startswith("../"):
            self.problem(el, f"image {src!r} is outside the package; only images inside it can be imported")
            return None
        if posixpath.splitext(path)[1].lower() not in IMAGE_TYPES:
            self.problem(el, f"image {src!r}: unsupported type; the bank takes {', '.join(IMAGE_TYPES)}")
            return None
        if path not in self.files:
            self.problem(el, f"image {src!r} is missing from the package ({path})")
            return None
        return path


# -- body content as stimulus blocks -------------------------------------------------------------
def body_blocks(ctx: _Context, body: etree._Element, skip: frozenset[str]) -> list[dict]:
    """Third-party body content outside the interaction: one text block, then its images."""
    blocks: list[dict] = []
    text = ctx.markdown(body, skip)
    if text:
        blocks.append({"type": "text", "text": ctx.text(text)})
    for img in body.iter(f"{{{QTI3}}}img", f"{{{QTI3}}}object"):
        if any(local(a) in skip or local(a) in _NOT_CONTENT for a in img.iterancestors()):
            continue
        src = img.get("src") if local(img) == "img" else img.get("data")
        if not src or (local(img) == "object" and not (img.get("type") or "").startswith("image/")):
            continue
        path = ctx.image_path(img, src)
        if path is None:
            continue
        alt = (img.get("alt") or plain_text(img) or "").strip()
        if not alt:
            alt = posixpath.basename(path)
            ctx.note(img, f"image {src!r} has no alt text; its file name was used: write one")
        ctx.draft.images[path] = path
        blocks.append({"type": "image", "src": path, "alt": ctx.text(alt)})
    return blocks


def structured_blocks(ctx: _Context, body: etree._Element) -> list[dict]:
    """Third-party stimulus content in order: text as Markdown, tables as table blocks, images as
    image blocks."""
    blocks: list[dict] = []
    pending = etree.Element(f"{{{QTI3}}}div")  # text between tables, rebuilt for to_markdown
    pending.text = body.text

    def flush() -> None:
        nonlocal pending
        blocks.extend(body_blocks(ctx, pending, frozenset()))
        pending = etree.Element(f"{{{QTI3}}}div")

    for el in list(body):
        if not isinstance(el.tag, str) or local(el) in _NOT_CONTENT:
            continue
        tables = [el] if local(el) == "table" else findall(el, "table")
        if tables and local(el) in ("table", "div", "figure", "section"):
            flush()
            for table in tables:
                block = _table(ctx, table)
                if block is not None:
                    blocks.append(block)
            continue
        copy = etree.fromstring(etree.tostring(el))
        pending.append(copy)
    flush()
    return blocks


def _table(ctx: _Context, table: etree._Element) -> dict | None:
    rows = [[c for c in tr if local(c) in ("td", "th")] for tr in table.iter(f"{{{QTI3}}}tr")]
    rows = [r for r in rows if r]
    if len(rows) < 2:
        ctx.note(table, "a table with fewer than two rows was read as text")
        return {"type": "text", "text": ctx.text(" | ".join(visible_text(c) for r in rows for c in r) or "-")}
    width = max(len(r) for r in rows)
    if any(len(r) != width or any(c.get("colspan") or c.get("rowspan") for c in r) for r in rows):
        ctx.note(table, "merged cells (colspan/rowspan) were split: check the table")

    def cell(el: etree._Element | None) -> Any:
        text = visible_text(el) if el is not None else ""
        return ctx.text(text) if text else "-"

    block: dict[str, Any] = {"type": "table", "columns": [cell(c) for c in rows[0]] + ["-"] * (width - len(rows[0])),
                             "rows": [[cell(r[i] if i < len(r) else None) for i in range(width)] for r in rows[1:]]}
    caption = find(table, "caption")
    if caption is not None and visible_text(caption):
        block["caption"] = ctx.text(visible_text(caption))
    return block


def own_stimulus_blocks(ctx: _Context, body: etree._Element) -> list[dict]:
    """Blocks of a stimulus this bank exported (classes gc-text, gc-image, gc-table)."""
    blocks: list[dict] = []
    for el in body:
        kind = el.get("class", "")
        if kind == "gc-text":
            blocks.append({"type": "text", "text": ctx.text(ctx.markdown(el))})
        elif kind == "gc-image":
            img = find(el, "img")
            if img is None:
                ctx.problem(el, "an image figure without <img>")
                continue
            path = ctx.image_path(img, img.get("src", ""))
            if path is None:
                continue
            src = path.split("/", 2)[2] if path.startswith("media/") and path.count("/") >= 2 else path
            ctx.draft.images[src] = path
            block: dict[str, Any] = {"type": "image", "src": src, "alt": ctx.text(img.get("alt", ""))}
            caption = find(el, "figcaption")
            if caption is not None:
                block["caption"] = ctx.text(plain_text(caption))
            if img.get("width"):
                block["width"] = int(img.get("width", "0").rstrip("%") or 0) or None
            blocks.append(block)
        elif kind == "gc-table":
            blocks.append(_own_table(ctx, el))
        elif isinstance(el.tag, str):
            blocks.extend(body_blocks(ctx, el, frozenset()))
    return blocks


def _cell(ctx: _Context, el: etree._Element) -> Any:
    text = plain_text(el)
    kind = el.get("class", "")
    if kind == "gc-int":
        return int(text)
    if kind == "gc-float":
        return float(text)
    if kind == "gc-code":
        return text
    return ctx.text(text)


def _own_table(ctx: _Context, div: etree._Element) -> dict:
    table = find(div, "table")
    block: dict[str, Any] = {"type": "table"}
    if table is None:
        ctx.problem(div, "a table block without <table>")
        return block
    caption = find(table, "caption")
    if caption is not None:
        block["caption"] = ctx.text(plain_text(caption))
    block["columns"] = [_cell(ctx, th) for th in findall(table, "th")]
    block["rows"] = [[_cell(ctx, td) for td in children(tr, "td")] for tr in findall(find(table, "tbody"), "tr")]
    source = next((p for p in children(div, "p") if p.get("class") == "gc-source"), None)
    if source is not None:
        block["source"] = ctx.text(plain_text(source))
    return block


def map_stimulus(root: etree._Element, where: str, path: str, own: bool, files: set[str]) -> Draft:
    ctx = _Context(where, root, own, files, path)
    body = find(root, "qti-stimulus-body")
    ctx.draft.title = ctx.text(root.get("title") or ctx.draft.identifier)
    if body is None:
        ctx.problem(root, "no <qti-stimulus-body>")
        ctx.draft.data = []
        return ctx.draft
    ctx.draft.data = own_stimulus_blocks(ctx, body) if own else structured_blocks(ctx, body)
    return ctx.draft


# -- items ---------------------------------------------------------------------------------------
@dataclass
class Declaration:
    cardinality: str
    base_type: str
    correct: list[str]
    mapping: list[tuple[str, float]]
    bounds: Mapping = field(default_factory=lambda: Mapping({}))  # the mapping with its default and bounds


def declaration(ctx: _Context, identifier: str | None) -> Declaration | None:
    for decl in children(ctx.root, "qti-response-declaration"):
        if decl.get("identifier") == identifier:
            correct = [(v.text or "").strip() for v in findall(decl, "qti-value")
                       if v.getparent() is not None and local(v.getparent()) == "qti-correct-response"]
            mapping = []
            for entry in findall(decl, "qti-map-entry"):
                try:
                    mapping.append((entry.get("map-key", ""), float(entry.get("mapped-value", "0"))))
                except ValueError:
                    ctx.problem(entry, f"mapped-value {entry.get('mapped-value')!r} is not a number")
            el = find(decl, "qti-mapping")
            bounds = Mapping({" ".join(k.split()): v for k, v in mapping}, _number(ctx, el, "default-value") or 0.0,
                             _number(ctx, el, "lower-bound"), _number(ctx, el, "upper-bound"))
            return Declaration(decl.get("cardinality", "single"), decl.get("base-type", ""),
                               [c for c in correct if c], mapping, bounds)
    return None


def _number(ctx: _Context, el: etree._Element | None, attribute: str) -> float | None:
    """A number attribute of ``el`` (a ``qti-mapping``), None when it has none."""
    value = el.get(attribute) if el is not None else None
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        ctx.problem(el, f"{attribute} {value!r} is not a number")
        return None


def _mapped(ctx: _Context, identifier: str | None) -> bool:
    """Whether response processing scores the mapped value of the response: the map_response
    template, or inline processing that sets SCORE to ``qti-map-response`` (and to 0 when there is
    no answer)."""
    template = _template(ctx)
    if template == "map_response":
        return True
    rp = find(ctx.root, "qti-response-processing")
    if template != "custom" or rp is None:
        return False
    maps = findall(rp, "qti-map-response")
    setter = maps[0].getparent() if len(maps) == 1 else None
    if setter is None or maps[0].get("identifier") != identifier or local(setter) != "qti-set-outcome-value" \
            or setter.get("identifier") != "SCORE":
        return False
    for other in findall(rp, "qti-set-outcome-value"):
        value = find(other, "qti-base-value")
        if other is not setter and other.get("identifier") == "SCORE" \
                and (value is None or len(other) != 1 or (value.text or "").strip() not in ("0", "0.0")):
            return False
    return all(len(branch) and local(branch[0]) == "qti-is-null"
               for branch in [*findall(rp, "qti-response-if"), *findall(rp, "qti-response-else-if")])


def _alternatives(ctx: _Context, identifier: str | None, correct: list[str]) -> list[list[str]]:
    """The answers that inline processing matches the response against (``qti-match`` of the
    response with a ``qti-multiple`` of values, or with ``qti-correct``), when it names more than
    one and scores each 1 (every ``SCORE`` it sets is 0 or 1)."""
    rp = find(ctx.root, "qti-response-processing")
    found: list[list[str]] = []
    for match in findall(rp, "qti-match") if rp is not None else []:
        var, values = find(match, "qti-variable"), find(match, "qti-multiple")
        if var is None or var.get("identifier") != identifier:
            continue
        parent = match.getparent()
        branch = parent.getparent() if parent is not None and local(parent) == "qti-or" else parent
        if branch is None or local(branch) not in ("qti-response-if", "qti-response-else-if"):
            return []  # matched inside another expression (and, not, …): not a list of answers
        if values is not None:
            found.append([(v.text or "").strip() for v in findall(values, "qti-base-value")])
        elif find(match, "qti-correct") is not None and correct:
            found.append(list(correct))
    distinct = [a for n, a in enumerate(found) if set(a) not in [set(b) for b in found[:n]]]
    if len(distinct) < 2 or rp is None:
        return []
    for setter in findall(rp, "qti-set-outcome-value"):
        value = find(setter, "qti-base-value")
        if setter.get("identifier") == "SCORE" and (len(setter) != 1 or value is None
                                                    or (value.text or "").strip() not in ("0", "1", "0.0", "1.0")):
            return []
    return distinct


_HINTS = {"multiple_choice": "whole points, e.g. 1 for every key option and -1 for every other, lower-bound 0",
          "complex_choice": "whole points, e.g. 1 for every key pair and 0 for every other pair, default-value 0"}


def _mapped_scoring(ctx: _Context, el: etree._Element, decl: Declaration,
                    responses: Callable[[], Iterator[tuple[int, list[str]]]], keys: Sequence[str], total: int,
                    what: str, item: dict) -> bool:
    """The item's mapped scoring as the bank's ``scoring`` rules when they say it exactly (not for the
    bank's own packages, whose mappings are weights), else as ``weights``; a problem (and False)
    when neither can.  ``responses`` gives every answer a student can give, as map keys."""
    if not ctx.own:
        try:
            rules = rules_for(decl.bounds, responses(), total, what)
        except NotExpressible:
            pass
        else:
            if rules:
                item["scoring"] = rules
            return True
    try:
        found = weights_for(decl.bounds, keys, responses())
    except NotExpressible as reason:
        ctx.problem(el, f"mapped scoring cannot be kept: {reason}. The bank scores by whole points per "
                        f"{_PART[item['type']]}, the sum kept within 0 and an upper bound (docs/item-format.md, "
                        f"weights): change the mapping ({_HINTS[item['type']]}), or leave the item out with "
                        "--skip-unmapped")
        return False
    if item["type"] == "multiple_choice":
        weights: dict[str, Any] = {"points": {bank_id(k): v for k, v in found.points.items()}}
    else:
        rows: dict[str, dict[str, int]] = {}
        for pair, value in found.points.items():
            first, second = pair.split()
            statement, choice = (second, first) if what == "gaps" else (first, second)
            rows.setdefault(bank_id(statement), {})[bank_id(choice)] = value
        weights = {"points": rows}
    if found.upper is not None:
        weights["upper"] = found.upper
    model = MultipleChoice if item["type"] == "multiple_choice" else ComplexChoice
    try:
        model.model_validate(_placeholder_texts({**item, "weights": weights}))
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        ctx.problem(el, f"mapped scoring cannot be kept: as weights {reasons} (docs/item-format.md, weights); "
                        "change the mapping, or leave the item out with --skip-unmapped")
        return False
    item["weights"] = weights
    return True


def _placeholder_texts(data: Any) -> Any:
    """``data`` with its texts being assembled replaced by a text in both languages (to check the
    scoring of one file's item before the languages are merged)."""
    if isinstance(data, Text):
        return {"zh-TW": "x", "en": "x"}
    if isinstance(data, dict):
        return {k: _placeholder_texts(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_placeholder_texts(v) for v in data]
    return data


_PART = {"multiple_choice": "option chosen", "complex_choice": "statement answered with a choice"}


def _max_score(ctx: _Context) -> int:
    for decl in children(ctx.root, "qti-outcome-declaration"):
        value = None
        if decl.get("identifier") == "SCORE" and decl.get("normal-maximum"):
            value = decl.get("normal-maximum")
        elif decl.get("identifier") == "MAXSCORE":
            value = next(((v.text or "").strip() for v in findall(decl, "qti-value")), None)
        try:
            if value is not None and float(value) >= 1:
                return round(float(value))
        except ValueError:
            pass
    return 1


def counting_rules(ctx: _Context) -> list[dict] | None:
    """The partial-credit rules of response processing written as this bank exports it
    (NUM_CORRECT compared with qti-gte, highest first), or None when the processing is another."""
    rp = find(ctx.root, "qti-response-processing")
    if rp is None:
        return None
    rules = []
    for gte in findall(rp, "qti-gte"):
        var = find(gte, "qti-variable")
        value = find(gte, "qti-base-value")
        branch = gte.getparent()
        setter = children(branch, "qti-set-outcome-value") if branch is not None else []
        if var is None or var.get("identifier") != "NUM_CORRECT" or value is None or not setter:
            return None
        score = find(setter[0], "qti-base-value")
        if score is None:
            return None
        rules.append({"score": round(float(score.text or 0)), "min_correct": round(float(value.text or 0))})
    return rules or None


def _template(ctx: _Context) -> str | None:
    rp = find(ctx.root, "qti-response-processing")
    if rp is None:
        return None
    template = rp.get("template") or rp.get("template-location") or ""
    name = posixpath.basename(template.rstrip("/"))
    return name.removesuffix(".xml") if template else ("custom" if len(rp) else None)


def visible_text(el: etree._Element) -> str:
    """The plain text a student sees in ``el``: feedback, rubrics and templates left out."""
    copy = etree.fromstring(etree.tostring(el))
    for hidden in [e for e in copy.iter() if isinstance(e.tag, str) and local(e) in _NOT_CONTENT]:
        parent = hidden.getparent()
        if parent is not None:
            previous = hidden.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + (hidden.tail or "")
            else:
                parent.text = (parent.text or "") + (hidden.tail or "")
            parent.remove(hidden)
    return plain_text(copy)


def _choice_text(ctx: _Context, el: etree._Element) -> str:
    if find(el, "img") is not None or find(el, "object") is not None:
        ctx.problem(el, f"choice {el.get('identifier')!r} is an image; the bank's options and statements "
                        "are texts")
    return visible_text(el) if not ctx.own else (el.text or "").strip() or visible_text(el)


def map_item(root: etree._Element, where: str, path: str, own: bool, files: set[str]) -> Draft:
    """Map the item ``root`` (file ``path`` in the package, ``where`` for messages)."""
    ctx = _Context(where, root, own, files, path)
    draft = ctx.draft
    draft.title = ctx.text(root.get("title") or draft.identifier)
    draft.max_score = _max_score(ctx)
    ref = find(root, "qti-assessment-stimulus-ref")
    if ref is not None:
        draft.stimulus_ref = ref.get("identifier")
        href = ref.get("href", "")
        draft.stimulus_href = posixpath.normpath(posixpath.join(posixpath.dirname(path), href)) if href else None
    body = find(root, "qti-item-body")
    if body is None:
        ctx.problem(root, "no <qti-item-body>: nothing to import")
        return draft
    interactions = [el for el in body.iter() if isinstance(el.tag, str) and local(el).startswith("qti-")
                    and local(el).endswith("-interaction")]
    if not interactions:
        ctx.problem(body, "no interaction: the bank's items each have one")
        return draft
    unsupported = [el for el in interactions if local(el) not in SUPPORTED]
    for el in unsupported:
        advice = UNSUPPORTED.get(local(el), "")
        ctx.problem(el, f"{local(el)} has no item type in this bank{'; ' + advice if advice else ''}; "
                        f"supported are {', '.join(f'{k} ({v})' for k, v in SUPPORTED.items())}; "
                        "--skip-unmapped imports the other items")
    if unsupported:
        return draft
    if len(interactions) > 1:
        ctx.problem(interactions[1], f"the item has {len(interactions)} interactions "
                                     f"({', '.join(local(e) for e in interactions)}); an item of this bank "
                                     "has exactly one: split it into items of one unit")
        return draft
    interaction = interactions[0]
    for el in body.iter(f"{{{QTI3}}}qti-feedback-block", f"{{{QTI3}}}qti-feedback-inline"):
        ctx.note(el, f"feedback is not kept ({local(el)}, left out of the item's texts): the bank shows no "
                     "feedback to students")
        break
    if find(root, "qti-modal-feedback") is not None:
        ctx.note(find(root, "qti-modal-feedback"), "modal feedback is not kept (the bank shows no feedback "
                                                   "to students)")
    for el in body.iter(f"{{{QTI3}}}qti-rubric-block"):
        if "scorer" not in (el.get("view") or "") or local(interactions[0]) != "qti-extended-text-interaction":
            ctx.note(el, f"rubric block for {el.get('view') or 'no view'!r} is not kept (left out of the "
                         "item's texts)")
    decl = declaration(ctx, interaction.get("response-identifier"))
    if decl is None:
        ctx.problem(interaction, f"no <qti-response-declaration> for response "
                                 f"{interaction.get('response-identifier')!r}")
        return draft
    name = local(interaction)
    item: dict[str, Any] = {"id": bank_id(draft.identifier)}
    prompt_el = children(interaction, "qti-prompt")
    skip = frozenset({name})
    if name in ("qti-text-entry-interaction", "qti-inline-choice-interaction"):
        prompt_div = next((d for d in body.iter(f"{{{QTI3}}}div") if d.get("class") == "gc-prompt"), None)
        if prompt_div is not None:
            prompt = ctx.markdown(prompt_div)
        else:  # the item body is the question, with a blank where the answer goes
            body_copy = etree.fromstring(etree.tostring(body))
            for el in body_copy.iter(f"{{{QTI3}}}{name}"):
                el.tail = "_____" + (el.tail or "")
            prompt = ctx.markdown(body_copy, skip)
            for block in body_blocks(ctx, body, skip):
                if block["type"] == "image":
                    draft.body_blocks.append(block)
    else:
        prompt = ctx.markdown(prompt_el[0]) if prompt_el else ""
        if name == "qti-gap-match-interaction":
            prompt = "\n\n".join(t for t in (prompt, _gapped_text(ctx, interaction)) if t)
        rest = [b for b in body_blocks(ctx, body, skip)] if not own else []
        if draft.stimulus_ref is not None and rest:  # item-specific text goes before the question
            texts = [b["text"][ctx.lang] for b in rest if b["type"] == "text"]
            prompt = "\n\n".join([*texts, prompt]).strip()
            draft.body_blocks.extend(b for b in rest if b["type"] == "image")
        else:
            draft.body_blocks.extend(rest)
        if not prompt and draft.body_blocks and draft.body_blocks[0]["type"] == "text" and draft.stimulus_ref is None:
            prompt = draft.body_blocks.pop(0)["text"][ctx.lang]
    if not prompt:
        prompt = root.get("title") or draft.identifier
        ctx.note(interaction, "no prompt: the item's title was used as its question")
    item["prompt"] = ctx.text(prompt)
    item["process"] = "evaluate_information"

    if name == "qti-choice-interaction":
        _choice(ctx, interaction, decl, item)
    elif name == "qti-match-interaction":
        _match(ctx, interaction, decl, item)
    elif name == "qti-text-entry-interaction":
        _text_entry(ctx, interaction, decl, item)
    elif name == "qti-inline-choice-interaction":
        _inline_choice(ctx, interaction, decl, item)
    elif name == "qti-gap-match-interaction":
        _gap_match(ctx, interaction, decl, item)
    elif name == "qti-order-interaction":
        _order(ctx, interaction, decl, item)
    else:
        _extended_text(ctx, interaction, item)
    draft.data = item
    return draft


def _scoring_note(ctx: _Context, el: etree._Element, template: str | None, decl: Declaration) -> None:
    if template in (None, "match_correct"):
        return
    weights = sorted({v for _, v in decl.mapping})
    ctx.note(el, f"response processing {template!r}"
                 f"{' with mapped values ' + ', '.join(f'{w:g}' for w in weights) if weights else ''} "
                 "is not kept: the item scores 1 when the whole key is matched")


def _choice(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    options = [{"id": bank_id(c.get("identifier", "")), "text": ctx.text(_choice_text(ctx, c))}
               for c in findall(el, "qti-simple-choice")]
    item["options"] = options
    multiple = decl.cardinality != "single"
    key = decl.correct or [k for k, v in decl.mapping if v > 0]
    alternatives = _alternatives(ctx, el.get("response-identifier"), decl.correct) if multiple else []
    if alternatives:  # several answers score 1: the key and the other correct answers
        key = key or alternatives[0]
        item["type"] = "multiple_choice"
        item["key"] = [bank_id(k) for k in key]
        item["also_correct"] = [[bank_id(k) for k in a] for a in alternatives if set(a) != set(key)]
        return
    if not key:
        ctx.problem(el, f"no correct response for {el.get('response-identifier')!r} (a survey or Likert "
                        "item?): the bank's choice items need a key")
        return
    if multiple:
        item["type"] = "multiple_choice"
        item["key"] = [bank_id(k) for k in key]
        rules = counting_rules(ctx)
        if rules is None and _mapped(ctx, el.get("response-identifier")):
            ids = [c.get("identifier", "") for c in findall(el, "qti-simple-choice")]
            if not decl.correct:  # the best answer is the key
                key = [k for k in ids if decl.bounds.entries.get(k, decl.bounds.default) > 0]
                item["key"] = [bank_id(k) for k in key]
            _mapped_scoring(ctx, el, decl, lambda: choice_responses(ids, key), ids, len(ids), "options", item)
            return
        if rules:
            item["scoring"] = rules
        elif rules is None:
            _scoring_note(ctx, el, _template(ctx), decl)
    else:
        item["type"] = "single_choice"
        if len(key) > 1:
            ctx.problem(el, f"single cardinality with {len(key)} correct responses")
        item["key"] = bank_id(key[0])
        _scoring_note(ctx, el, _template(ctx), decl)


def _inline_choice(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    """An inline choice (a drop-down in a sentence) is a single choice: the sentence, with a blank
    where the drop-down was, is the question; its choices are the options."""
    item["type"] = "single_choice"
    item["options"] = [{"id": bank_id(c.get("identifier", "")), "text": ctx.text(_choice_text(ctx, c))}
                       for c in findall(el, "qti-inline-choice")]
    key = decl.correct or [k for k, v in decl.mapping if v > 0 and v == max(w for _, w in decl.mapping)]
    if len(key) != 1:
        ctx.problem(el, f"{len(key)} correct responses for {el.get('response-identifier')!r}; an inline choice "
                        "imports as a single_choice, which needs exactly one")
        return
    item["key"] = bank_id(key[0])
    _scoring_note(ctx, el, _template(ctx), decl)


def _gapped_text(ctx: _Context, el: etree._Element) -> str:
    """The text of a gap match with its gaps numbered: "Now is the (1) _____ of our discontent"."""
    copy = etree.fromstring(etree.tostring(el))
    for n, gap in enumerate(findall(copy, "qti-gap"), start=1):
        gap.tail = f"({n}) _____" + (gap.tail or "")
    return ctx.markdown(copy, frozenset({"qti-prompt", "qti-gap-text", "qti-gap-img", "qti-gap"}))


def _gap_match(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    """A gap match is a complex choice: each gap (numbered in the question) is a statement, the gap
    texts are the choices; a pair of the response is "text gap"."""
    for img in findall(el, "qti-gap-img"):
        ctx.problem(img, f"gap image {img.get('identifier')!r}: the bank's choices are texts")
        return
    gaps = findall(el, "qti-gap")
    texts = findall(el, "qti-gap-text")
    item["type"] = "complex_choice"
    item["statements"] = [{"id": bank_id(g.get("identifier", "")), "text": ctx.text(f"({n})")}
                          for n, g in enumerate(gaps, start=1)]
    item["choices"] = [{"id": bank_id(t.get("identifier", "")), "text": ctx.text(_choice_text(ctx, t))}
                       for t in texts]
    by_gap: dict[str, list[str]] = {}
    for pair in decl.correct or [k for k, v in decl.mapping if v > 0]:
        parts = pair.split()
        if len(parts) == 2:
            by_gap.setdefault(parts[1], []).append(parts[0])
    key: dict[str, str] = {}
    for gap in gaps:
        gid = gap.get("identifier", "")
        found = by_gap.get(gid, [])
        if len(found) != 1:
            ctx.problem(gap, f"gap {gid!r} has {len(found)} correct texts ({', '.join(found) or 'none'}); a "
                             "gap match imports as a complex_choice, which needs exactly one per gap")
            return
        key[gid] = found[0]
    item["key"] = {bank_id(g): bank_id(t) for g, t in key.items()}
    if _mapped(ctx, el.get("response-identifier")):
        choice_ids = [t.get("identifier", "") for t in texts]
        pairs = [f"{c} {g.get('identifier', '')}" for g in gaps for c in choice_ids]
        _mapped_scoring(ctx, el, decl, lambda: match_responses(key, choice_ids, choice_first=True), pairs,
                        len(gaps), "gaps", item)
    else:
        _scoring_note(ctx, el, _template(ctx), decl)


def _match(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    sets = findall(el, "qti-simple-match-set")
    if len(sets) != 2:
        ctx.problem(el, f"{len(sets)} match sets; a match interaction has two")
        return
    statements = children(sets[0], "qti-simple-associable-choice")
    choices = children(sets[1], "qti-simple-associable-choice")
    item["type"] = "complex_choice"
    item["statements"] = [{"id": bank_id(s.get("identifier", "")), "text": ctx.text(_choice_text(ctx, s))}
                          for s in statements]
    item["choices"] = [{"id": bank_id(c.get("identifier", "")), "text": ctx.text(_choice_text(ctx, c))}
                       for c in choices]
    pairs = decl.correct or [k for k, v in decl.mapping if v > 0]
    by_statement: dict[str, list[str]] = {}
    for pair in pairs:
        parts = pair.split()
        if len(parts) == 2:
            by_statement.setdefault(parts[0], []).append(parts[1])
    key = {}
    for s in statements:
        sid = s.get("identifier", "")
        found = by_statement.get(sid, [])
        if len(found) != 1:
            ctx.problem(s, f"statement {sid!r} has {len(found)} correct choices ({', '.join(found) or 'none'}); "
                           "a complex_choice item needs exactly one per statement")
            continue
        key[bank_id(sid)] = bank_id(found[0])
    item["key"] = key
    rules = counting_rules(ctx)
    if rules is None and _mapped(ctx, el.get("response-identifier")) and len(key) == len(statements):
        qti_key = {bank_id(s.get("identifier", "")): s.get("identifier", "") for s in statements}
        qti_choice = {bank_id(c.get("identifier", "")): c.get("identifier", "") for c in choices}
        choice_ids = [c.get("identifier", "") for c in choices]
        qti_pairs = [f"{s.get('identifier', '')} {c}" for s in statements for c in choice_ids]
        _mapped_scoring(ctx, el, decl, lambda: match_responses({qti_key[s]: qti_choice[c] for s, c in key.items()},
                                                               choice_ids),
                        qti_pairs, len(statements), "statements", item)
        return
    if rules:
        item["scoring"] = rules
    elif rules is None:
        _scoring_note(ctx, el, _template(ctx), decl)


def _order(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    """An order interaction is an order item: its choices, as listed, are the options; the correct
    response (ordered) is the key; exactly that order scores 1."""
    item["type"] = "order"
    choices = findall(el, "qti-simple-choice")
    item["options"] = [{"id": bank_id(c.get("identifier", "")), "text": ctx.text(_choice_text(ctx, c))}
                       for c in choices]
    ids = [c.get("identifier", "") for c in choices]
    if sorted(decl.correct) != sorted(ids):
        ctx.problem(el, f"the correct response ({', '.join(decl.correct) or 'none'}) does not put every choice "
                        f"({', '.join(ids)}) in order; an order item's key is the whole order")
        return
    if decl.correct == ids:
        ctx.problem(el, "the correct order is the order the choices are listed in; the bank shows them as "
                        "listed: list them in another order")
        return
    item["key"] = [bank_id(k) for k in decl.correct]
    if el.get("min-choices") not in (None, "0", str(len(ids))) or el.get("max-choices") not in (None, "0", str(len(ids))):
        ctx.note(el, "min-choices/max-choices are not kept: a student orders every choice")
    _scoring_note(ctx, el, _template(ctx), decl)


def _text_entry(ctx: _Context, el: etree._Element, decl: Declaration, item: dict) -> None:
    item["type"] = "short_response"
    if decl.base_type in ("float", "integer"):
        if not decl.correct:
            ctx.problem(el, "a numeric text entry without a correct response")
            return
        try:
            value = float(decl.correct[0])
        except ValueError:
            ctx.problem(el, f"correct response {decl.correct[0]!r} is not a number")
            return
        item["numeric"] = {"value": value, "tolerance": _tolerance(ctx, value)}
        item["accepted"] = ctx.text([decl.correct[0]])
        return
    top = max((v for _, v in decl.mapping), default=0.0)
    answers = list(dict.fromkeys([*decl.correct, *(k for k, v in decl.mapping if v > 0 and v == top)]))
    partial = [k for k, v in decl.mapping if 0 < v < top]
    if partial:
        ctx.note(el, f"partly-credited answers {', '.join(partial)} are not kept (short responses score 0 or 1; "
                     "matching ignores case)")
    if not answers:
        ctx.problem(el, f"no correct response or mapping for {el.get('response-identifier')!r}: a "
                        "short_response needs accepted answers")
        return
    item["accepted"] = ctx.text(answers)


def _tolerance(ctx: _Context, value: float) -> float:
    """The tolerance of a numeric text entry's ``qti-equal`` (QTI 2.1 ``equal``): absolute kept, relative
    (a percentage of the correct value) turned into the absolute one; the bank's tolerance is symmetric,
    so of two different bounds the smaller is kept, with a note."""
    rp = find(ctx.root, "qti-response-processing")
    equal = next((e for e in findall(rp, "qti-equal") if e.get("tolerance-mode") in ("absolute", "relative")),
                 None) if rp is not None else None
    if equal is None:
        return 0.0
    try:
        bounds = [float(t) for t in (equal.get("tolerance") or "0").split()]
    except ValueError:
        ctx.note(equal, f"tolerance {equal.get('tolerance')!r} is not a number: not kept, only the exact "
                        "number scores")
        return 0.0
    if not bounds or any(b < 0 for b in bounds):
        ctx.note(equal, f"tolerance {equal.get('tolerance')!r} is not kept: only the exact number scores")
        return 0.0
    if len(set(bounds)) > 1:
        ctx.note(equal, f"tolerance below and above {' and '.join(f'{b:g}' for b in bounds)} differ; the bank's "
                        f"tolerance is the same on both sides: {min(bounds):g} was kept")
    tolerance = min(bounds)
    if equal.get("tolerance-mode") == "relative":
        tolerance = abs(value) * tolerance / 100
    if equal.get("include-lower-bound") == "false" or equal.get("include-upper-bound") == "false":
        ctx.note(equal, "an open tolerance interval is kept closed (the bank includes both bounds)")
    return tolerance


PLACEHOLDER = {"zh-TW": "（待撰寫：匯入的題目沒有評分指引）", "en": "(to be written: the imported item had no coding guide)"}


def _extended_text(ctx: _Context, el: etree._Element, item: dict) -> None:
    item["type"] = "open_response"
    if el.get("expected-lines", "").isdigit():
        item["lines"] = min(max(int(el.get("expected-lines", "6")), 1), 40)
    table = next((t for t in findall(ctx.root, "table") if t.get("class") == "gc-coding-guide"), None)
    if table is not None:
        guide = []
        for tr in findall(table, "tr"):
            cells = {td.get("class"): td for td in children(tr, "td")}
            if "gc-code" not in cells:
                continue
            guide.append({
                "code": plain_text(cells["gc-code"]), "credit": plain_text(cells["gc-credit"]),
                "score": int(plain_text(cells["gc-score"])),
                "descriptor": ctx.text(ctx.markdown(cells["gc-descriptor"])),
                "examples": [ctx.text((li.text or "").strip() if ctx.own else plain_text(li))
                             for li in findall(cells["gc-examples"], "li")],
            })
        item["coding_guide"] = guide
        return
    rubric = next((r for r in findall(ctx.root, "qti-rubric-block") if "scorer" in (r.get("view") or "")), None)
    full = ctx.markdown(rubric) if rubric is not None else ""
    top = ctx.draft.max_score
    placeholder = Text(PLACEHOLDER)
    guide = [{"code": str(top), "credit": "full", "score": top,
              "descriptor": ctx.text(full) if full else placeholder, "examples": [placeholder]}]
    guide += [{"code": str(s), "credit": "partial", "score": s, "descriptor": placeholder, "examples": [placeholder]}
              for s in range(top - 1, 0, -1)]
    guide += [{"code": "0", "credit": "none", "score": 0, "descriptor": placeholder, "examples": [placeholder]},
              {"code": "9", "credit": "missing", "score": 0, "descriptor": Text({"zh-TW": "未作答", "en": "No response"})}]
    item["coding_guide"] = guide
    ctx.note(el, "no coding guide in the item: placeholder codes "
                 f"{', '.join(str(g['code']) for g in guide)} were written; the unit stays a draft until a "
                 "coding guide is written")
