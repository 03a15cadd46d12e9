"""One Markdown rule for web, paper and QTI (itembank/bank/markdown_rules.py): 「#1」 at a line start
is text, and a list under a line of text (``- ``, ``1. ``) is a list, in both languages; the three
renderers give the same blocks."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from itembank.delivery.student_view import render_markdown as web
from itembank.paper.render import render_markdown as paper
from itembank.qti.markup import markdown_elements, to_markdown
from itembank.qti.names import QTI3

TEXTS = {
    "zh-TW": "#1 阿明的留言\n大家好，我想說：\n- 第一點\n- 第二點\n\n步驟如下：\n1. 先報名\n2. 再繳費\n\n「#2」不是標題。\n2. 這行也不是清單",
    "en": "#1 Ming's message\nHello all, I think:\n- first point\n- second point\n\nThe steps:\n1. sign up\n2. pay\n\n"
          "#2 of 5 is not a heading.\n2. nor is this a list",
}
BLOCKS = ["p", "ul", "p", "ol", "p"]  # the one reading of TEXTS


def blocks(html: str) -> list[str]:
    """The top-level blocks of ``html`` and what they hold: tag names, list items counted."""
    root = etree.fromstring(f"<div>{html}</div>".encode(), etree.XMLParser(recover=True))
    return [el.tag for el in root]


def qti_html(text: str) -> str:
    wrapper = etree.Element(f"{{{QTI3}}}div", nsmap={None: QTI3})
    wrapper.extend(markdown_elements(text, QTI3))
    return re.sub(r' xmlns="[^"]+"| class="[^"]+"', "", etree.tostring(wrapper, encoding="unicode"))[5:-6]


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_web_paper_and_qti_read_a_text_alike(language: str) -> None:
    text = TEXTS[language]
    rendered = {"web": web(text), "paper": str(paper(text)), "qti": qti_html(text)}
    for name, html in rendered.items():
        assert blocks(html) == BLOCKS, (name, html)
        assert "<h1" not in html and "<h2" not in html, name
        assert html.count("<li>") == 4, (name, html)
        assert "#1" in html and ("「#2」" in html or "#2 of 5" in html), name
        assert "2. " in html.rsplit("</ol>", 1)[1], name  # "2." under text stays text
    # QTI brings the text back as written
    wrapper = etree.Element(f"{{{QTI3}}}div", nsmap={None: QTI3})
    wrapper.extend(markdown_elements(text, QTI3))
    assert to_markdown(wrapper, collapse=False) == text


def test_a_list_under_text_in_a_quote_is_a_list_everywhere() -> None:
    text = "> **留言**\n> - 很好\n> - 不錯"
    for html in (web(text), str(paper(text)), qti_html(text)):
        assert "<blockquote>" in html and html.count("<li>") == 2, html
