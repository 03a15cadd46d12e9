"""QTI that other systems can trust (issue 19): short answers scored in QTI as the bank scores them,
numeric tolerances kept on import, feedback never in student-visible text, stimuli kept and never
invented, mapped scoring kept."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from lxml import etree

from itembank.bank.schema import ImageBlock, ShortResponse
from itembank.bank.validation import LoadedBank, load_bank
from itembank.delivery.scoring import score_response
from itembank.qti import package_files, read_qti_files
from itembank.qti.names import QTI3
from tests.conftest import TEST_UNITS, shared_path

ROOT = TEST_UNITS.parents[2]
NS = {"q": QTI3}
FULL = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


@pytest.fixture(scope="module")
def whole_bank() -> LoadedBank:
    bank = load_bank([ROOT / "items"])
    assert not bank.problems
    return bank


def map_score(item_xml: bytes, response: str) -> int:
    """What a QTI player computes for our short-response files: map-response (whole string, case
    ignored as case-sensitive="false" says), SCORE 1 when it is at least 1."""
    root = etree.fromstring(item_xml)
    assert root.find(".//q:qti-pattern-match", NS) is None
    keys = {e.get("map-key").lower(): float(e.get("mapped-value")) for e in root.iterfind(".//q:qti-map-entry", NS)}
    return int(keys.get(response.lower(), 0) >= 1)


def probes(item: ShortResponse) -> list[str]:
    answers = [*item.accepted.zh_TW, *item.accepted.en]
    out = [*answers, *(a.translate(FULL) for a in answers), *(a + "。" for a in answers), *(a + " " for a in answers),
           *(a.upper() for a in answers), "9" + answers[0], "wrong"]
    if item.numeric is None or item.numeric.tolerance == 0:
        out.append(answers[0] + "9")
    if item.numeric is not None:
        value, tol = Decimal(repr(item.numeric.value)), Decimal(repr(item.numeric.tolerance))
        # numbers at the precision of the value and tolerance (finer ones are not written out: docs/qti.md)
        step = Decimal(1).scaleb(min(value.normalize().as_tuple().exponent, tol.normalize().as_tuple().exponent, 0))
        for x in (value, value + tol, value - tol, value + tol / 2, value + 2 * tol + 1, value - 2 * tol - 1):
            x = x.quantize(step)
            text = format(x.normalize(), "f")
            out += [text, text.translate(FULL), f"{x:.1f}", f"{x:.2f}"]
    return out


def test_short_answers_score_in_qti_as_in_the_bank(whole_bank: LoadedBank) -> None:
    units = [u.unit for u in whole_bank.units]
    files = package_files(units, {u.unit.id: u.images for u in whole_bank.units})
    compared = agree = 0
    for unit in units:
        for item in unit.items:
            if not isinstance(item, ShortResponse):
                continue
            for lang in ("zh-TW", "en"):
                xml = files[f"items/{item.id}.{lang}.xml"]
                for response in probes(item):
                    bank = score_response(item, response)
                    compared += 1
                    agree += map_score(xml, response) == bank
                    assert map_score(xml, response) == bank, (item.id, lang, response, bank)
    assert compared > 1000 and agree == compared


def test_the_exact_number_is_anchored_and_40_0_counts(whole_bank: LoadedBank) -> None:
    unit = next(u for u in whole_bank.units if not any(isinstance(b, ImageBlock) for b in u.unit.stimulus))
    item = ShortResponse.model_validate({
        "id": "N-1", "type": "short_response", "prompt": {"zh-TW": "幾位？", "en": "How many?"},
        "process": "evaluate_information", "accepted": {"zh-TW": ["120", "120人"], "en": ["120", "120 students"]},
        "numeric": {"value": 120.0}})
    changed = unit.unit.model_copy(update={"items": [item]})
    xml = package_files([changed], {unit.unit.id: unit.images})[f"items/{item.id}.en.xml"]
    assert map_score(xml, "120") == map_score(xml, "120.0") == map_score(xml, "１２０") == 1
    assert map_score(xml, "120人") == 1  # the other language's accepted answer
    assert map_score(xml, "9120") == map_score(xml, "1200") == 0


QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"


def numeric_item(equal: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI21}" identifier="pi" title="Pi" adaptive="false" timeDependent="false" xml:lang="en">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float">
    <correctResponse><value>3.14</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody><p>Pi to two places: <textEntryInteraction responseIdentifier="RESPONSE"/></p></itemBody>
  <responseProcessing><responseCondition><responseIf>
    {equal}
    <setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue>
  </responseIf></responseCondition></responseProcessing>
</assessmentItem>""".encode()


