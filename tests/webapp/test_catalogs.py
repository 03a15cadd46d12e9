"""Every compiled translation catalog (.mo) matches its source (.po): a stale .mo would show old text."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(value) -> bool:
    return any(value) if isinstance(value, list | tuple) else bool(value)


CATALOGS = sorted((REPO / "webapp").rglob("LC_MESSAGES/*.po"))  # messages, and wtforms (form library)


def test_there_are_catalogs_for_both_languages() -> None:
    locales = {p.parent.parent.name for p in CATALOGS}
    assert {"zh_Hant_TW", "en"} <= locales


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(p.relative_to(REPO)))
def test_mo_is_compiled_from_po(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} missing: run pybabel compile -d {po_path.parents[2]}"
    with po_path.open("rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh)
              if m.id and _translated(m.string) and not m.fuzzy}
    with mo_path.open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id and _translated(m.string)}
    # an entry whose translation equals its id shows the same text as a missing one
    po = {k: v for k, v in po.items() if v != k}
    mo = {k: v for k, v in mo.items() if v != k}
    assert po == mo, f"{mo_path} is stale: run pybabel compile -d {po_path.parents[2]}"


def test_one_rendering_per_string_across_catalogs() -> None:
    """Flask-Babel merges every area's catalog into one: the same English string (and context)
    must be translated the same way everywhere, or one area silently overrides another's wording.
    Where meanings differ, use a different string or a message context (pgettext)."""
    renderings: dict[tuple, dict[str, str]] = {}
    for po_path in CATALOGS:
        with po_path.open("rb") as fh:
            for m in read_po(fh):
                if m.id and _translated(m.string) and not m.fuzzy:
                    key = (po_path.parent.parent.name, m.context, _key(m.id))
                    renderings.setdefault(key, {})[str(po_path.relative_to(REPO))] = str(_key(m.string))
    clashes = {k: v for k, v in renderings.items() if len(set(v.values())) > 1}
    assert not clashes, "\n".join(f"{k[2]!r}: {v}" for k, v in clashes.items())
