"""Fixtures shared by every test: fresh migrated databases on SQLite and, when configured, PostgreSQL.

Tests that use ``engine`` (or ``session_factory``) run once per backend, with ids ``[sqlite]`` and
``[postgresql]``.  The PostgreSQL run needs ``ITEMBANK_TEST_DATABASE_URL`` (``.ci/run`` and
``./test.sh`` set it when a server answers on 127.0.0.1:5432); without it those tests are skipped
with that reason, and the summary at the end says so in plain words.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from tests import memo

memo.install()  # before the product modules bind the remembered functions (see tests/memo.py)

from itembank import (  # noqa: E402
    all_models,  # noqa: F401  (every table on Base.metadata)
    config,
)
from itembank.db import Base, make_engine  # noqa: E402
from itembank.db import session_factory as make_session_factory  # noqa: E402
from itembank.migrate import upgrade  # noqa: E402

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED = REPO.parent / "shared"
TEST_UNITS = TESTS / "data" / "units"

_SETTINGS = config.load()
_PG_URL = _SETTINGS.test_database_url
_pg_counts = {"passed": 0, "failed": 0, "skipped": 0}


def shared_path(*parts: str) -> Path:
    """A path in ../shared; fails (never skips) when the shared folder is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests need ../shared beside the repository")
    return path


# -- SQLite: one migrated template per test session, copied for each test -----------------------
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


# -- PostgreSQL: one fresh database per test session, tables emptied between tests --------------
@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    if not _PG_URL:
        pytest.skip("PostgreSQL not tested: ITEMBANK_TEST_DATABASE_URL is not set")
    base = make_url(_PG_URL)
    name = f"itembank_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, fully migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "itembank.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_pg_database")
    _truncate(url)
    yield url


def _truncate(url: str) -> None:
    engine = make_engine(url)
    # bank_revision keeps its row: its count only grows, so no bank cached in an earlier test
    # matches a later one's
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name != "bank_revision")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def _sqlite_with(template: Path, folder: Path) -> Path:
    """A copy of the migrated template with ``folder``'s units imported (built once per session)."""
    from itembank.bank.importer import import_paths

    path = template.parent / f"with-{folder.name}.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        shutil.copy(template, path)
        with make_session_factory(engine)() as session, session.begin():
            import_paths(session, [folder])
    finally:
        engine.dispose()
    return path


@pytest.fixture(scope="session")
def _sqlite_test_units(_sqlite_template: Path) -> Path:
    return _sqlite_with(_sqlite_template, TEST_UNITS)


@pytest.fixture(scope="session")
def _sqlite_items(_sqlite_template: Path) -> Path:
    return _sqlite_with(_sqlite_template, REPO / "items")


def import_bank(request: pytest.FixtureRequest, factory: sessionmaker[Session], folder: Path) -> None:
    """Import ``folder``'s units into the test's database.  On SQLite, when nothing was stored yet,
    the database file is replaced by a copy of one imported once per test session (the same rows:
    the import is deterministic), which saves the import in hundreds of tests; otherwise (or on
    PostgreSQL) the units are imported."""
    from itembank.bank.importer import import_paths
    from itembank.bank.models import Unit

    engine = factory.kw["bind"]
    cached = folder in (TEST_UNITS, REPO / "items")
    if cached:
        with factory() as session:
            empty = session.query(Unit.id).first() is None and not any(
                session.execute(text(f'SELECT 1 FROM "{t.name}" LIMIT 1')).first()
                for t in Base.metadata.sorted_tables if t.name not in _NOT_BANK_ROWS)
        cached = empty
    if cached and engine.dialect.name == "sqlite" and engine.url.database:
        template = "_sqlite_test_units" if folder == TEST_UNITS else "_sqlite_items"
        engine.dispose()
        shutil.copy(request.getfixturevalue(template), engine.url.database)
        return
    if cached and engine.dialect.name == "postgresql" and folder in _pg_imported:
        _pg_restore(engine, _pg_imported[folder])
        return
    with factory() as session, session.begin():
        import_paths(session, [folder])
    if cached and engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            _pg_imported[folder] = {
                t.name: [dict(row._mapping) for row in conn.execute(t.select())]
                for t in Base.metadata.sorted_tables if t.name not in _NOT_BANK_ROWS}


# On PostgreSQL (tables emptied between tests) the rows an import of a folder wrote into an empty
# database are kept per test session and inserted again in later tests: the same rows (the import
# is deterministic), as the SQLite branch's copied file, in a tenth of the time.
_NOT_BANK_ROWS = ("alembic_version", "bank_revision")
_pg_imported: dict[Path, dict[str, list[dict[str, Any]]]] = {}


