"""Import is all-or-nothing, changed content makes a new version, export is byte-stable.

Runs on SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from itembank.bank.exporter import export_bank
from itembank.bank.importer import import_paths
from itembank.bank.models import ItemParameters, ItemVersion, MediaFile, Unit, UnitVersion
from itembank.bank.queries import latest_versions, unit_schema
from itembank.bank.stats import bank_stats
from itembank.errors import ProblemsError
from tests.conftest import TEST_UNITS


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def tree_equal(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_import_then_export_round_trip_is_byte_identical(session_factory, tmp_path: Path) -> None:
    with session_factory() as s, s.begin():
        report = import_paths(s, [TEST_UNITS])
    assert len(report.created) == 8
    with session_factory() as s:
        export_bank(s, tmp_path / "one")
    with session_factory() as s, s.begin():
        again = import_paths(s, [tmp_path / "one"])
    assert again.created == [] and again.new_versions == [] and len(again.unchanged) == 8
    with session_factory() as s:
        export_bank(s, tmp_path / "two")
    tree_equal(tmp_path / "one", tmp_path / "two")
    # the committed test bank is itself in canonical form
    tree_equal(tmp_path / "one", TEST_UNITS)


def test_good_folder_plus_one_bad_file_imports_nothing(session_factory, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    (bank / "zz-bad.yaml").write_text("id: ZZ\ntitle: {zh-TW: 壞}\n", encoding="utf-8")
    with pytest.raises(ProblemsError) as caught, session_factory() as s, s.begin():
        import_paths(s, [bank])
    assert all("zz-bad.yaml" in str(p) for p in caught.value.problems)
    with session_factory() as s:
        assert count(s, Unit) == 0 and count(s, UnitVersion) == 0 and count(s, MediaFile) == 0


def test_a_failure_midway_rolls_back_everything(session_factory, tmp_path: Path, monkeypatch) -> None:
    import itembank.bank.importer as importer

    calls = {"n": 0}
    original = importer.save_unit

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "save_unit", failing)
    with pytest.raises(RuntimeError), session_factory() as s, s.begin():
        import_paths(s, [TEST_UNITS])
    with session_factory() as s:
        assert count(s, Unit) == 0 and count(s, ItemVersion) == 0


def test_changed_content_makes_a_new_version_and_keeps_the_old(session_factory, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    unit_file = bank / "T-04.yaml"
    unit_file.write_text(unit_file.read_text(encoding="utf-8").replace("Test question T-04-Q1", "Edited question"),
                         encoding="utf-8")
    with session_factory() as s, s.begin():
        report = import_paths(s, [bank])
    assert report.new_versions == ["T-04 v2"] and len(report.unchanged) == 7
    with session_factory() as s:
        versions = s.scalars(select(UnitVersion).where(UnitVersion.unit_id == "T-04")
                             .order_by(UnitVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].content["items"][0]["prompt"]["en"] == "Test question T-04-Q1"
        assert versions[1].content["items"][0]["prompt"]["en"] == "Edited question"
        # both versions of the item exist; parameters travel with the new version
        item_versions = s.scalars(select(ItemVersion).where(ItemVersion.item_id == "T-04-Q1")).all()
        assert len(item_versions) == 2
        assert all(iv.parameters_id is not None for iv in item_versions)


def test_status_change_alone_updates_in_place(session_factory, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    unit_file = bank / "T-05.yaml"
    unit_file.write_text(unit_file.read_text(encoding="utf-8").replace("status: approved", "status: retired"),
                         encoding="utf-8")
    with session_factory() as s, s.begin():
        report = import_paths(s, [bank])
    assert report.new_versions == []
    with session_factory() as s:
        (version,) = s.scalars(select(UnitVersion).where(UnitVersion.unit_id == "T-05")).all()
        assert version.status == "retired"


def test_new_parameters_attach_without_a_new_version(session_factory, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    (bank / "calibrations" / "recal.yaml").write_text(
        (bank / "calibrations" / "test-calibration.yaml").read_text(encoding="utf-8")
        .replace("id: test-calibration", "id: recal"), encoding="utf-8")
    unit_file = bank / "T-02.yaml"
    text = unit_file.read_text(encoding="utf-8")
    unit_file.write_text(text.replace("      b: -0.096\n      calibration: test-calibration",
                                      "      b: 0.5\n      calibration: recal"), encoding="utf-8")
    with session_factory() as s, s.begin():
        report = import_paths(s, [bank])
    assert report.new_versions == []
    with session_factory() as s:
        (version,) = latest_versions(s, ["approved"])[1:2]
        unit = unit_schema(version)
        single = next(i for i in unit.items if i.type == "single_choice")
        assert single.irt is not None and single.irt.b == 0.5 and single.irt.calibration == "recal"
        # the earlier parameters stay on record with their calibration
        sets = s.scalars(select(ItemParameters).where(ItemParameters.item_id == single.id)).all()
        assert {p.calibration_id for p in sets} == {"test-calibration", "recal"}


def test_item_cannot_move_to_another_unit(session_factory, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    moved = tmp_path / "moved"
    shutil.copytree(TEST_UNITS, moved)
    (moved / "T-03.yaml").unlink()
    text = (moved / "T-02.yaml").read_text(encoding="utf-8")
    (moved / "T-02.yaml").write_text(text.replace("id: T-02-Q1", "id: T-03-Q1"), encoding="utf-8")
    with pytest.raises(ProblemsError) as caught, session_factory() as s, s.begin():
        import_paths(s, [moved])
    assert "belongs to unit 'T-03'" in str(caught.value)


def test_stats(session_factory) -> None:
    with session_factory() as s, s.begin():
        import_paths(s, [TEST_UNITS])
    with session_factory() as s:
        stats = bank_stats(s)
    assert stats["units"] == 8 and stats["items"] == 32
    assert sum(stats["by_type"].values()) == 32
    assert set(stats["by_type"]) == {"single_choice", "multiple_choice", "complex_choice",
                                     "short_response", "open_response", "order"}
    assert stats["by_type"]["order"] == 0  # every type is counted, the test bank has no order item
    assert stats["languages"] == {"en": 32, "zh-TW": 32}
    assert stats["open_items_with_coding_guide"] == stats["by_type"]["open_response"]
    text = "".join(p.read_text(encoding="utf-8") for p in TEST_UNITS.glob("T-*.yaml"))
    assert 0 < stats["calibrated_items"] == text.count("    irt:\n") < 32  # some open items have none
    assert sum(stats["by_dimension"].values()) == 32 and sum(stats["by_domain"].values()) == 32


def test_export_writes_images(session_factory, tmp_path: Path) -> None:
    with session_factory() as s, s.begin():
        import_paths(s, [TEST_UNITS])
    with session_factory() as s:
        export_bank(s, tmp_path)
    assert filecmp.cmp(tmp_path / "images" / "T-01-chart.svg", TEST_UNITS / "images" / "T-01-chart.svg",
                       shallow=False)


def test_a_new_draft_does_not_hide_the_approved_version(session_factory, tmp_path: Path) -> None:
    from itembank.bank.queries import in_use_versions

    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    unit_file = bank / "T-06.yaml"
    text = unit_file.read_text(encoding="utf-8")
    unit_file.write_text(text.replace("status: approved", "status: draft")
                         .replace("Test question T-06-Q1", "Draft edit"), encoding="utf-8")
    with session_factory() as s, s.begin():
        import_paths(s, [bank])
    with session_factory() as s:
        in_use = {v.unit_id: v for v in in_use_versions(s)}
        assert in_use["T-06"].version == 1 and in_use["T-06"].status == "approved"
        assert "T-06" not in {v.unit_id for v in latest_versions(s, ["approved"])}
