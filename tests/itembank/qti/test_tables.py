"""Tables in item bodies (issue 19): a Markdown table in a prompt or a stimulus text exports as an
XHTML table and comes back as the same Markdown; a third-party item's XHTML table in its body or
prompt becomes a Markdown table, not a paragraph of run-together cells."""

from __future__ import annotations

from lxml import etree

from itembank.bank.validation import load_bank
from itembank.delivery.student_view import render_markdown
from itembank.qti import package_files, read_qti_files
from itembank.qti.names import QTI3
from itembank.qti.validate import validate_files
from tests.conftest import TEST_UNITS, shared_path

TABLE = "| Year | Water use |\n| --- | --- |\n| 2020 | 350 \\| 360 |\n| 2024 | about **400** |"
XHTML = ("<table><caption>Water use</caption><thead><tr><th>Year</th><th>Use</th></tr></thead><tbody>"
         "<tr><td>2020</td><td><p>350</p></td></tr><tr><td>2024</td><td>about <strong>400</strong></td></tr>"
         "</tbody></table>")
READ_BACK = "Water use\n\n| Year | Use |\n| --- | --- |\n| 2020 | 350 |\n| 2024 | about **400** |"


def third_party(body: str, prompt: str) -> bytes:
    return f"""<qti-assessment-item xmlns="{QTI3}" identifier="t1" title="T" xml:lang="en" adaptive="false"
      time-dependent="false">
      <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
        <qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>
      <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
      <qti-item-body>{body}<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
        <qti-prompt><p>Which year?</p>{prompt}</qti-prompt>
        <qti-simple-choice identifier="A">2020</qti-simple-choice><qti-simple-choice identifier="B">2024</qti-simple-choice>
      </qti-choice-interaction></qti-item-body>
      <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
    </qti-assessment-item>""".encode()


def test_markdown_tables_of_the_bank_go_out_as_tables_and_come_back_as_written() -> None:
    bank = load_bank([TEST_UNITS])
    loaded = bank.units[0]
    unit = loaded.unit
    item = unit.items[0]
    prompt = item.prompt.model_copy(update={"en": f"Read the table.\n\n{TABLE}\n\nThen answer.",
                                             "zh_TW": f"請讀表格。\n\n{TABLE}\n\n再回答。"})
    block = unit.stimulus[0].model_copy(update={"text": unit.stimulus[0].text.model_copy(
        update={"en": f"Data:\n\n{TABLE}"})})
    changed = unit.model_copy(update={"items": [item.model_copy(update={"prompt": prompt}), *unit.items[1:]],
                                      "stimulus": [block, *unit.stimulus[1:]]})
    files = package_files([changed], {unit.id: loaded.images})
    assert validate_files(files, shared_path("qti-samples", "xsd", "qti-v3p0p1")) == []
    xml = etree.fromstring(files[f"items/{item.id}.en.xml"])
    cells = [c.text for c in xml.iter(f"{{{QTI3}}}td")]
    assert cells == ["2020", "350 | 360", "2024", "about "]  # a table, as the web shows it
    assert "<table>" in render_markdown(TABLE)
    back = read_qti_files(files, "tables.zip")
    assert back.problems == []
    assert back.units[0].unit == changed


def test_a_third_party_table_in_the_prompt_or_body_becomes_a_markdown_table() -> None:
    bank = read_qti_files({"prompt.xml": third_party("", XHTML)}, "p.zip")
    assert bank.problems == []
    assert bank.units[0].unit.items[0].prompt.en == f"Which year?\n\n{READ_BACK}"
    bank = read_qti_files({"body.xml": third_party(f"<p>Look:</p>{XHTML}", "")}, "b.zip")
    assert bank.problems == []
    (text,) = bank.units[0].unit.stimulus
    assert text.type == "text" and text.text.en == f"Look:\n\n{READ_BACK}"
    assert "<table>" in render_markdown(text.text.en) and "<td>350</td>" in render_markdown(text.text.en)