def _pg_restore(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:  # parents first
            if rows.get(table.name):
                conn.execute(table.insert(), rows[table.name])
        for table in Base.metadata.sorted_tables:  # the ids go on after the restored ones
            if rows.get(table.name) and "id" in table.c and isinstance(table.c.id.type, Integer):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:name, 'id'), "
                                  f'(SELECT MAX(id) FROM "{table.name}"))'),
                             {"name": f'"{table.name}"'})


@pytest.fixture
def demo_bank(request: pytest.FixtureRequest, session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The small test bank of tests/data/units imported into the database."""
    import_bank(request, session_factory, TEST_UNITS)
    return session_factory


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """One headless Chromium per test module (module scope: a test that drives its own
    ``sync_playwright()`` cannot run while another one is open)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch_chromium

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


# -- the longest modules first, so that two xdist workers finish together -------------------------
# A worker that picks up a 60 s browser flow in the last minute keeps the whole run waiting while
# the other one idles.  These modules hold the longest single tests (measured with
# ``--durations``, longest first); after them come the other modules with a ``slow`` or
# ``browser`` test, then the rest in their usual order.  Each module stays in one piece (its
# module-scoped fixtures, e.g. ``browser``, are built once).
LONGEST_FIRST = (
    "tests/load/test_load_short.py", "tests/webapp/test_manage_browser.py",
    "tests/faults/test_worker_kill.py", "tests/webapp/test_research_browser.py",
    "tests/webapp/test_language.py", "tests/faults/test_serving_faults.py",
    "tests/webapp/test_authoring_browser.py", "tests/itembank/cli/test_questionnaire_delivery.py",
    "tests/webapp/test_serve.py", "tests/webapp/test_printing.py",
    "tests/webapp/test_test_page_browser.py", "tests/webapp/test_printing_frozen.py",
    "tests/webapp/test_questionnaire_browser.py", "tests/webapp/test_research_design_browser.py",
    "tests/webapp/test_teach_browser.py", "tests/webapp/test_browser.py",
    "tests/webapp/test_materials_browser.py", "tests/security/test_image_entry_points.py",
    "tests/webapp/test_printing_browser.py", "tests/webapp/test_research_coding_browser.py",
    "tests/security/test_roles.py", "tests/itembank/paper/test_booklet_set.py",
    "tests/itembank/qti/test_faithful.py", "tests/itembank/qti/test_player_browser.py",
)  # fmt: skip


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    first_seen: dict[str, int] = {}
    slow: set[str] = set()
    for i, item in enumerate(items):
        module = item.nodeid.split("::")[0]
        first_seen.setdefault(module, i)
        if item.get_closest_marker("slow") or item.get_closest_marker("browser"):
            slow.add(module)

    def key(item: pytest.Item) -> tuple[int, int, int]:
        module = item.nodeid.split("::")[0]
        group = 0 if module in rank else 1 if module in slow else 2
        return group, rank.get(module, first_seen[module]), first_seen[module]

    items.sort(key=key)  # stable: a module's tests keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``-n 2`` hands out whole modules, in the order above, instead of single tests.

    xdist's default (``--dist load``) deals tests round-robin, one at a time, so both workers ran
    parts of nearly every module and each built that module's fixtures (Chromium, live servers,
    rendered booklets) once more.  Whole modules in collection order (``--dist loadfile`` without
    its reordering by test count) keep ``LONGEST_FIRST``; an explicit ``--dist`` other than
    ``load`` is left to xdist."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False  # keep LONGEST_FIRST, not "most tests first"
    return LoadFileScheduling(config, log)  # type: ignore[arg-type]


def pytest_collection_finish(session: pytest.Session) -> None:
    memo.rebind()  # modules first imported by test modules after tests/conftest.py


# -- say plainly whether PostgreSQL ran ----------------------------------------------------------
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "[postgresql" not in report.nodeid and "-postgresql" not in report.nodeid:
        return
    if report.when == "call" and report.passed:
        _pg_counts["passed"] += 1
    elif report.failed:
        _pg_counts["failed"] += 1
    elif report.skipped:
        _pg_counts["skipped"] += 1


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    write = terminalreporter.write_line
    if not _PG_URL:
        write("PostgreSQL: NOT TESTED - ITEMBANK_TEST_DATABASE_URL is not set; "
              f"{_pg_counts['skipped']} PostgreSQL test(s) skipped.", yellow=True, bold=True)
    else:
        shown = make_url(_PG_URL).render_as_string(hide_password=True)
        write(f"PostgreSQL ({shown}): {_pg_counts['passed']} passed, {_pg_counts['failed']} failed, "
              f"{_pg_counts['skipped']} skipped.", bold=True)