@pytest.mark.parametrize(("equal", "tolerance", "note"), [
    ('<equal toleranceMode="absolute" tolerance="0.01 0.01"><variable identifier="RESPONSE"/>'
     '<correct identifier="RESPONSE"/></equal>', 0.01, None),
    ('<equal toleranceMode="relative" tolerance="10"><variable identifier="RESPONSE"/>'
     '<correct identifier="RESPONSE"/></equal>', 0.314, None),
    ('<equal toleranceMode="absolute" tolerance="0.01 0.02"><variable identifier="RESPONSE"/>'
     '<correct identifier="RESPONSE"/></equal>', 0.01, "differ"),
    ('<match><variable identifier="RESPONSE"/><correct identifier="RESPONSE"/></match>', 0.0, None),
])
def test_a_qti21_tolerance_is_kept(equal: str, tolerance: float, note: str | None) -> None:
    bank = read_qti_files({"pi.xml": numeric_item(equal)}, "pi.zip")
    assert bank.problems == []
    item = bank.units[0].unit.items[0]
    assert isinstance(item, ShortResponse) and item.numeric is not None
    assert item.numeric.value == 3.14 and item.numeric.tolerance == pytest.approx(tolerance)
    if note:
        assert any(note in n.message and n.line > 0 and "<qti-equal>" in n.message for n in bank.notes)


# -- feedback ---------------------------------------------------------------------------------------
def test_inline_and_modal_feedback_never_reach_students() -> None:
    items = shared_path("qti-samples", "qti21-qtiworks", "items")
    bank = read_qti_files({"feedback.xml": (items / "feedback.xml").read_bytes()}, "fb.zip")
    assert bank.problems == []
    item = bank.units[0].unit.items[0]
    texts = [o.text.en for o in item.options] + [item.prompt.en]
    assert "Vicente Fox" in texts
    visible = bank.units[0].unit.model_dump_json()
    for leak in ("Yes.", "President of the USA", "Prime Minister", "answer is Vicente Fox"):
        assert leak not in visible
    messages = [n.message for n in bank.notes]
    assert any("feedback is not kept" in m and "qti-feedback-inline" in m for m in messages)
    assert any("modal feedback is not kept" in m for m in messages)


def test_qti3_feedback_blocks_and_rubrics_stay_out_of_texts() -> None:
    xml = f"""<qti-assessment-item xmlns="{QTI3}" identifier="q" title="Q" xml:lang="en" adaptive="false"
      time-dependent="false">
      <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
        <qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>
      <qti-outcome-declaration identifier="FEEDBACK" cardinality="single" base-type="identifier"/>
      <qti-item-body>
        <qti-rubric-block view="candidate" use="instructions"><p>Secret hint B</p></qti-rubric-block>
        <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
          <qti-prompt>Pick one <qti-feedback-inline outcome-identifier="FEEDBACK" identifier="A"
            show-hide="show">Leak one</qti-feedback-inline></qti-prompt>
          <qti-simple-choice identifier="A">Alpha<qti-feedback-inline outcome-identifier="FEEDBACK"
            identifier="A" show-hide="show">Right!</qti-feedback-inline></qti-simple-choice>
          <qti-simple-choice identifier="B">Beta</qti-simple-choice>
        </qti-choice-interaction>
        <qti-feedback-block outcome-identifier="FEEDBACK" identifier="A" show-hide="show"><p>Leak two</p>
        </qti-feedback-block>
      </qti-item-body>
      <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>
    </qti-assessment-item>"""
    bank = read_qti_files({"q.xml": xml.encode()}, "q.zip")
    assert bank.problems == []
    dumped = bank.units[0].unit.model_dump_json()
    for leak in ("Right!", "Leak one", "Leak two", "Secret hint"):
        assert leak not in dumped
    item = bank.units[0].unit.items[0]
    assert [o.text.en for o in item.options] == ["Alpha", "Beta"] and item.prompt.en == "Pick one"
    assert any("rubric block" in n.message and n.line > 0 for n in bank.notes)


