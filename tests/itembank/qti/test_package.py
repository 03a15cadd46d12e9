"""QTI 3.0 export and import: schema validity, round trip of every item type, third-party samples,
languages, and hostile packages."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from itembank.bank.importer import import_bank
from itembank.bank.models import MediaFile
from itembank.bank.queries import latest_versions, unit_schema
from itembank.bank.validation import LoadedBank, load_bank
from itembank.cli import main
from itembank.db import make_engine
from itembank.db import session_factory as make_factory
from itembank.errors import ProblemsError
from itembank.migrate import upgrade
from itembank.qti import Limits, export_bank_qti, package_files, read_qti_files, read_qti_package
from itembank.qti.names import QTI3
from itembank.qti.validate import validate_files
from tests.conftest import TEST_UNITS, shared_path


@pytest.fixture(scope="module")
def source() -> LoadedBank:
    bank = load_bank([TEST_UNITS])
    assert not bank.problems
    return bank


@pytest.fixture(scope="module")
def files(source: LoadedBank) -> dict[str, bytes]:
    return package_files([u.unit for u in source.units], {u.unit.id: u.images for u in source.units},
                         source.calibrations)


def xsd() -> Path:
    return shared_path("qti-samples", "xsd", "qti-v3p0p1")


def folder_files(*parts: str) -> dict[str, bytes]:
    root = shared_path("qti-samples", *parts)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buf.getvalue()


# -- export ----------------------------------------------------------------------------------------
def test_every_exported_file_is_valid_against_the_qti_301_schemas(files: dict[str, bytes]) -> None:
    xml = [p for p in files if p.endswith(".xml")]
    assert "imsmanifest.xml" in xml
    assert len([p for p in xml if p.startswith("items/")]) == 2 * 32  # every item in zh-TW and en
    assert len([p for p in xml if p.startswith("stimuli/")]) == 2 * 8
    assert [p for p in xml if p.startswith("tests/")] == ["tests/bank.zh-TW.xml", "tests/bank.en.xml"]
    assert validate_files(files, xsd()) == []


def test_the_package_has_an_assessment_test_of_the_units(source: LoadedBank, files: dict[str, bytes]) -> None:
    for lang in ("zh-TW", "en"):
        test = etree.fromstring(files[f"tests/bank.{lang}.xml"])
        assert etree.QName(test).localname == "qti-assessment-test"
        sections = test.findall(".//q:qti-assessment-section", {"q": QTI3})
        assert [s.get("title") for s in sections] == [u.unit.title.get(lang) for u in source.units]
        refs = [r.get("href") for r in test.iterfind(".//q:qti-assessment-item-ref", {"q": QTI3})]
        assert refs == [f"../items/{i.id}.{lang}.xml" for u in source.units for i in u.unit.items]
        assert all(r.removeprefix("../") in files for r in refs)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    tests = [r for r in manifest.iter("{*}resource") if r.get("type") == "imsqti_test_xmlv3p0"]
    assert [r.get("href") for r in tests] == ["tests/bank.zh-TW.xml", "tests/bank.en.xml"]
    assert len(tests[0].findall("{*}dependency")) == 32


def test_the_validator_does_reject_a_broken_file(files: dict[str, bytes]) -> None:
    broken = {"items/x.xml": files["items/T-01-Q1.en.xml"].replace(b'max-choices="0"', b'max-choices="many"'),
              "imsmanifest.xml": files["imsmanifest.xml"].replace(b'type="webcontent"', b'type="image"')}
    problems = validate_files(broken, xsd())
    assert {p.file for p in problems} == {"items/x.xml", "imsmanifest.xml"}


def test_items_carry_interactions_keys_and_processing(files: dict[str, bytes]) -> None:
    def root(path: str) -> etree._Element:
        return etree.fromstring(files[path])

    ns = {"q": QTI3}
    single = root("items/T-02-Q4.en.xml")
    assert single.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert single.find(".//q:qti-choice-interaction", ns).get("max-choices") == "1"
    assert single.findtext(".//q:qti-correct-response/q:qti-value", namespaces=ns) == "B"
    assert single.find("q:qti-response-processing", ns).get("template").endswith("/match_correct.xml")
    assert single.find("q:qti-assessment-stimulus-ref", ns).get("href") == "../stimuli/T-02.en.xml"
    multiple = root("items/T-01-Q1.zh-TW.xml")
    assert multiple.find(".//q:qti-choice-interaction", ns).get("max-choices") == "0"
    assert [v.text for v in multiple.iterfind(".//q:qti-correct-response/q:qti-value", ns)] == ["A", "C"]
    complex_ = root("items/T-01-Q2.en.xml")
    assert complex_.find(".//q:qti-match-interaction", ns).get("class") == "qti-match-tabular"
    thresholds = [v.text for v in complex_.iterfind(".//q:qti-gte/q:qti-base-value", ns)]
    assert thresholds == ["3", "2"]  # partial credit: 2 points for 3 right, 1 for 2
    short = root("items/T-01-Q3.zh-TW.xml")
    keys = [e.get("map-key") for e in short.iterfind(".//q:qti-map-entry", ns)]
    assert keys[:2] == ["42", "42 "] and {"四十二", "forty-two", "４２", "42。"} <= set(keys)
    assert {e.get("case-sensitive") for e in short.iterfind(".//q:qti-map-entry", ns)} == {"false"}
    assert short.find(".//q:qti-pattern-match", ns) is None  # whole answers only: no unanchored pattern
    open_ = root("items/T-01-Q4.en.xml")
    assert open_.find(".//q:qti-outcome-declaration[@identifier='SCORE']", ns).get("external-scored") == "human"
    rubric = open_.find(".//q:qti-rubric-block", ns)
    assert rubric.get("view") == "scorer" and "Full answer one" in "".join(rubric.itertext())
    assert b"T-01-chart.svg" in files["stimuli/T-01.en.xml"]
    assert files["media/T-01/images/T-01-chart.svg"] == (TEST_UNITS / "images" / "T-01-chart.svg").read_bytes()


# -- round trip --------------------------------------------------------------------------------------
def test_round_trip_through_the_database_restores_every_unit(demo_bank, source: LoadedBank, tmp_path: Path) -> None:
    out = io.BytesIO()
    with demo_bank() as session:
        summary = export_bank_qti(session, out)
    assert len(summary.units) == 8 and summary.items == 32
    bank = read_qti_package(out.getvalue(), "bank.zip")
    assert bank.problems == [] and bank.notes == []

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    fresh = make_factory(engine)
    with fresh() as session, session.begin():
        report = import_bank(session, bank)
    assert len(report.created) == 8
    with fresh() as session:
        restored = {v.unit_id: (unit_schema(v), {src: session.get(MediaFile, d).data for src, d in v.media.items()})
                    for v in latest_versions(session)}
    engine.dispose()
    for loaded in source.units:
        unit, images = restored[loaded.unit.id]
        assert unit == loaded.unit  # both languages, keys, scoring rules, coding guides, irt
        assert images == loaded.images


def test_selection_by_unit_and_status(demo_bank) -> None:
    with demo_bank() as session:
        summary = export_bank_qti(session, io.BytesIO(), unit_ids=["T-02"], statuses=["approved"])
        assert summary.units == ["T-02"]
        with pytest.raises(LookupError, match="T-99"):
            export_bank_qti(session, io.BytesIO(), unit_ids=["T-99"])


def test_translations_that_differ_in_structure_are_refused(files: dict[str, bytes]) -> None:
    changed = dict(files)
    changed["items/T-02-Q4.zh-TW.xml"] = files["items/T-02-Q4.zh-TW.xml"].replace(
        b"<qti-value>B</qti-value>", b"<qti-value>C</qti-value>")
    bank = read_qti_files(changed, "p.zip")
    assert any("T-02-Q4" in p.message and "differ in key" in p.message for p in bank.problems)


def test_a_missing_language_is_copied_and_the_unit_becomes_a_draft(files: dict[str, bytes]) -> None:
    english_only = {p: d for p, d in files.items() if ".zh-TW." not in p}
    manifest = etree.fromstring(files["imsmanifest.xml"])
    for res in manifest.iter("{*}resource"):
        if ".zh-TW." in res.get("href"):
            res.getparent().remove(res)
    english_only["imsmanifest.xml"] = etree.tostring(manifest)
    bank = read_qti_files(english_only, "en.zip")
    assert bank.problems == []
    unit = next(u.unit for u in bank.units if u.unit.id == "T-02")
    assert unit.status == "draft"
    assert unit.items[0].prompt.zh_TW == unit.items[0].prompt.en == "Test question T-02-Q1"
    assert any("T-02" in n.message and "copied into both languages" in n.message for n in bank.notes)


# -- third-party samples ---------------------------------------------------------------------------
def test_qti21_reference_items(tmp_path: Path) -> None:
    bank = read_qti_files(folder_files("qti21-qtiworks", "items"), "qti21")
    mapped = {u.unit.items[0].id: u.unit.items[0].type for u in bank.units}
    assert mapped == {
        "choice": "single_choice", "choice_fixed": "single_choice", "feedback": "single_choice",
        "qcyril2gV2": "single_choice", "textEntry": "short_response", "extendedText": "open_response",
        "inlineChoice": "single_choice", "choice_multiple": "multiple_choice", "gapMatch": "complex_choice",
        "choice_multiple_chocolade": "multiple_choice",
        "order": "order",
    }
    failed = {p.file.split(":", 1)[1]: p.message for p in bank.problems}
    assert set(failed) == {"associate.xml", "hotspot.xml", "hottext.xml", "likert.xml",
                           "template.xml", "towns.xml",
                           "language/habenprompt.xml", "language/pburg1g.xml", "match.xml"}
    assert "qti-hotspot-interaction has no item type" in failed["hotspot.xml"]
    # mapped scoring the bank's rules cannot say is refused, never flattened (test_mapped_scoring.py)
    # mapped scoring: choice_multiple and gap_match keep their mappings as weights (test_mapped_scoring.py)
    assert "mapped scoring cannot be kept" in failed["match.xml"] and "fractions of a point" in failed["match.xml"]
    assert "need a key" in failed["likert.xml"]
    assert "exactly one per statement" in failed["towns.xml"]
    assert "interactions" in failed["language/habenprompt.xml"]
    assert all(p.line > 0 and p.message.startswith("<qti-") for p in bank.problems)  # file and element named
    choice = next(u for u in bank.units if u.unit.id == "choice")
    assert choice.unit.status == "draft" and choice.unit.items[0].key == "ChoiceA"
    assert choice.images == {"images/sign.png": (shared_path("qti-samples", "qti21-qtiworks", "items", "images",
                                                             "sign.png")).read_bytes()}
    text_entry = next(u.unit.items[0] for u in bank.units if u.unit.id == "textEntry")
    assert text_entry.accepted.en == ["York"] and "_____" in text_entry.prompt.en
    # an inline choice is a single choice: its sentence, with a blank, is the question
    inline = next(u.unit.items[0] for u in bank.units if u.unit.id == "inlineChoice")
    assert [o.text.en for o in inline.options] == ["Gloucester", "Lancaster", "York"] and inline.key == "Y"
    assert "> Made glorious summer by this sun of _____;  \n" in inline.prompt.en
    assert "rewrite it as a complex_choice" in failed["associate.xml"] and "--skip-unmapped" in failed["associate.xml"]
    gap = next(u.unit.items[0] for u in bank.units if u.unit.id == "gapMatch")
    assert gap.max_score == 3 and gap.weights is not None and gap.weights.points["G2"]["Su"] == 2


def test_qti3_kennisnet_items() -> None:
    bank = read_qti_files(folder_files("qti3-kennisnet", "items"), "kennisnet")
    mapped = {u.relpath.removesuffix(".yaml"): u.unit.items[0].type for u in bank.units}
    assert mapped["simple-choice-processing"] == "single_choice"
    assert mapped["extended-text-outcome-declaration-without-default"] == "open_response"
    assert mapped["match-correct-template"] == "short_response"
    assert len(bank.units) == 12
    failed = {p.file.split(":", 1)[1] for p in bank.problems}
    assert failed == {"complex-response-processing.xml", "empty-correct-response-value.xml",
                      "simple-multiple-choice-processing1.xml", "simple-multiple-choice-processing2.xml",
                      "map-response-point-template.xml", "map-response-template.xml",
                      "match-interaction-no-processing.xml", "non-existing-outcome.xml",
                      "select-point-processing.xml", "simple-match-processing.xml", "various-expressions.xml",
                      "with-else-if.xml", "wrong-expression-element.xml", "wrong-processing-element.xml"}
    messages = " ".join(p.message for p in bank.problems)
    assert "qti-select-point-interaction has no item type" in messages
    assert "is an image" in messages  # match choices that are pictures
    assert "whole points" in messages  # mapped scores of 0.667 and 1.333
    assert any("nl-NL" in n.message and "translator" in n.message for n in bank.notes)
    unit = next(u.unit for u in bank.units if u.relpath == "simple-choice-processing.yaml")
    assert unit.items[0].prompt.en == unit.items[0].prompt.zh_TW == "Is dit een meerkeuze vraag?"


def test_kennisnet_package_with_its_v3p1_manifest() -> None:
    files = folder_files("qti3-kennisnet", "package")
    files["imsmanifest.xml"] = files.pop("imsmanifest_v3p1.xml")
    bank = read_qti_files(files, "package.zip")
    assert [u.unit.items[0].type for u in bank.units] == ["single_choice"]


# -- hostile packages -------------------------------------------------------------------------------
def test_zip_slip_is_refused() -> None:
    with pytest.raises(ProblemsError, match="unsafe path"):
        read_qti_package(zipped({"../evil.xml": b"<x/>"}), "evil.zip")


def test_a_zip_bomb_gets_a_clear_error() -> None:
    bomb = zipped({"imsmanifest.xml": b"<manifest/>", "big.xml": b"\0" * (30 * 1024 * 1024)})
    with pytest.raises(ProblemsError, match="zip bomb|MB"):
        read_qti_package(bomb, "bomb.zip")
    with pytest.raises(ProblemsError, match="limit"):
        read_qti_package(b"PK" + b"\0" * 2000, "big.zip", Limits(package=1000))


def test_entities_are_not_expanded(files: dict[str, bytes]) -> None:
    secret = Path(__file__)
    xxe = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
           f'<qti-assessment-item xmlns="{QTI3}" identifier="x" title="&e;"><qti-item-body>'
           '<qti-extended-text-interaction response-identifier="R"/></qti-item-body></qti-assessment-item>')
    bank = read_qti_package(xxe.encode(), "x.xml")
    # either refused with a message or read with the entity left unexpanded: never the file's text
    assert bank.problems or bank.units
    for unit in bank.units:
        assert "hostile packages" not in unit.unit.model_dump_json()


def test_not_a_zip() -> None:
    with pytest.raises(ProblemsError, match="not a zip"):
        read_qti_package(b"hello", "x.zip")


# -- commands --------------------------------------------------------------------------------------
def test_commands_export_and_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    monkeypatch.setenv("ITEMBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["import", str(TEST_UNITS)]).exit_code == 0
    out = tmp_path / "bank.zip"
    result = runner.invoke(main, ["export-qti", str(out), "--units", "T-01", "--units", "T-03"])
    assert result.exit_code == 0, result.output
    assert "2 units, 8 items" in result.output
    result = runner.invoke(main, ["import-qti", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 unchanged" in result.output

    samples = tmp_path / "qti21.zip"
    samples.write_bytes(zipped(folder_files("qti21-qtiworks", "items")))
    result = runner.invoke(main, ["import-qti", str(samples)])
    assert result.exit_code == 1 and "hotspot.xml" in result.output and "nothing was changed" in result.output
    result = runner.invoke(main, ["import-qti", str(samples), "--skip-unmapped"])
    assert result.exit_code == 0, result.output
    assert "11 new units" in result.output and "skipped:" in result.output
