"""A design's set rendered in parallel processes is the set rendered one document at a time, byte
for byte, in the same file order; progress is reported once per document."""

from __future__ import annotations

import io
import zipfile

import pytest

from itembank.bank.validation import load_bank
from itembank.paper.booklet_set import documents, render_set, zip_set
from itembank.paper.design import make_design
from tests.conftest import TEST_UNITS


@pytest.fixture(scope="module")
def small_set():
    loaded = load_bank([TEST_UNITS])
    assert loaded.ok
    chosen = loaded.units[:3]
    units = [u.unit for u in chosen]
    design = make_design(units, n_clusters=3, positions=1)
    return {u.id: u for u in units}, {u.unit.id: u.images for u in chosen}, design


def test_parallel_rendering_gives_the_serial_bytes(small_set) -> None:
    by_id, images, design = small_set
    seen: list[tuple[int, int, str]] = []
    serial = render_set(by_id, images, design, "zh-TW", workers=1)
    parallel = render_set(by_id, images, design, "zh-TW", workers=2,
                          progress=lambda done, total, name: seen.append((done, total, name)))
    names = [d.filename for d in documents(design, by_id, "zh-TW")]
    assert list(serial) == list(parallel) == names
    assert len(names) == len(design.booklets) + 2  # every booklet, the answer key, the coding guide
    for name in names:
        assert parallel[name][:5] == b"%PDF-"
        assert parallel[name] == serial[name], name
    assert [s[0] for s in seen] == list(range(1, len(names) + 1))
    assert {s[1] for s in seen} == {len(names)}
    assert sorted(s[2] for s in seen) == sorted(names)


def test_only_some_booklets_and_no_teacher_material(small_set) -> None:
    by_id, images, design = small_set
    first = min(design.booklets)
    files = render_set(by_id, images, design, "en", numbers=[first], teacher=False, workers=2)
    assert list(files) == [f"booklet-{first:02d}-en.pdf"]


def test_the_zip_holds_every_file() -> None:
    data = zip_set({"booklet-01-en.pdf": b"%PDF-1"}, {"design.yaml": "name: x\n"})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["design.yaml", "booklet-01-en.pdf"]
        assert zf.read("booklet-01-en.pdf") == b"%PDF-1"
