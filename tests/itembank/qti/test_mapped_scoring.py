"""Mapped scoring (issue 19): a QTI mapping imports as the bank's scoring rules when they can say it,
every possible answer scoring the same in QTI and in the bank; otherwise the item is refused with
the file, the reason and what to do.  Partial credit exports as QTI that scores as the bank does."""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from itembank.bank.schema import ComplexChoice, MultipleChoice
from itembank.bank.validation import LoadedBank, load_bank
from itembank.delivery.scoring import score_response
from itembank.qti import package_files, read_qti_files
from itembank.qti.mapped_scoring import Mapping, NotExpressible, choice_responses, rules_for
from itembank.qti.names import QTI3
from tests.conftest import TEST_UNITS, shared_path

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"
NS = {"q": QTI3}
OPTIONS = ["A", "B", "C", "D", "E"]


def qti21_choice(entries: dict[str, float], default: float = 0, bounds: str = 'lowerBound="0"',
                 correct: list[str] | None = None) -> bytes:
    mapping = "".join(f'<mapEntry mapKey="{k}" mappedValue="{v:g}"/>' for k, v in entries.items())
    correct_xml = ("<correctResponse>" + "".join(f"<value>{c}</value>" for c in correct) + "</correctResponse>"
                   if correct else "")
    choices = "".join(f'<simpleChoice identifier="{o}">Option {o}</simpleChoice>' for o in OPTIONS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI21}" identifier="mc" title="Mapped" adaptive="false" timeDependent="false" xml:lang="en">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">{correct_xml}
    <mapping defaultValue="{default:g}" {bounds}>{mapping}</mapping>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="0"><prompt>Which?</prompt>{choices}
  </choiceInteraction></itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"/>
</assessmentItem>""".encode()


def qti3_choice_inline_processing() -> bytes:
    """As kennisnet writes them: 0 when there is no answer, else map-response."""
    choices = "".join(f'<qti-simple-choice identifier="{o}">Option {o}</qti-simple-choice>' for o in OPTIONS)
    return f"""<qti-assessment-item xmlns="{QTI3}" identifier="mc3" title="Mapped" xml:lang="en" adaptive="false"
      time-dependent="false">
      <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">
        <qti-correct-response><qti-value>A</qti-value><qti-value>B</qti-value><qti-value>C</qti-value>
        </qti-correct-response>
        <qti-mapping default-value="-1" lower-bound="0" upper-bound="2">
          <qti-map-entry map-key="A" mapped-value="1"/><qti-map-entry map-key="B" mapped-value="1"/>
          <qti-map-entry map-key="C" mapped-value="1"/></qti-mapping>
      </qti-response-declaration>
      <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
      <qti-item-body><qti-choice-interaction response-identifier="RESPONSE" max-choices="0">
        <qti-prompt>Which?</qti-prompt>{choices}</qti-choice-interaction></qti-item-body>
      <qti-response-processing><qti-response-condition><qti-response-if><qti-is-null><qti-variable
        identifier="RESPONSE"/></qti-is-null><qti-set-outcome-value identifier="SCORE"><qti-base-value
        base-type="float">0.0</qti-base-value></qti-set-outcome-value></qti-response-if><qti-response-else>
        <qti-set-outcome-value identifier="SCORE"><qti-map-response identifier="RESPONSE"/></qti-set-outcome-value>
      </qti-response-else></qti-response-condition></qti-response-processing>
    </qti-assessment-item>""".encode()


def qti21_match(value: float, bounds: str = "") -> bytes:
    statements = "".join(f'<simpleAssociableChoice identifier="{s}" matchMax="1">Statement {s}'
                         "</simpleAssociableChoice>" for s in ("S1", "S2", "S3"))
    choices = "".join(f'<simpleAssociableChoice identifier="{c}" matchMax="3">{c}</simpleAssociableChoice>'
                      for c in ("Yes", "No"))
    key = {"S1": "Yes", "S2": "No", "S3": "Yes"}
    entries = "".join(f'<mapEntry mapKey="{s} {c}" mappedValue="{value:g}"/>' for s, c in key.items())
    correct = "".join(f"<value>{s} {c}</value>" for s, c in key.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI21}" identifier="table" title="Table" adaptive="false" timeDependent="false" xml:lang="en">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="directedPair">
    <correctResponse>{correct}</correctResponse><mapping defaultValue="0" {bounds}>{entries}</mapping>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody><matchInteraction responseIdentifier="RESPONSE" maxAssociations="3"><prompt>Yes or no?</prompt>
    <simpleMatchSet>{statements}</simpleMatchSet><simpleMatchSet>{choices}</simpleMatchSet>
  </matchInteraction></itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"/>
</assessmentItem>""".encode()


