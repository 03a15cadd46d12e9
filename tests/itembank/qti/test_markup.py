"""Markdown ↔ QTI XHTML (itembank/qti/markup.py): every construct of the bank's Markdown comes back
byte for byte, renders as the web and paper render it, and stays valid QTI."""

from __future__ import annotations

import markdown as markdown_lib
import pytest
from lxml import etree

from itembank.bank.markdown_rules import prepare_markdown
from itembank.bank.schema import LocalText, TextBlock
from itembank.bank.validation import load_bank
from itembank.qti import package_files, read_qti_files
from itembank.qti.markup import UNDER, markdown_elements, to_markdown
from itembank.qti.names import QTI3
from itembank.qti.validate import validate_files
from tests.conftest import TEST_UNITS, shared_path

CONSTRUCTS = {
    "paragraphs and line breaks": "line one\nline two\n\nsecond paragraph",
    "emphasis, code, link": "**bold**, *em*, `a * b` and [a link](https://example.org/a_(b))",
    "hard line break": "From: Ming  \nTo: Haruka",
    "tight lists": "- one\n- two\n\n1. first\n2. second",
    "Chinese list": "1. 第一\n2. 第二\n\n- 項目\n- 另一項",
    "item over two lines": "- a long item\n  that wraps\n- b\n\n1. an item\n   that wraps\n2. c",
    "loose list": "- one\n\n- two",
    "loose ordered list": "1. one\n\n2. two\n\n3. three",
    "partly loose list": "1. one\n\n2. two\n3. three",
    "item of two paragraphs": "- one\n\n    more of one\n\n- two",
    "nested list": "- a\n    - b\n    - c\n- d",
    "ordered list in a list": "- a\n    1. b\n    2. c\n- d",
    "two levels of nesting": "1. a\n    - b\n        - c\n2. d",
    "quote": "> a quote\n> on two lines",
    "quote of two paragraphs": "> one\n>\n> two",
    "quote after a blank line": "**Mon**\n\n> hi",
    "quote right under a paragraph": "**5 月 6 日（一）怡婷 → 遙**\n> 嗨，遙！\n\n**Tue**\n> Dear Yiting,\n> thanks.\n\nAfter",
    "list in a quote": "> intro\n>\n> 1. x\n> 2. y",
    "loose list in a quote": "> Subject: a trip\n>\n> 1. assemble at 7:30\n>\n> 2. fee NT$650\n>\n> 3. sign",
    "quote in a quote": "> a\n>\n> > b",
    "list after a quote": "> q\n\n- a\n- b\n\nafter",
    "heading": "### The haze is back\n\ntext",
    "heading right under a paragraph": "text\n## Heading\n\nmore",
    "not a heading": "#1 阿明的留言\n\n他說：「#2 不是標題」\n#3 也不是",
    "rule": "one\n\n---\n\ntwo",
    "code block": "text\n\n    code line\n    second",
    "literal asterisks": "5 * 3 = 15, a_b_c",
    "text that would be syntax": "\\*not emphasis\\* and \\[not a link\\]",
    "bold numbered heads": "**1. Principles:** land\n\n**2. Visitors:** 150",
    "raw HTML is text": "a <b>tag</b> & more",
}
# a list item's line right under a line of text starts a list (the web's rule, docs/qti.md): the
# text, and the text that Python-Markdown alone renders the same
LISTS_UNDER_A_LINE = {
    "list right under a line": ("**Comments**\n- Customer A: too much!\n- Customer B: be understanding.\n  Really.",
                                "**Comments**\n\n- Customer A: too much!\n- Customer B: be understanding.\n  Really."),
    "Chinese list right under a line": ("查核報告說：\n- 找不到這份研究；\n- 照片是舊的。\n\n之後\n1. 第一\n2. 第二",
                                        "查核報告說：\n\n- 找不到這份研究；\n- 照片是舊的。\n\n之後\n\n1. 第一\n2. 第二"),
}
CONSTRUCTS |= {name: text for name, (text, _same) in LISTS_UNDER_A_LINE.items()}


def rendered(text: str) -> etree._Element:
    div = etree.Element(f"{{{QTI3}}}div")
    div.extend(markdown_elements(text, QTI3))
    return div


