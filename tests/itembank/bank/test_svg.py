"""The one SVG check (itembank/bank/svg.py): every known way of pointing outside the drawing is
refused, at any depth (inside data: URIs, behind CSS escapes and comments); plain drawings pass."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

import pytest

from itembank.bank.svg import check_svg, css_unescape, svg_problem
from tests.conftest import REPO, TEST_UNITS

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
OUTSIDE = "http://127.0.0.1:9/x.png"


def svg(body: str, head: str = HEAD) -> bytes:
    return f"{head}{body}</svg>".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


EXTERNAL = svg(f'<image href="{OUTSIDE}" width="5" height="5"/>')
WRAPPED = svg(f'<image href="data:image/svg+xml;base64,{b64(EXTERNAL)}"/>')
CIRCLE = svg('<circle r="1"/>')
ATTACKS = {
    "image http": svg(f'<image href="{OUTSIDE}"/>'),
    "image xlink file": svg('<image xlink:href="file:///etc/passwd"/>'),
    "image relative": svg('<image href="../../secret.png"/>'),
    "image protocol-relative": svg('<image href="//evil.example/x.png"/>'),
    "use external": svg('<use href="http://evil.example/a.svg#x"/>'),
    "feImage": svg(f'<filter id="f"><feImage href="{OUTSIDE}"/></filter>'),
    "data svg wrapping external": svg(f'<image href="data:image/svg+xml;base64,{b64(EXTERNAL)}"/>'),
    "data svg percent-encoded": svg(f'<image href="data:image/svg+xml,{quote(EXTERNAL.decode())}"/>'),
    "data svg two levels": svg(f'<image href="data:image/svg+xml;base64,{b64(WRAPPED)}"/>'),
    "data not an image": svg('<image href="data:text/html;base64,PHNjcmlwdD4="/>'),
    "data png that is not": svg(f'<image href="data:image/png;base64,{b64(b"GIF89a....")}"/>'),
    "style @import": svg('<style>@import url(http://evil.example/s.css);</style>'),
    "style @im\\port": svg('<style>@im\\port "http://evil.example/s.css";</style>'),
    "style @import string": svg("<style>@import 'x.css';</style>"),
    "style comment split": svg('<style>rect{fill:u/**/rl(http://evil.example/x)}</style>'),
    "style u\\72l": svg('<style>rect{fill:u\\72l(http://evil.example/x)}</style>'),
    "style \\75 rl with space": svg('<style>rect{fill:\\75 rl(http://evil.example/x)}</style>'),
    "style cdata": svg('<style><![CDATA[@import url(http://evil.example/s.css);]]></style>'),
    "style URL uppercase": svg('<style>rect{fill:URL( "http://evil.example/x" )}</style>'),
    "style image-set": svg('<rect style="fill:image-set(\'http://evil.example/x\' 1x)"/>'),
    "style attribute u\\72l": svg('<rect style="fill:u\\72l(http://evil.example/x)"/>'),
    "presentation attribute url": svg('<rect fill="url(http://evil.example/x#g)"/>'),
    "font-face": svg('<style>@font-face{font-family:x;src:url(http://evil.example/f.woff)}</style>'),
    "script": svg("<script>alert(1)</script>"),
    "onload": svg('<rect onload="alert(1)"/>', HEAD.replace(">", ' onload="alert(1)">', 1)),
    "foreignObject": svg('<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="http://x"/></foreignObject>'),
    "a javascript": svg('<a href="javascript:alert(1)"><rect/></a>'),
    "animate href": svg(f'<image href="#a"><animate attributeName="href" to="{OUTSIDE}"/></image>'),
    "set href": svg(f'<image href="#a"><set attributeName="href" to="{OUTSIDE}"/></image>'),
    "xml:base": svg('<g xml:base="http://evil.example/"><image href="#x"/></g>'),
    "xinclude": svg('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'),
    "doctype entity": b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + svg("<text>&x;</text>"),
    "xml-stylesheet": b'<?xml-stylesheet href="http://evil.example/s.css"?>' + svg("<rect/>"),
    "unknown attribute": svg('<rect src="http://evil.example/x"/>'),
    "editor namespace href": svg('<sodipodi:x xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" '
                                 'sodipodi:href="http://evil.example"/>'),
    "not svg": b'<html xmlns="http://www.w3.org/1999/xhtml"><img src="http://x"/></html>',
    "not xml": b"<svg><rect></svg>",
}


@pytest.mark.parametrize("name", ATTACKS)
def test_every_way_of_pointing_outside_the_drawing_is_refused(name: str) -> None:
    problem = svg_problem(ATTACKS[name])
    assert problem is not None, name
    assert "SVG" in problem  # the web app translates by this word
    with pytest.raises(ValueError):
        check_svg(ATTACKS[name])


def test_data_uris_nested_too_deep_are_refused_even_when_clean() -> None:
    inner = svg('<rect width="1" height="1"/>')
    for _ in range(5):
        inner = svg(f'<image href="data:image/svg+xml;base64,{b64(inner)}"/>')
    assert "levels deep" in (svg_problem(inner) or "")


GOOD = {
    "fragment refs": svg('<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>'
                         '<marker id="m"><path d="M0 0 L1 1"/></marker></defs>'
                         '<rect fill="url(#g)" style="fill: url( \'#g\' ); stroke:#000"/>'
                         '<use href="#m"/><use xlink:href="#m"/><line marker-end="url(#m)"/>'),
    "style sheet without links": svg("<style>rect { fill: #333; font-family: 'Noto Sans TC' }</style><rect/>"),
    "png data uri": svg(f'<image href="data:image/png;base64,{b64(PNG)}" width="1" height="1"/>'),
    "clean svg data uri": svg(f'<image href="data:image/svg+xml;base64,{b64(CIRCLE)}"/>'),
    "inkscape metadata": svg('<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                             '<cc:Work xmlns:cc="http://creativecommons.org/ns#" rdf:about=""/></rdf:RDF></metadata>'
                             '<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" '
                             'pagecolor="#ffffff"/><g transform="translate(1,2) rotate(3)"><text>題目 x</text></g>'),
    "comments and xml declaration": b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- a chart -->' + svg("<rect/>"),
}


@pytest.mark.parametrize("name", GOOD)
def test_plain_drawings_pass(name: str) -> None:
    assert svg_problem(GOOD[name]) is None


@pytest.mark.parametrize("path", sorted([*(REPO / "items").rglob("*.svg"), *TEST_UNITS.rglob("*.svg")]),
                         ids=lambda p: Path(p).name)
def test_every_drawing_of_the_bank_passes(path: Path) -> None:
    assert svg_problem(path.read_bytes()) is None


def test_css_escapes_are_decoded() -> None:
    assert css_unescape("@im\\port u\\72l( \\75 rl(") == "@import url( url("
    assert css_unescape("a\\\nb") == "ab"