def qti_mapped_score(xml: bytes, chosen: list[str]) -> float:
    """What a QTI player's map-response computes for ``chosen`` (the file's mapping, default, bounds)."""
    root = etree.fromstring(xml)
    mapping = next(e for e in root.iter() if etree.QName(e).localname in ("mapping", "qti-mapping"))

    def attr(*names: str) -> str | None:
        return next((mapping.get(n) for n in names if mapping.get(n) is not None), None)

    entries = {e.get("mapKey") or e.get("map-key"): float(e.get("mappedValue") or e.get("mapped-value"))
               for e in mapping}
    lower, upper = attr("lowerBound", "lower-bound"), attr("upperBound", "upper-bound")
    return Mapping(entries, float(attr("defaultValue", "default-value") or 0),
                   float(lower) if lower else None, float(upper) if upper else None).score(chosen)


def only_unit(files: dict[str, bytes]) -> MultipleChoice | ComplexChoice:
    bank = read_qti_files(files, "mapped.zip")
    assert bank.problems == [], bank.problems
    item = bank.units[0].unit.items[0]
    assert isinstance(item, MultipleChoice | ComplexChoice)
    return item


def all_choices() -> list[list[str]]:
    return [list(c) for n in range(len(OPTIONS) + 1) for c in itertools.combinations(OPTIONS, n)]


# -- import -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("entries", "default", "bounds", "rules"), [
    ({"A": 1, "B": 1, "C": -1, "D": -1, "E": -1}, 0, 'lowerBound="0"',
     [{"score": 2, "min_correct": 5}, {"score": 1, "min_correct": 4}]),
    ({"A": 1, "B": 1}, -1, 'lowerBound="0"', [{"score": 2, "min_correct": 5}, {"score": 1, "min_correct": 4}]),
    ({"A": 1, "B": 1}, -1, 'lowerBound="0" upperBound="1"', [{"score": 1, "min_correct": 4}]),
    ({"A": 1, "B": -1, "C": -1, "D": -1, "E": -1}, 0, 'lowerBound="0"', []),  # key A only: all or nothing
])
def test_a_mapping_becomes_rules_that_score_every_answer_alike(entries: dict[str, float], default: float,
                                                               bounds: str, rules: list[dict]) -> None:
    xml = qti21_choice(entries, default, bounds)
    item = only_unit({"mc.xml": xml})
    assert isinstance(item, MultipleChoice) and item.key == [k for k, v in entries.items() if v > 0]
    assert [r.model_dump() for r in item.scoring] == rules
    for chosen in all_choices():
        assert score_response(item, chosen) == qti_mapped_score(xml, chosen), chosen


def test_inline_map_response_processing_is_read_as_mapped() -> None:
    xml = qti3_choice_inline_processing()
    item = only_unit({"mc3.xml": xml})
    assert isinstance(item, MultipleChoice) and item.max_score == 2
    for chosen in all_choices():
        assert score_response(item, chosen) == qti_mapped_score(xml, chosen), chosen


