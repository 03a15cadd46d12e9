"""``itembank materials export|import``: schema.org LearningResource JSON-LD; export → import →
export gives the same document (on SQLite and PostgreSQL); a bad import names the entry and the
field and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.models import User
from itembank.cli import main
from itembank.materials import store, workflow
from itembank.materials.jsonld import JsonLdError, from_jsonld
from itembank.materials.models import Material

from .conftest import fields

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    return database_url


def test_export_import_export_is_the_same_document(
    cli_db: str, session_factory: sessionmaker[Session], world: dict[str, int], tmp_path: Path
) -> None:
    with session_factory() as db, db.begin():
        owner = db.get(User, world["t-north"])
        reviewer = db.get(User, world["reviewer"])
        stored = store.save(db, PDF, "plan.pdf", max_bytes=1 << 20)
        a = workflow.create(db, owner, fields(url=None), file=stored, file_name="plan.pdf")
        workflow.submit(db, owner, a)
        workflow.approve(db, reviewer, a)
        workflow.count_download(db, owner, a)
        workflow.create(db, db.get(User, world["t-george"]),
                        fields(visibility="city", sdgs=[], dimension=None, process=None,
                               subject="", grade_bands=[], title={"zh-TW": "檳城", "en": "Penang"}))
    first, second = tmp_path / "a.jsonld", tmp_path / "b.jsonld"
    code, out = run("materials", "export", str(first))
    assert code == 0, out
    document = json.loads(first.read_text(encoding="utf-8"))
    assert document["@context"] == "https://schema.org"
    entries = {e["learningResourceType"] + e["name"][1]["@value"]: e for e in document["@graph"]}
    plan = entries["lesson_planClimate justice lesson plan"]
    assert plan["@type"] == "LearningResource"
    assert plan["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert {"@language": "zh-TW", "@value": "氣候正義教案"} in plan["name"]
    assert [t["termCode"] for t in plan["about"]] == ["SDG4", "SDG13"]
    assert plan["associatedMedia"]["encodingFormat"] == "application/pdf"
    assert plan["creativeWorkStatus"] == "approved"
    assert plan["sourceOrganization"]["identifier"] == "taipei/north"
    assert plan["interactionStatistic"]["userInteractionCount"] == 1
    assert entries["lesson_planPenang"]["sourceOrganization"]["identifier"] == "penang/george"

    with session_factory() as db, db.begin():
        db.execute(delete(Material))
    code, out = run("materials", "import", str(first))
    assert code == 0, out
    assert "2 material(s) created" in out
    code, out = run("materials", "export", str(second))
    assert code == 0, out
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    # importing again updates by identifier
    code, out = run("materials", "import", str(first))
    assert code == 0 and "0 material(s) created, 2 updated" in out, out


def test_a_bad_import_names_entry_and_field_and_writes_nothing(
    cli_db: str, session_factory: sessionmaker[Session], world: dict[str, int], tmp_path: Path
) -> None:
    good = {"@type": "LearningResource", "identifier": "good-1",
            "name": [{"@language": "zh-TW", "@value": "好"}, {"@language": "en", "@value": "Good"}],
            "description": [{"@language": "zh-TW", "@value": "好"},
                            {"@language": "en", "@value": "Good"}],
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "author": {"@type": "Person", "name": "A"}, "url": "https://example.org/a",
            "conditionsOfAccess": "public"}
    bad_licence = dict(good, identifier="bad-1", license="https://example.org/mine")
    bad_city = dict(good, identifier="bad-2",
                    sourceOrganization={"identifier": "atlantis"})
    path = tmp_path / "in.jsonld"
    path.write_text(json.dumps({"@context": "https://schema.org",
                                "@graph": [good, bad_licence]}), encoding="utf-8")
    code, out = run("materials", "import", str(path))
    assert code == 1
    assert "entry 2 (bad-1): license:" in out and "nothing was changed" in out
    path.write_text(json.dumps([good, bad_city]), encoding="utf-8")
    code, out = run("materials", "import", str(path))
    assert code == 1 and "entry 2 (bad-2): sourceOrganization: no city 'atlantis'" in out, out
    with session_factory() as db:
        assert db.scalar(select(func.count(Material.id))) == 0
    path.write_text(json.dumps([good]), encoding="utf-8")
    code, out = run("materials", "import", str(path))
    assert code == 0, out
    with session_factory() as db:
        assert db.scalar(select(func.count(Material.id))) == 1


def test_every_field_problem_is_reported() -> None:
    entry = {"@type": "LearningResource", "identifier": "x", "url": "https://example.org/x",
             "license": "https://creativecommons.org/publicdomain/zero/1.0/", "author": "B",
             "name": [{"@language": "fr", "@value": "Bonjour"}]}
    with pytest.raises(JsonLdError) as caught:
        from_jsonld([entry, {"@type": "Book"}, entry], "in.jsonld")
    text = str(caught.value)
    assert "in.jsonld: entry 1 (x): name: language 'fr' is not zh-TW or en" in text
    assert "entry 2: @type: must be LearningResource" in text
    assert "entry 3 (x): name:" in text
