"""Printed booklets and teacher materials as PDF: Jinja2 templates (structure) + booklet.css
(print layout: pages, running headers, breaks) rendered by WeasyPrint.

- :func:`render_booklet` — a student booklet: cover with boxes for the student's details,
  instructions, each unit on a new page (stimulus, then items; a running cue on the pages where
  a unit's items continue), and an answer sheet with a bubble grid for the choice items.
  It never contains a key, an accepted answer or a coding guide.
- :func:`render_teacher_materials` — the answer key (``kind="answer-key"``) or the coding guide
  (``kind="coding-guide"``), for teachers only.

Author text is Markdown, rendered with ``markdown`` and sanitised with ``nh3``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import markdown as markdown_lib
import nh3
from markupsafe import Markup

from itembank.bank.markdown_rules import markdown_extensions, prepare_markdown
from itembank.bank.resources import ResourceFetcher, embed_uri
from itembank.bank.schema import (
    LANGUAGES,
    ComplexChoice,
    ImageBlock,
    LocalText,
    MultipleChoice,
    OpenResponse,
    Order,
    ShortResponse,
    SingleChoice,
    TableBlock,
    TextBlock,
    Unit,
    cell_text,
    rationale_parts,
)

from .design import minutes_text

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
KINDS = ("answer-key", "coding-guide")
HTML_LANG = {"zh-TW": "zh-Hant-TW", "en": "en"}
ALLOWED_TAGS = {"p", "em", "strong", "b", "i", "ul", "ol", "li", "br", "code", "sub", "sup",
                "blockquote", "table", "thead", "tbody", "tr", "th", "td", "h3", "h4", "span"}

# Every word the templates print, per language.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "assessment": "Global Competence Assessment",
        "booklet": "Booklet",
        "design_id": "Design no. {id}",
        "name": "Name",
        "class": "Class",
        "student_id": "Student ID",
        "date": "Date",
        "instructions": "Instructions",
        "instruction_items": (
            "This booklet has {units} units with {items} questions. You have about {minutes} minutes.|"
            "Read each text carefully before you answer the questions about it. A text may continue over "
            "more than one page.|"
            "For a question with circles (○), fill in ONE circle. For a question with squares (□), fill in "
            "EVERY square that applies. For a table of statements, fill in one circle in each row.|"
            "Write the answers to the other questions on the lines provided.|"
            "If you change your mind, cross out your answer clearly and mark your new answer.|"
            "The answer sheet at the back repeats the choice questions. Use it only if your teacher asks you to."
        ),
        "question": "Question",
        "unit": "Unit",
        "continued_a": "Unit {unit} (continued) — refer to the text on page ",
        "continued_b": "",
        "select_one": "Choose one answer.",
        "select_all": "Choose all answers that apply.",
        "one_per_row": "Choose one answer in each row.",
        "number_boxes": "Put them in order: write 1 in the box of the first, 2 in the box of the next, and so on.",
        "statement": "Statement",
        "answer": "Answer",
        "answer_sheet": "Answer sheet",
        "answer_sheet_note": "Fill in the bubble of your answer completely. Questions that need written answers are answered in the booklet.",
        "source": "Source",
        "end": "End of the booklet. Check your answers if you have time.",
        "answer_key": "Answer key",
        "coding_guide": "Coding guide",
        "teachers_only": "For teachers only — do not give to students",
        "key": "Key",
        "accepted": "Accepted answers",
        "numeric": "Any number within {tol} of {value}",
        "scoring": "Scoring",
        "max_score": "Max. score",
        "full_if_all": "1 point if every {what} is right; otherwise 0.",
        "full_if_order": "1 point for exactly this order; otherwise 0",
        "full_if_any": "1 point for exactly the key or exactly {answers}; otherwise 0",
        "or": " or ",
        "rule": "{score} point(s) if at least {min} {what} are right",
        "otherwise_zero": "otherwise 0",
        "weights_points": "points for what is chosen: {points} (anything else 0)",
        "weights_sum": "score = the sum of the points, at least 0",
        "weights_upper": "score = the sum of the points, at least 0 and at most {upper}",
        "options_word": "options",
        "statements_word": "statements",
        "coded": "Scored by a coder with the coding guide.",
        "code": "Code",
        "credit": "Credit",
        "score": "Score",
        "descriptor": "Descriptor",
        "examples": "Example answers",
        "booklets_with": "In booklets",
        "type": "Type",
        "item": "Item",
        "credit_full": "Full credit",
        "credit_partial": "Partial credit",
        "credit_none": "No credit",
        "credit_missing": "Missing",
        "type_single_choice": "single choice",
        "type_multiple_choice": "multiple choice",
        "type_complex_choice": "complex choice",
        "type_short_response": "short response",
        "type_open_response": "open response",
        "type_order": "order",
        "no_open_items": "These units have no open-response questions.",
        "rationales": "Why a student would choose each option",
        "selected_answer": "right when the option is selected",
        "not_selected": "not selected",
    },
    "zh-TW": {
        "assessment": "全球素養評量",
        "booklet": "題本",
        "design_id": "題本設計編號 {id}",
        "name": "姓名",
        "class": "班級",
        "student_id": "學號",
        "date": "日期",
        "instructions": "作答說明",
        "instruction_items": (
            "本題本共有 {units} 個題組、{items} 道題目，作答時間約 {minutes} 分鐘。|"
            "請先仔細閱讀每篇文章，再回答與文章有關的題目。一篇文章可能跨越好幾頁。|"
            "題目選項前有圓圈（○）者，請只塗滿「一個」圓圈；選項前有方框（□）者，請塗滿「所有」符合的方框；"
            "敘述表格請在每一列塗滿一個圓圈。|"
            "其他題目請將答案寫在題目下方的橫線上。|"
            "如果要修改答案，請把原來的答案清楚劃掉，再標出新的答案。|"
            "題本最後的答案卡重複列出所有選擇題，請依老師指示決定是否使用。"
        ),
        "question": "第 {n} 題",
        "unit": "題組",
        "continued_a": "題組 {unit}（續）— 請參閱第 ",
        "continued_b": " 頁的文章",
        "select_one": "請選出一個答案。",
        "select_all": "請選出所有正確的答案。",
        "one_per_row": "每一列請選一個答案。",
        "number_boxes": "請排出順序：在第一個的方格內寫 1，下一個寫 2，依此類推。",
        "statement": "敘述",
        "answer": "答案",
        "answer_sheet": "答案卡",
        "answer_sheet_note": "請將答案的圓圈完全塗滿。需要書寫的題目請直接寫在題本上。",
        "source": "資料來源",
        "end": "題本到此結束。如有時間，請檢查你的答案。",
        "answer_key": "參考答案",
        "coding_guide": "評分指引",
        "teachers_only": "僅供教師使用，請勿發給學生",
        "key": "答案",
        "accepted": "可接受的答案",
        "numeric": "與 {value} 相差不超過 {tol} 的數字",
        "scoring": "計分",
        "max_score": "滿分",
        "full_if_all": "每一個{what}都正確得 1 分，否則 0 分。",
        "full_if_order": "順序完全正確得 1 分，否則 0 分",
        "full_if_any": "選出的答案與答案完全相同，或與 {answers} 完全相同，得 1 分，否則 0 分",
        "or": "或",
        "rule": "至少 {min} 個{what}正確得 {score} 分",
        "otherwise_zero": "否則 0 分",
        "weights_points": "選擇的得分：{points}（其餘 0 分）",
        "weights_sum": "得分為各項分數之和，最低 0 分",
        "weights_upper": "得分為各項分數之和，最低 0 分，最高 {upper} 分",
        "options_word": "選項",
        "statements_word": "敘述",
        "coded": "由評分人員依評分指引評分。",
        "code": "代碼",
        "credit": "給分",
        "score": "分數",
        "descriptor": "說明",
        "examples": "答案示例",
        "booklets_with": "所在題本",
        "type": "題型",
        "item": "題目",
        "credit_full": "完全正確",
        "credit_partial": "部分正確",
        "credit_none": "不給分",
        "credit_missing": "未作答",
        "type_single_choice": "單選題",
        "type_multiple_choice": "多選題",
        "type_complex_choice": "是非表格題",
        "type_short_response": "簡答題",
        "type_open_response": "開放式問答題",
        "type_order": "排序題",
        "no_open_items": "這些題組沒有開放式問答題。",
        "rationales": "學生選擇各選項的可能理由",
        "selected_answer": "選取時正確",
        "not_selected": "不選",
    },
}


_CJK = "\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F"
# A single line break next to a CJK character joins the lines: authors wrap long Chinese lines in
# YAML, and a break there must not become a space (a space is a visible gap in Chinese text).
# Breaks before a Markdown block marker (list item, heading, quote) are kept.
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*\n[ \t]*(?![-*+#>]|\d+[.)]\s|\n)|(?<!\n)[ \t]*\n[ \t]*(?=[{_CJK}])")


def render_markdown(text: str, inline: bool = False) -> Markup:
    """Markdown → sanitised HTML (no raw HTML from authors reaches the page)."""
    text = _CJK_BREAK.sub("", text)
    html = markdown_lib.markdown(prepare_markdown(text), extensions=markdown_extensions(), output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={}, link_rel=None)
    if inline and clean.startswith("<p>") and clean.endswith("</p>") and clean.count("<p>") == 1:
        clean = clean[3:-4]
    return Markup(clean)


@dataclass
class BookletContent:
    """What a booklet prints: units in order, their images (src → bytes), and labels."""

    units: Sequence[Unit]
    images: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)  # unit id → src → bytes


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env


@lru_cache(maxsize=2)
def _css(name: str = "booklet.css") -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _blocks(unit: Unit, language: str, images: Mapping[str, bytes]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in unit.stimulus:
        if isinstance(block, TextBlock):
            out.append({"type": "text", "html": render_markdown(block.text.get(language))})
        elif isinstance(block, TableBlock):
            out.append({
                "type": "table",
                "caption": block.caption.get(language) if block.caption else None,
                "columns": [render_markdown(cell_text(c, language), inline=True) for c in block.columns],
                "rows": [[render_markdown(cell_text(c, language), inline=True) for c in row] for row in block.rows],
                "numeric": [all(isinstance(row[k], int | float) for row in block.rows) for k in range(len(block.columns))],
                "source": block.source.get(language) if block.source else None,
            })
        elif isinstance(block, ImageBlock):
            data = images.get(block.src)
            out.append({
                "type": "image",
                "uri": embed_uri(data, block.src) if data else None,
                "alt": block.alt.get(language),
                "caption": block.caption.get(language) if block.caption else None,
                # pixels → CSS px (1/96 in); capped by the stylesheet's max-width/max-height
                "width": block.width,
                "src": block.src,
            })
    return out


def _item_view(item: Any, number: int, language: str, text: bool = True) -> dict[str, Any]:
    """An item as the templates print it.  text=False: without its texts (prompt, options,
    statements), for a booklet's frame, which prints only the answer sheet's rows."""

    def md(value: LocalText, inline: bool = False) -> Markup:
        return render_markdown(value.get(language), inline=inline) if text else Markup("")

    view: dict[str, Any] = {"id": item.id, "type": item.type, "number": number,
                            "prompt": md(item.prompt), "max_score": item.max_score}
    if isinstance(item, SingleChoice | MultipleChoice | Order):
        view["options"] = [{"id": o.id, "html": md(o.text, inline=True)} for o in item.options]
    elif isinstance(item, ComplexChoice):
        view["statements"] = [{"id": s.id, "html": md(s.text, inline=True)} for s in item.statements]
        view["choices"] = [{"id": c.id, "text": c.text.get(language)} for c in item.choices]
    elif isinstance(item, ShortResponse):
        view["lines"] = 2
    elif isinstance(item, OpenResponse):
        view["lines"] = item.lines
    return view


def _labels(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return LABELS[language]


def _question_label(labels: dict[str, str], n: int) -> str:
    word = labels["question"]
    return word.format(n=n) if "{n}" in word else f"{word} {n}"


def _unit_views(units: Sequence[Unit], language: str, images: Mapping[str, Mapping[str, bytes]],
                labels: dict[str, str], *, texts: bool = True) -> list[dict[str, Any]]:
    """The units as the templates print them, questions numbered from 1 in this order.
    texts=False: without stimulus and item texts (a booklet's frame does not print them)."""
    number = 0
    unit_views: list[dict[str, Any]] = []
    for unit in units:
        items = []
        for item in unit.items:
            number += 1
            view = _item_view(item, number, language, text=texts)
            view["label"] = _question_label(labels, number)
            items.append(view)
        unit_views.append({
            "id": unit.id,
            "title": unit.title.get(language),
            "blocks": _blocks(unit, language, images.get(unit.id, {})) if texts else [],
            "questions": items,
            "cue_a": labels["continued_a"].format(unit=unit.id),
            "cue_b": labels["continued_b"].format(unit=unit.id),
        })
    return unit_views


def _booklet_page(template: str, units: Sequence[Unit], language: str, *, test_name: str | LocalText | None,
                  booklet_label: str, images: Mapping[str, Mapping[str, bytes]] | None, answer_sheet: bool,
                  design_label: str, minutes: float | None,
                  frame_pages: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> str:
    labels = _labels(language)
    unit_views = _unit_views(units, language, images or {}, labels, texts=frame_pages is None)
    if frame_pages is not None:
        for view in unit_views:
            questions = view["questions"]
            view["frame_pages"] = [
                {"numbers": [{"x": f"{x:.4f}", "y": f"{y:.4f}", "label": questions[i]["label"]}
                             for i, x, y in page["numbers"]],
                 "end_at": None if page.get("end_at") is None else f"{page['end_at']:.4f}"}
                for page in frame_pages[view["id"]]
            ]
    n_items = sum(len(uv["questions"]) for uv in unit_views)
    stated = minutes_text(minutes if minutes is not None else sum(u.metadata.estimated_minutes for u in units))
    instructions = labels["instruction_items"].format(units=len(units), items=n_items, minutes=stated).split("|")
    choice_rows = [it for uv in unit_views for it in uv["questions"]
                   if it["type"] in ("single_choice", "multiple_choice", "complex_choice")]
    return _environment().get_template(template).render(
        css=Markup(_css()), lang=language, html_lang=HTML_LANG[language], t=labels,
        test_name=_name(test_name, language, labels), booklet_label=booklet_label, units=unit_views,
        kicker=labels["assessment"] if test_name is not None else "",
        instructions=instructions, answer_sheet=answer_sheet and bool(choice_rows), choice_rows=choice_rows,
        design_id=labels["design_id"].format(id=design_label) if design_label else "",
    )


def booklet_html(units: Sequence[Unit], language: str, *, test_name: str | LocalText | None = None,
                 booklet_label: str = "", images: Mapping[str, Mapping[str, bytes]] | None = None,
                 answer_sheet: bool = True, design_label: str = "", minutes: float | None = None) -> str:
    """The HTML of a student booklet (what :func:`render_booklet` prints).  ``minutes``: the time
    the cover states, from the design (:meth:`~itembank.paper.design.Design.stated_minutes`);
    without it, the sum of the units' estimated minutes."""
    return _booklet_page("booklet.html", units, language, test_name=test_name, booklet_label=booklet_label,
                         images=images, answer_sheet=answer_sheet, design_label=design_label, minutes=minutes)


def fragment_html(units: Sequence[Unit], language: str, *,
                  images: Mapping[str, Mapping[str, bytes]] | None = None) -> str:
    """The units of a booklet, each on its new page as in :func:`booklet_html`, without anything
    that belongs to one booklet: no page margin boxes, question numbers laid out but not drawn
    (booklet.css ``body.fragment``).  :mod:`itembank.paper.booklet_assembly` lays them out once
    per set and puts their pages under each booklet's frame (:func:`frame_html`)."""
    labels = _labels(language)
    return _environment().get_template("fragment.html").render(
        css=Markup(_css() + _css("fragment.css")), lang=language, html_lang=HTML_LANG[language], t=labels, test_name="",
        units=_unit_views(units, language, images or {}, labels))


def frame_html(units: Sequence[Unit], language: str, frame_pages: Mapping[str, Sequence[Mapping[str, Any]]], *,
               test_name: str | LocalText | None = None, booklet_label: str = "", answer_sheet: bool = True,
               design_label: str = "", minutes: float | None = None) -> str:
    """What a booklet prints over its units' fragments: the cover, then per unit page an empty page
    (the running header and footer, the continuation cue, the question numbers, after the last
    unit the end note), then the answer sheet; the same pages as :func:`booklet_html`.

    frame_pages: unit id → one entry per page of the unit's fragment, ``{"numbers": [(question
    index in the unit, x, y), ...], "end_at": y or None}`` (CSS px from the page's content box;
    ``end_at``: where the end note's space starts, on the booklet's last unit page only)."""
    return _booklet_page("frame.html", units, language, test_name=test_name, booklet_label=booklet_label,
                         images=None, answer_sheet=answer_sheet, design_label=design_label, minutes=minutes,
                         frame_pages=frame_pages)


def _name(test_name: str | LocalText | None, language: str, labels: dict[str, str]) -> str:
    if test_name is None:
        return labels["assessment"]
    return test_name.get(language) if isinstance(test_name, LocalText) else str(test_name)


def url_fetcher(fetcher: ResourceFetcher | None = None) -> Any:
    """WeasyPrint's ``url_fetcher`` around the bank's one resource fetcher
    (:class:`itembank.bank.resources.ResourceFetcher`): no network, no files; refusals recorded."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    bank_fetcher = fetcher or ResourceFetcher()

    class _Fetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            resource = bank_fetcher.fetch(url)
            return URLFetcherResponse(url, resource.data, {"Content-Type": resource.mime})

    return _Fetcher(timeout=1, allowed_protocols=("data", "media"), allow_redirects=False)


def layout(html: str, fetcher: ResourceFetcher | None = None) -> Any:
    """The laid-out WeasyPrint document of ``html`` (its pages, before drawing)."""
    import weasyprint  # imported here: loading Pango takes a moment and most commands never print

    return weasyprint.HTML(string=html, base_url=str(TEMPLATES), url_fetcher=url_fetcher(fetcher)).render()


def _pdf(html: str, fetcher: ResourceFetcher | None = None) -> bytes:
    return bytes(layout(html, fetcher).write_pdf())


def render_booklet(units: Sequence[Unit], language: str, *, test_name: str | LocalText | None = None,
                   booklet_label: str = "", images: Mapping[str, Mapping[str, bytes]] | None = None,
                   answer_sheet: bool = True, design_label: str = "", minutes: float | None = None) -> bytes:
    """A student booklet as PDF bytes.

    units: in print order.  language: ``zh-TW`` or ``en``.  images: unit id → {src: bytes} (as
    :class:`~itembank.bank.validation.LoadedUnit.images`).  booklet_label: printed on the cover and
    in the running footer (e.g. ``"3"``).  design_label: the id of the printed design
    (:mod:`itembank.paper.printed`), printed on the cover and the answer sheet.  minutes: the
    time the cover states (the design's; default the units' estimated minutes).
    """
    return _pdf(booklet_html(units, language, test_name=test_name, booklet_label=booklet_label,
                             images=images, answer_sheet=answer_sheet, design_label=design_label,
                             minutes=minutes))


def _key_view(item: Any, language: str, labels: dict[str, str]) -> dict[str, Any]:
    view = _item_view(item, 0, language)
    view["type_label"] = labels[f"type_{item.type}"]
    view["scoring"] = []
    view["rationales"] = [
        {"id": p.id, "html": render_markdown(p.text.get(language), inline=True),
         "rationale": render_markdown(p.rationale.get(language), inline=True)}
        for p in rationale_parts(item) if p.rationale is not None
    ]
    if isinstance(item, SingleChoice):
        view["key"] = item.key
        view["key_text"] = render_markdown(next(o.text.get(language) for o in item.options if o.id == item.key), inline=True)
        view["scoring"] = []
    elif isinstance(item, MultipleChoice):
        view["key"] = ", ".join(item.key)
        view["scoring"] = _rules(item.scoring, labels, labels["options_word"])
        if item.weights is not None:
            view["scoring"] = _weights([(o, p) for o, p in item.weights.points.items()], item.weights.upper, labels)
        if item.also_correct:
            answers = labels["or"].join("{" + ", ".join(a) + "}" for a in item.also_correct)
            view["scoring"] = [labels["full_if_any"].format(answers=answers)]
    elif isinstance(item, ComplexChoice):
        names = {c.id: c.text.get(language) for c in item.choices}
        view["key_rows"] = [{"id": s.id, "html": render_markdown(s.text.get(language), inline=True),
                             "key": f"{item.key[s.id]} ({names[item.key[s.id]]})"} for s in item.statements]
        view["scoring"] = _rules(item.scoring, labels, labels["statements_word"])
        if item.weights is not None:
            view["scoring"] = _weights([(f"{s} {c}", p) for s, row in item.weights.points.items() for c, p in row.items()],
                                       item.weights.upper, labels)
    elif isinstance(item, Order):
        texts = {o.id: render_markdown(o.text.get(language), inline=True) for o in item.options}
        view["key"] = ", ".join(item.key)
        view["key_steps"] = [{"id": k, "html": texts[k]} for k in item.key]
        view["scoring"] = [labels["full_if_order"]]
    elif isinstance(item, ShortResponse):
        accepted = list(item.accepted.zh_TW if language == "zh-TW" else item.accepted.en)
        other = item.accepted.en if language == "zh-TW" else item.accepted.zh_TW
        accepted += [a for a in other if a not in accepted]
        view["accepted"] = accepted
        view["numeric"] = None
        if item.numeric is not None:
            view["numeric"] = labels["numeric"].format(value=f"{item.numeric.value:g}", tol=f"{item.numeric.tolerance:g}")
    elif isinstance(item, OpenResponse):
        view["codes"] = [{
            "code": c.code, "score": c.score, "credit": labels[f"credit_{c.credit}"],
            "credit_id": str(c.credit),
            "descriptor": render_markdown(c.descriptor.get(language)),
            "examples": [render_markdown(e.get(language)) for e in c.examples],
        } for c in item.coding_guide]
    return view


def _weights(points: Sequence[tuple[str, int]], upper: int | None, labels: dict[str, str]) -> list[str]:
    """Mapped scoring in the answer key: every weight (option, or "statement choice"), then the sum rule."""
    minus = "\u2212"
    shown = ", ".join(f"{part} {'+' if value > 0 else minus}{abs(value)}" for part, value in points if value)
    total = labels["weights_sum"] if upper is None else labels["weights_upper"].format(upper=upper)
    return [labels["weights_points"].format(points=shown), total]


def _rules(rules: Sequence[Any], labels: dict[str, str], what: str) -> list[str]:
    if not rules:
        return [labels["full_if_all"].format(what=what)]
    parts = [labels["rule"].format(score=r.score, min=r.min_correct, what=what) for r in rules]
    return [*parts, labels["otherwise_zero"]]


def teacher_html(units: Sequence[Unit], language: str, kind: str, *, test_name: str | LocalText | None = None,
                 booklets_of: Mapping[str, Sequence[int]] | None = None, design_label: str = "") -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    labels = _labels(language)
    booklets_of = booklets_of or {}
    unit_views = []
    for unit in units:
        items = [_key_view(item, language, labels) for item in unit.items]
        if kind == "coding-guide":
            items = [i for i in items if i["type"] == "open_response"]
            if not items:
                continue
        unit_views.append({"id": unit.id, "title": unit.title.get(language), "questions": items,
                           "booklets": ", ".join(str(b) for b in booklets_of.get(unit.id, []))})
    template = "answer_key.html" if kind == "answer-key" else "coding_guide.html"
    return _environment().get_template(template).render(
        css=Markup(_css()), lang=language, html_lang=HTML_LANG[language], t=labels,
        test_name=_name(test_name, language, labels), units=unit_views,
        title=labels["answer_key" if kind == "answer-key" else "coding_guide"],
        design_id=labels["design_id"].format(id=design_label) if design_label else "",
    )


def render_teacher_materials(units: Sequence[Unit], language: str, kind: str = "answer-key", *,
                             test_name: str | LocalText | None = None,
                             booklets_of: Mapping[str, Sequence[int]] | None = None,
                             design_label: str = "") -> bytes:
    """The answer key (keys, accepted answers, scoring rules) or the coding guide (codes,
    descriptors, example answers of every open response) as PDF bytes.

    kind: ``"answer-key"`` or ``"coding-guide"``.  booklets_of: unit id → booklet numbers,
    printed beside each unit.  design_label: the id of the printed design, printed under the title.
    """
    return _pdf(teacher_html(units, language, kind, test_name=test_name, booklets_of=booklets_of,
                             design_label=design_label))