def test_a_mapped_match_becomes_rules_over_statements() -> None:
    xml = qti21_match(1)
    item = only_unit({"table.xml": xml})
    assert isinstance(item, ComplexChoice) and item.key == {"S1": "Yes", "S2": "No", "S3": "Yes"}
    assert [r.model_dump() for r in item.scoring] == [{"score": 3, "min_correct": 3}, {"score": 2, "min_correct": 2},
                                                      {"score": 1, "min_correct": 1}]
    for picks in itertools.product(["Yes", "No", None], repeat=3):
        response = {s: c for s, c in zip(("S1", "S2", "S3"), picks, strict=True) if c is not None}
        pairs = [f"{s} {c}" for s, c in response.items()]
        assert score_response(item, response) == qti_mapped_score(xml, pairs), response


def test_a_gap_match_is_a_complex_choice_of_numbered_gaps() -> None:
    sample = shared_path("qti-samples", "qti21-qtiworks", "items", "gap_match.xml").read_bytes()
    xml = sample.replace(b'mappedValue="2"', b'mappedValue="1"').replace(b'defaultValue="-1"', b'defaultValue="0"')
    item = only_unit({"gap_match.xml": xml})
    assert isinstance(item, ComplexChoice) and item.key == {"G1": "W", "G2": "Su"}
    assert [s.text.en for s in item.statements] == ["(1)", "(2)"]
    assert [c.text.en for c in item.choices] == ["winter", "spring", "summer", "autumn"]
    assert "> Now is the (1) _____ of our discontent  \n> Made glorious (2) _____ by" in item.prompt.en
    for picks in itertools.product(["W", "Sp", "Su", "A", None], repeat=2):
        response = {g: t for g, t in zip(("G1", "G2"), picks, strict=True) if t is not None}
        pairs = [f"{t} {g}" for g, t in response.items()]  # a gap match's pairs: text, then gap
        assert score_response(item, response) == qti_mapped_score(xml, pairs), response


@pytest.mark.parametrize(("entries", "default", "bounds", "weights"), [
    # {A} and {A, B, C} both have 4 of 5 options right but score 1 and 0: no rules, but weights
    ({"A": 1, "B": 1, "C": -1}, -2, 'lowerBound="0"',
     {"points": {"A": 1, "B": 1, "C": -1, "D": -2, "E": -2}}),
    ({"A": 2, "B": 1, "C": -1}, 0, 'lowerBound="0" upperBound="2"', {"points": {"A": 2, "B": 1, "C": -1}, "upper": 2}),
    ({"A": 1, "B": 1, "C": 1}, -3, 'lowerBound="0" upperBound="5"', {"points": {"A": 1, "B": 1, "C": 1, "D": -3,
                                                                                "E": -3}}),  # 5 is never reached
])
def test_a_mapping_the_rules_cannot_say_imports_as_weights(entries: dict[str, float], default: float, bounds: str,
                                                           weights: dict) -> None:
    xml = qti21_choice(entries, default, bounds)
    item = only_unit({"mc.xml": xml})
    assert isinstance(item, MultipleChoice) and item.scoring == []
    assert item.weights is not None and item.weights.model_dump(exclude_none=True) == weights
    assert item.key == [k for k, v in entries.items() if v > 0]
    for chosen in all_choices():
        assert score_response(item, chosen) == qti_mapped_score(xml, chosen), chosen


def test_a_mapped_item_without_a_correct_response_takes_its_best_answer_as_key() -> None:
    xml = qti21_choice({"A": 1, "B": 2, "C": -1}, 0, 'lowerBound="0"')  # no correctResponse
    item = only_unit({"mc.xml": xml})
    assert isinstance(item, MultipleChoice) and item.key == ["A", "B"] and item.max_score == 3
    assert item.weights is not None and item.weights.points == {"A": 1, "B": 2, "C": -1}


