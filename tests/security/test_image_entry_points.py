"""Every way an image enters the bank runs the one image check (itembank/bank/images.py with the
SVG rules of itembank/bank/svg.py): the editor's upload, YAML import, QTI import and restore from
an export.  A refused image is named, and nothing is stored; and what was stored before the check
existed (or got in around it) is neither fetched nor embedded when a booklet is printed or
previewed (a listener on 127.0.0.1 is never called)."""

from __future__ import annotations

import base64
import io
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from itembank.bank.exporter import export_bank
from itembank.bank.importer import import_paths, save_unit
from itembank.bank.models import MediaFile, Unit, UnitVersion
from itembank.bank.validation import load_bank
from itembank.errors import ProblemsError
from itembank.qti import package_files
from tests.conftest import TEST_UNITS
from tests.itembank.bank.test_resources import Listener
from tests.itembank.bank.test_svg import svg
from tests.webapp.test_authoring import PASSWORD, ROLES, upload
from tests.webapp.test_authoring import login as author_login
from webapp.database import get_db

OUTSIDE = "http://127.0.0.1:9/x.png"
WRAPPED = svg(f'<image href="{OUTSIDE}"/>')
BAD_SVGS = {
    "image http": svg(f'<image href="{OUTSIDE}" width="5" height="5"/>'),
    "image file": svg('<image href="file:///etc/hostname" width="5" height="5"/>'),
    "data svg wrapping external": svg(
        f'<image href="data:image/svg+xml;base64,{base64.b64encode(WRAPPED).decode()}"/>'),
    "style @im\\port": svg('<style>@im\\port "http://127.0.0.1:9/s.css";</style>'),
    "style u\\72l": svg('<rect style="fill:u\\72l(http://127.0.0.1:9/x)"/>'),
}


@pytest.fixture
def authors(app: Flask) -> Flask:
    from itembank.accounts.users import create_user

    with app.app_context():
        db = get_db()
        with db.begin():
            for name, role in ROLES.items():
                create_user(db, name, role, PASSWORD)
    return app


def media_count(app: Flask) -> int:
    with app.extensions["itembank_sessionmaker"]() as db:
        return db.scalar(select(func.count()).select_from(MediaFile)) or 0


def versions_count(app: Flask) -> int:
    with app.extensions["itembank_sessionmaker"]() as db:
        return db.scalar(select(func.count()).select_from(UnitVersion)) or 0


def bank_with_image(folder: Path, data: bytes) -> Path:
    """A copy of the test bank whose T-01 chart is ``data``."""
    shutil.copytree(TEST_UNITS, folder)
    (folder / "images" / "T-01-chart.svg").write_bytes(data)
    return folder


# -- the entry points -----------------------------------------------------------------------------
def via_upload(app: Flask, data: bytes, tmp: Path) -> str:
    client = app.test_client()
    author_login(client, "tina")
    reply = upload(client, "T-02", "chart.svg", data)
    assert reply.status_code == 422
    return reply.get_data(as_text=True)


def via_yaml_import(app: Flask, data: bytes, tmp: Path) -> str:
    folder = bank_with_image(tmp / "bank", data)
    with app.extensions["itembank_sessionmaker"]() as db, pytest.raises(ProblemsError) as caught:
        with db.begin():
            import_paths(db, [folder])
    return str(caught.value)


def via_qti_import(app: Flask, data: bytes, tmp: Path) -> str:
    bank = load_bank([TEST_UNITS])
    files = package_files([u.unit for u in bank.units], {u.unit.id: u.images for u in bank.units},
                          bank.calibrations)
    [path] = [p for p in files if p.endswith("T-01-chart.svg")]
    files[path] = data
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    client = app.test_client()
    author_login(client, "tina")
    page = client.get("/author/qti/import").get_data(as_text=True)
    from tests.webapp.conftest import csrf_token

    reply = client.post("/author/qti/import", data={"csrf_token": csrf_token(page),
                                                   "package": (io.BytesIO(buf.getvalue()), "bank.zip")},
                        content_type="multipart/form-data")
    assert reply.status_code == 422
    return reply.get_data(as_text=True)