def test_full_width_probe_is_really_full_width() -> None:  # the probes above test what they claim
    assert unicodedata.normalize("NFKC", "42".translate(FULL)) == "42" and "42".translate(FULL) != "42"


# -- stimuli ----------------------------------------------------------------------------------------
def choice_item(identifier: str, stimulus: str | None) -> bytes:
    ref = (f'<qti-assessment-stimulus-ref identifier="{stimulus}" href="../shared/{stimulus}.xml" title="P"/>'
           if stimulus else "")
    return f"""<qti-assessment-item xmlns="{QTI3}" identifier="{identifier}" title="Title {identifier}"
      xml:lang="en" adaptive="false" time-dependent="false">
      <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
        <qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>
      {ref}
      <qti-item-body><qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
        <qti-prompt>Question {identifier}</qti-prompt>
        <qti-simple-choice identifier="A">Yes</qti-simple-choice><qti-simple-choice identifier="B">No</qti-simple-choice>
      </qti-choice-interaction></qti-item-body>
      <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>
    </qti-assessment-item>""".encode()


PASSAGE = f"""<qti-assessment-stimulus xmlns="{QTI3}" identifier="rivers" title="Rivers" xml:lang="en">
  <qti-stimulus-body>
    <p>The <em>longest</em> rivers.</p>
    <table><caption>Length</caption><tr><th>River</th><th>km</th></tr><tr><td>Nile</td><td>6650</td></tr>
      <tr><td>Amazon</td><td>6400</td></tr></table>
    <p><img src="../images/sign.png" alt="A sign"/></p>
  </qti-stimulus-body>
</qti-assessment-stimulus>""".encode()


def third_party_files() -> dict[str, bytes]:
    sign = shared_path("qti-samples", "qti21-qtiworks", "items", "images", "sign.png").read_bytes()
    return {"items/q1.xml": choice_item("q1", "rivers"), "items/q2.xml": choice_item("q2", "rivers"),
            "items/q3.xml": choice_item("q3", None), "shared/rivers.xml": PASSAGE, "images/sign.png": sign}


def test_a_referenced_stimulus_becomes_the_units_stimulus_with_its_table_and_image() -> None:
    bank = read_qti_files(third_party_files(), "third.zip")  # no manifest: stimuli found by their href
    assert bank.problems == []
    units = {u.unit.id: u for u in bank.units}
    assert set(units) == {"rivers", "q3"}
    rivers = units["rivers"]
    assert [i.id for i in rivers.unit.items] == ["q1", "q2"]  # items that share a stimulus: one unit
    kinds = [b.type for b in rivers.unit.stimulus]
    assert kinds == ["text", "table", "image"]
    table = rivers.unit.stimulus[1]
    assert [c.en for c in table.columns] == ["River", "km"] and table.rows[0][0].en == "Nile"
    assert table.caption.en == "Length"
    assert rivers.images and rivers.unit.stimulus[0].text.en == "The *longest* rivers."
    assert units["q3"].unit.stimulus == []  # not its title: nothing invented


def test_a_missing_referenced_stimulus_is_a_problem() -> None:
    files = third_party_files()
    del files["shared/rivers.xml"]
    bank = read_qti_files(files, "third.zip")
    assert any("rivers" in p.message and "missing" in p.message and p.file.endswith("q1.xml")
               for p in bank.problems)