def test_the_reference_gap_match_imports_with_its_weights() -> None:
    xml = shared_path("qti-samples", "qti21-qtiworks", "items", "gap_match.xml").read_bytes()
    item = only_unit({"gap_match.xml": xml})
    assert isinstance(item, ComplexChoice) and item.key == {"G1": "W", "G2": "Su"} and item.max_score == 3
    assert item.weights is not None and item.weights.points == {
        "G1": {"W": 1, "Sp": -1, "Su": -1, "A": -1}, "G2": {"Su": 2, "W": -1, "Sp": -1, "A": -1}}
    for picks in itertools.product(["W", "Sp", "Su", "A", None], repeat=2):
        response = {g: t for g, t in zip(("G1", "G2"), picks, strict=True) if t is not None}
        pairs = [f"{t} {g}" for g, t in response.items()]
        assert score_response(item, response) == qti_mapped_score(xml, pairs), response


@pytest.mark.parametrize(("xml", "reason"), [
    (qti21_choice({"A": 0.5, "B": 0.5, "C": -0.5, "D": -0.5, "E": -0.5}, 0, 'lowerBound="0"'), "whole points"),
    (qti21_choice({"A": 2, "B": 2}, -2, 'lowerBound="0"'), "no answer scores 1, 3 of 0..4"),
    (qti21_choice({"A": 1, "B": 1}, -1, ""), "never below 0"),  # {C} scores -1 in QTI
    (qti21_choice({"A": 1, "B": 1}, 0, 'lowerBound="0"', correct=["A"]), "make the key the best answer"),
    (qti21_match(0.5), "whole points"),
])
def test_a_mapping_the_rules_cannot_say_is_refused_with_file_and_advice(xml: bytes, reason: str) -> None:
    bank = read_qti_files({"items/odd.xml": xml}, "odd.zip")
    assert bank.units == [] and len(bank.problems) == 1
    problem = bank.problems[0]
    assert problem.file == "odd.zip:items/odd.xml" and problem.line > 0
    assert "mapped scoring cannot be kept" in problem.message and reason in problem.message
    assert "change the mapping" in problem.message and "--skip-unmapped" in problem.message


def test_the_mapped_and_the_two_answer_reference_samples_import() -> None:
    items = shared_path("qti-samples", "qti21-qtiworks", "items")
    files = {n: (items / n).read_bytes() for n in ("choice_multiple.xml", "choice_multiple_chocolade.xml", "choice.xml",
                                                   "images/sign.png")}
    bank = read_qti_files(files, "ref.zip")
    # both files name their item "choiceMultiple": the units take the files' names
    assert [u.unit.id for u in bank.units] == ["choice", "choice_multiple", "choice_multiple_chocolade"]
    assert bank.problems == []
    water = bank.units[1].unit.items[0]
    assert isinstance(water, MultipleChoice) and water.key == ["H", "O"] and water.max_score == 2
    assert water.weights is not None and water.weights.points == {"H": 1, "O": 1, "Cl": -1, "He": -2, "C": -2, "N": -2}
    # chocolate milk: no mapping, two answers that each score 1 (the stove and the microwave)
    milk = bank.units[2].unit.items[0]
    stove = [f"C{n:02d}" for n in range(1, 11)]
    microwave = ["C11", "C05", "C06", "C07", "C08", "C12", "C13", "C14"]
    assert isinstance(milk, MultipleChoice) and milk.key == stove and milk.also_correct == [microwave]
    assert score_response(milk, stove) == score_response(milk, list(reversed(microwave))) == 1
    assert score_response(milk, stove[:-1]) == score_response(milk, [*microwave, "C01"]) == 0


def test_the_rules_are_checked_for_every_answer() -> None:
    mapping = Mapping({"A": 1, "B": 1}, default=-1, lower=0)
    assert rules_for(mapping, choice_responses(OPTIONS, ["A", "B"]), 5, "options") == [
        {"score": 2, "min_correct": 5}, {"score": 1, "min_correct": 4}]
    with pytest.raises(NotExpressible, match="too many"):
        list(choice_responses([f"O{n}" for n in range(20)], ["O1"]))


# -- export -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_bank() -> LoadedBank:
    bank = load_bank([TEST_UNITS])
    assert not bank.problems
    return bank