def via_restore(app: Flask, data: bytes, tmp: Path) -> str:
    """Restore = ``itembank import`` of a folder ``itembank export`` wrote (docs/deployment.md)."""
    with app.extensions["itembank_sessionmaker"]() as db:
        export_bank(db, tmp / "backup")
    [chart] = list((tmp / "backup").rglob("*T-01-chart.svg"))
    chart.write_bytes(data)
    with app.extensions["itembank_sessionmaker"]() as db:
        # the backup is restored into an empty bank: drop the stored image so it must be read again
        with db.begin():
            db.execute(update(UnitVersion).values(media={}))
            db.execute(MediaFile.__table__.delete())
    with app.extensions["itembank_sessionmaker"]() as db, pytest.raises(ProblemsError) as caught:
        with db.begin():
            import_paths(db, [tmp / "backup"])
    return str(caught.value)


ENTRY_POINTS: dict[str, Callable[[Flask, bytes, Path], str]] = {
    "upload": via_upload, "yaml import": via_yaml_import, "qti import": via_qti_import, "restore": via_restore,
}


@pytest.mark.parametrize("attack", BAD_SVGS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_way_in_refuses_an_svg_that_points_outside(authors: Flask, tmp_path: Path, entry: str,
                                                         attack: str) -> None:
    media, versions = media_count(authors), versions_count(authors)
    message = ENTRY_POINTS[entry](authors, BAD_SVGS[attack], tmp_path)
    assert "SVG" in message
    if entry == "restore":
        assert media_count(authors) == 0  # the drop above, and nothing new
    else:
        assert media_count(authors) == media
    assert versions_count(authors) == versions


def test_the_store_itself_refuses_an_image_that_skipped_validation(app: Flask) -> None:
    """The last gate: save_unit (used by every way in) checks what it stores."""
    with app.extensions["itembank_sessionmaker"]() as db:
        unit = load_bank([TEST_UNITS]).units[0].unit
        with pytest.raises(ProblemsError, match="SVG"), db.begin():
            save_unit(db, unit, images={"images/T-01-chart.svg": BAD_SVGS["image http"]})


# -- printing what got in before the check ----------------------------------------------------------
@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def poisoned(authors: Flask, listener: Listener) -> Flask:
    """The stored chart of T-01 replaced (as if stored before the check) by an SVG pointing at the
    listener and at a local file."""
    data = svg(f'<image href="{listener.url}/stored" width="5" height="5"/>'
               '<image href="file:///etc/hostname" width="5" height="5"/>')
    with authors.extensions["itembank_sessionmaker"]() as db, db.begin():
        for version in db.get(Unit, "T-01").versions:
            for digest in version.media.values():
                db.execute(update(MediaFile).where(MediaFile.sha256 == digest).values(data=data))
    return authors


def teacher(app: Flask) -> FlaskClient:
    from tests.webapp.test_scope import add_user, login

    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        add_user(db, "printer", "admin")
    client = app.test_client()
    login(client, "printer")
    return client


PRINT_URLS = ["/print/booklets/{n}.pdf", "/print/booklets/{n}/preview",
              "/author/units/T-01/v1/print?lang=en"]


@pytest.mark.parametrize("url", PRINT_URLS)
def test_printing_fetches_nothing_a_stored_image_points_at(poisoned: Flask, listener: Listener, url: str) -> None:
    client = teacher(poisoned)
    index = client.get("/print/").get_data(as_text=True)
    # a booklet that holds T-01 (its row in the design table): the others, and T-01 in another
    # position (a unit's fragment is rendered once and reused), run the same renderer again
    rows = re.findall(r"<tr>(.*?)</tr>", index, flags=re.S)
    booklets = sorted({int(n) for row in rows if "T-01" in row
                       for n in re.findall(r"/print/booklets/(\d+)\.pdf", row)})
    assert booklets
    for n in booklets[:1] if "{n}" in url else [0]:
        reply = client.get(url.format(n=n))
        assert reply.status_code == 200, url
        body = reply.get_data()
        assert b"/etc/hostname" not in body
        if url.endswith("/print?lang=en"):
            assert b"data:image/svg+xml" not in body  # the refused drawing is not embedded
    assert listener.requests == []
