"""Every user-facing string is in the catalogues and translated into zh-TW; the compiled .mo files
are current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"


def _ids(catalog) -> set[str]:  # type: ignore[no-untyped-def]
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_catalogues_cover_the_sources_and_are_translated(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    wanted = _ids(read_po(pot.open("rb")))
    for locale in ("zh_Hant_TW", "en"):
        po = read_po((TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb"))
        assert wanted <= _ids(po), f"{locale}: run pybabel update: {sorted(wanted - _ids(po))}"
        mo = read_mo((TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb"))
        assert _ids(po) <= _ids(mo) | {m.id for m in po if not m.string}, "recompile the .mo"
    zh = read_po((TRANSLATIONS / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po").open("rb"))
    untranslated = [
        m.id
        for m in zh
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert not untranslated, untranslated