def exported_score(xml: bytes, chosen: list[str]) -> int:
    """Our export's response processing, evaluated as a player does: NUM_CORRECT = the mapping's
    value plus the offset (the offset alone for no answer), then the first qti-gte rule met."""
    root = etree.fromstring(xml)
    entries = {e.get("map-key"): float(e.get("mapped-value")) for e in root.iterfind(".//q:qti-map-entry", NS)}
    conditions = root.findall(".//q:qti-response-processing/q:qti-response-condition", NS)
    offset = float(conditions[0].find("q:qti-response-if/q:qti-set-outcome-value/q:qti-base-value", NS).text)
    num_correct = offset + sum(entries.get(c, 0) for c in set(chosen)) if chosen else offset
    for branch in conditions[1]:
        gte = branch.find("q:qti-gte", NS)
        if gte is None or num_correct >= float(gte.find("q:qti-base-value", NS).text):
            return int(float(branch.find("q:qti-set-outcome-value/q:qti-base-value", NS).text))
    raise AssertionError("no branch")


def test_partial_credit_exports_as_qti_that_scores_as_the_bank(test_bank: LoadedBank) -> None:
    unit = test_bank.units[0]
    multiple = MultipleChoice.model_validate({
        "id": "P-1", "type": "multiple_choice", "prompt": {"zh-TW": "哪些？", "en": "Which?"},
        "process": "evaluate_information", "key": ["A", "B"],
        "options": [{"id": o, "text": {"zh-TW": o, "en": o}} for o in OPTIONS],
        "scoring": [{"score": 2, "min_correct": 5}, {"score": 1, "min_correct": 4}]})
    table = ComplexChoice.model_validate({
        "id": "P-2", "type": "complex_choice", "prompt": {"zh-TW": "是否？", "en": "Yes or no?"},
        "process": "evaluate_information", "key": {"S1": "Y", "S2": "N", "S3": "Y"},
        "statements": [{"id": s, "text": {"zh-TW": s, "en": s}} for s in ("S1", "S2", "S3")],
        "choices": [{"id": "Y", "text": {"zh-TW": "是", "en": "Yes"}}, {"id": "N", "text": {"zh-TW": "否", "en": "No"}}],
        "scoring": [{"score": 2, "min_correct": 3}, {"score": 1, "min_correct": 2}]})
    changed = unit.unit.model_copy(update={"items": [multiple, table]})
    files = package_files([changed], {changed.id: unit.images})
    for lang in ("zh-TW", "en"):
        xml = files[f"items/P-1.{lang}.xml"]
        for chosen in all_choices():
            assert exported_score(xml, chosen) == score_response(multiple, chosen), chosen
        xml = files[f"items/P-2.{lang}.xml"]
        for picks in itertools.product(["Y", "N", None], repeat=3):
            response = {s: c for s, c in zip(("S1", "S2", "S3"), picks, strict=True) if c is not None}
            assert exported_score(xml, [f"{s} {c}" for s, c in response.items()]) == score_response(table, response)
    back = read_qti_files(files, "partial.zip")
    assert back.problems == [] and back.units[0].unit.items == [multiple, table]


def weighted_items() -> tuple[MultipleChoice, ComplexChoice]:
    multiple = MultipleChoice.model_validate({
        "id": "W-1", "type": "multiple_choice", "prompt": {"zh-TW": "哪些？", "en": "Which?"},
        "process": "evaluate_information", "key": ["A", "B"],
        "options": [{"id": o, "text": {"zh-TW": o, "en": o}} for o in OPTIONS],
        "weights": {"points": {"A": 2, "B": 1, "C": -1, "D": 0, "E": -2}, "upper": 2}})
    table = ComplexChoice.model_validate({
        "id": "W-2", "type": "complex_choice", "prompt": {"zh-TW": "是否？", "en": "Yes or no?"},
        "process": "evaluate_information", "key": {"S1": "Y", "S2": "N", "S3": "Y"},
        "statements": [{"id": s, "text": {"zh-TW": s, "en": s}} for s in ("S1", "S2", "S3")],
        "choices": [{"id": "Y", "text": {"zh-TW": "是", "en": "Yes"}}, {"id": "N", "text": {"zh-TW": "否", "en": "No"}}],
        "weights": {"points": {"S1": {"Y": 2, "N": -1}, "S2": {"N": 1}, "S3": {"Y": 1, "N": -1}}}})
    return multiple, table