@pytest.mark.parametrize("text", CONSTRUCTS.values(), ids=CONSTRUCTS.keys())
def test_markdown_comes_back_as_written(text: str) -> None:
    assert to_markdown(rendered(text), collapse=False) == text


@pytest.mark.parametrize("text", CONSTRUCTS.values(), ids=CONSTRUCTS.keys())
def test_the_xhtml_renders_as_the_library_does(text: str) -> None:
    """The class that keeps a block under its paragraph changes nothing else."""
    text = next((same for under, same in LISTS_UNDER_A_LINE.values() if under == text), text)
    plain = markdown_lib.markdown(prepare_markdown(text.replace("<", "&lt;")), extensions=["sane_lists"],
                                  output_format="xhtml").replace("&nbsp;", "&#160;")
    ours = rendered(text)
    for el in ours.iter():
        if el.get("class") == UNDER:
            del el.attrib["class"]
    theirs = etree.fromstring(f'<div xmlns="{QTI3}">{plain}</div>'.encode())
    assert shape(ours) == shape(theirs)


def shape(root: etree._Element) -> list[tuple]:
    return [(etree.QName(e).localname, dict(e.attrib), e.text, e.tail) for e in root.iterdescendants()]


def test_a_quote_right_under_a_paragraph_is_marked_and_one_after_a_blank_line_is_not() -> None:
    under = rendered("Mon\n> hi")
    after = rendered("Mon\n\n> hi")
    assert under[1].get("class") == UNDER and after[1].get("class") is None
    assert to_markdown(under, collapse=False) == "Mon\n> hi" and to_markdown(after, collapse=False) == "Mon\n\n> hi"


@pytest.mark.parametrize(("text", "_same"), LISTS_UNDER_A_LINE.values(), ids=LISTS_UNDER_A_LINE.keys())
def test_a_list_right_under_a_line_is_a_list_as_on_the_web(text: str, _same: str) -> None:
    from itembank.delivery.student_view import render_markdown

    web = etree.fromstring(f"<div>{render_markdown(text)}</div>")
    ours = rendered(text)
    assert [e.tag for e in web] == local_names(ours)
    lists = [e for e in ours if local_names([e])[0] in ("ul", "ol")]
    assert lists and all(e.get("class") == UNDER for e in lists)


def test_third_party_text_that_looks_like_markdown_stays_text() -> None:
    div = etree.fromstring(f'<div xmlns="{QTI3}"><p>*not emphasis* and [x](y)</p><p>1. not a list</p>'
                           "<p>first<br/>second</p></div>")
    md = to_markdown(div)
    assert md == "\\*not emphasis\\* and \\[x\\](y)\n\n\\1. not a list\n\nfirst  \nsecond"
    again = rendered(md)
    assert "".join(again[0].itertext()) == "*not emphasis* and [x](y)" and len(again[0]) == 0
    assert local_names(again) == ["p", "p", "p"] and again[2][0].tag == f"{{{QTI3}}}br"


def local_names(elements: list[etree._Element] | etree._Element) -> list[str]:
    return [etree.QName(e).localname for e in elements]


def test_every_construct_exports_valid_qti_and_comes_back() -> None:
    bank = load_bank([TEST_UNITS])
    unit = next(u for u in bank.units if any(isinstance(b, TextBlock) for b in u.unit.stimulus))
    text = "\n\n(next)\n\n".join(CONSTRUCTS.values())
    stimulus = [TextBlock(type="text", text=LocalText.model_validate({"zh-TW": text, "en": text})),
                *(b for b in unit.unit.stimulus if not isinstance(b, TextBlock))]
    changed = unit.unit.model_copy(update={"stimulus": stimulus})
    files = package_files([changed], {changed.id: unit.images})
    assert validate_files(files, shared_path("qti-samples", "xsd", "qti-v3p0p1")) == []
    back = read_qti_files(files, "constructs.zip")
    assert back.problems == [] and back.notes == []
    assert back.units[0].unit.stimulus[0] == stimulus[0]
    assert package_files([back.units[0].unit], {changed.id: back.units[0].images}) == files