def test_a_unit_without_stimulus_exports_valid_and_comes_back_without_one() -> None:
    from itembank.qti.validate import validate_files
    bank = read_qti_files(third_party_files(), "third.zip")
    unit = next(u for u in bank.units if u.unit.id == "q3")
    files = package_files([unit.unit], {"q3": {}})
    assert validate_files(files, shared_path("qti-samples", "xsd", "qti-v3p0p1")) == []
    again = read_qti_files(files, "again.zip")
    assert again.problems == [] and again.units[0].unit == unit.unit


# -- Markdown and round trips -----------------------------------------------------------------------
TEXTS = ["#1 阿明的留言\n\n他說：「我同意。」", "#2 of 5: Ming's message", "1. 第一\n2. 第二", "- 項目\n- 另一項",
         "1. first\n2. second", "- one\n- two", "## 真的標題", "#1 A\n#2 B"]


@pytest.mark.parametrize("text", TEXTS)
def test_text_not_meant_as_a_heading_never_becomes_one(text: str) -> None:
    from itembank.delivery.student_view import render_markdown as web
    from itembank.paper.render import render_markdown as paper
    from itembank.qti.markup import markdown_elements, to_markdown

    heading = text.startswith("## ")
    for html in (web(text), str(paper(text))):
        assert "<h1" not in html and "<h2" not in html or heading, html  # (the web sanitiser drops headings)
        assert "#1" in html or "#2" in html or not text.startswith("#") or heading
        assert ("<ol>" in html) == text.startswith("1. ") and ("<ul>" in html) == text.startswith("- ")
    div = etree.Element(f"{{{QTI3}}}div")
    div.extend(markdown_elements(text, QTI3))
    assert (div.find(".//{*}h1") is not None or div.find(".//{*}h2") is not None) == heading
    assert to_markdown(div, collapse=False) == text.replace("#1 A\n#2 B", "#1 A\n#2 B")  # comes back as written


def test_export_import_export_is_stable_from_the_second_cycle(whole_bank: LoadedBank) -> None:
    units = [u.unit for u in whole_bank.units]
    files = package_files(units, {u.unit.id: u.images for u in whole_bank.units}, whole_bank.calibrations)
    exports = []
    for _cycle in range(3):
        bank = read_qti_files(files, "bank.zip")
        assert bank.problems == [] and bank.notes == []
        files = package_files([u.unit for u in bank.units], {u.unit.id: u.images for u in bank.units},
                              bank.calibrations)
        exports.append(files)
    assert exports[1] == exports[2]  # list indentation no longer drifts


def test_export_import_export_is_byte_identical_over_the_whole_bank(whole_bank: LoadedBank) -> None:
    units = [u.unit for u in whole_bank.units]
    first = package_files(units, {u.unit.id: u.images for u in whole_bank.units}, whole_bank.calibrations)
    for _cycle in range(2):
        bank = read_qti_files(first, "bank.zip")
        assert bank.problems == [] and bank.notes == []
        again = package_files([u.unit for u in bank.units], {u.unit.id: u.images for u in bank.units},
                              bank.calibrations)
        assert sorted(again) == sorted(first)
        assert [p for p in first if first[p] != again[p]] == []
        assert {u.unit.id: u.unit for u in bank.units} == {u.unit.id: u.unit for u in whole_bank.units}
        first = again


def test_reimporting_a_fresh_export_makes_no_new_versions(session_factory) -> None:
    import io

    from itembank.bank.importer import import_bank, import_paths
    from itembank.qti import export_bank_qti, read_qti_package

    with session_factory() as session, session.begin():
        import_paths(session, [ROOT / "items"])
    out = io.BytesIO()
    with session_factory() as session:
        export_bank_qti(session, out)
    bank = read_qti_package(out.getvalue(), "fresh.zip")
    assert bank.problems == []
    with session_factory() as session, session.begin():
        report = import_bank(session, bank)
    assert report.created == [] and report.new_versions == []
    assert len(report.unchanged) == len(bank.units) >= 50