def player_score(xml: bytes, chosen: list[str]) -> float:
    """Our export's processing for weights, evaluated as a player does: 0 without an answer, else
    map-response (the mapping's entries, default, bounds)."""
    root = etree.fromstring(xml)
    rp = root.find("q:qti-response-processing", NS)
    branch = rp.find("q:qti-response-condition/q:qti-response-if", NS)
    assert branch.find("q:qti-is-null/q:qti-variable", NS).get("identifier") == "RESPONSE"
    assert rp.find("q:qti-response-condition/q:qti-response-else/q:qti-set-outcome-value/q:qti-map-response",
                   NS) is not None
    return qti_mapped_score(xml, chosen) if chosen else 0.0


def test_weights_export_as_a_valid_mapping_that_scores_as_the_bank_and_come_back(test_bank: LoadedBank) -> None:
    from itembank.qti.validate import validate_files
    unit = test_bank.units[0]
    multiple, table = weighted_items()
    assert multiple.max_score == 2 and table.max_score == 4
    changed = unit.unit.model_copy(update={"items": [multiple, table]})
    files = package_files([changed], {changed.id: unit.images})
    assert validate_files(files, shared_path("qti-samples", "xsd", "qti-v3p0p1")) == []
    for lang in ("zh-TW", "en"):
        xml = files[f"items/W-1.{lang}.xml"]
        assert b'upper-bound="2"' in xml and b'lower-bound="0"' in xml and b'normal-maximum="2"' in xml
        for chosen in all_choices():
            assert player_score(xml, chosen) == score_response(multiple, chosen), chosen
        xml = files[f"items/W-2.{lang}.xml"]
        assert b"upper-bound" not in xml and b'<qti-map-entry map-key="S2 N" mapped-value="1"/>' in xml
        for picks in itertools.product(["Y", "N", None], repeat=3):
            response = {s: c for s, c in zip(("S1", "S2", "S3"), picks, strict=True) if c is not None}
            pairs = [f"{s} {c}" for s, c in response.items()]
            assert player_score(xml, pairs) == score_response(table, response), response
    back = read_qti_files(files, "weights.zip")
    assert back.problems == [] and back.units[0].unit.items == [multiple, table]


def test_every_reference_item_of_a_supported_type_imports_in_one_package(tmp_path: object) -> None:
    """The QTI 2.1 reference items in one package: every item of a type the bank has imports (the
    mapped ones with their weights); the rest are refusals naming file, line and element, and
    --skip-unmapped imports the others."""
    from itembank.qti import read_qti_package
    from tests.itembank.qti.test_package import folder_files, zipped
    bank = read_qti_package(zipped(folder_files("qti21-qtiworks", "items")), "reference.zip")
    imported = {u.file.split(":", 1)[1] for u in bank.units}
    assert imported == {"choice.xml", "choice_fixed.xml", "choice_multiple.xml", "choice_multiple_chocolade.xml",
                        "extended_text.xml", "feedback.xml",
                        "gap_match.xml", "inline_choice.xml", "language/qcyril2gV2.xml", "order.xml", "text_entry.xml"}
    refused = {p.file.split(":", 1)[1]: p for p in bank.problems}
    assert set(refused) == {"associate.xml", "hotspot.xml", "hottext.xml",
                            "language/habenprompt.xml", "language/pburg1g.xml", "likert.xml", "match.xml",
                            "template.xml", "towns.xml"}
    for problem in bank.problems:
        assert problem.line > 0 and problem.message.startswith("<qti-"), problem
    for loaded in bank.units:
        for item in loaded.unit.items:
            for part in [*getattr(item, "options", []), *getattr(item, "statements", [])]:
                assert "Yes." not in part.text.en  # no feedback in option texts
