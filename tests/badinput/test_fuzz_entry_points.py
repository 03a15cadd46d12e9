"""Generated bodies, ids and files (hypothesis) at every upload and at id-taking URLs: never a 500.
Uploads: research data set, roster, paper answers, QTI package, stimulus image; ids: in the URLs
of units, tests, data sets, runs and API sessions (NUL, invalid UTF-8, huge, odd characters)."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.badinput.test_limits import people  # noqa: F401  (fixture)
from tests.webapp.conftest import app, csrf_token  # noqa: F401  (fixtures)

FEW = settings(max_examples=15, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

csv_like = st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), max_size=6).map(
        lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")),
    st.sampled_from([b"person_id,city\n\x00,1\n", b"\xef\xbb\xbf", b"a\r\rb\r", b'"' * 50, b"x" * 20_000 + b","]),
)
UPLOADS = {
    "data set": ("/research/", "/research/datasets", "file", "x.csv", {"name": "x"}),
    "roster": ("/manage/roster", "/manage/roster", "roster", "r.csv", {}),
    "qti": ("/author/qti/import", "/author/qti/import", "package", "p.zip", {}),
    "image": ("/author/units/T-02/edit", "/author/units/T-02/edit", "image_file", "i.svg",
              {"image_alt_zh": "圖", "image_alt_en": "a picture", "action": "save"}),
}


@pytest.mark.parametrize("entry", UPLOADS)
def test_generated_files_at_every_upload_are_never_a_500(people: Flask, entry: str) -> None:  # noqa: F811
    from tests.webapp.test_authoring import login

    client = people.test_client()
    login(client, "ada")
    page_url, url, field, filename, extra = UPLOADS[entry]
    token = csrf_token(client.get(page_url).get_data(as_text=True))

    @FEW
    @given(data=csv_like)
    def run(data: bytes) -> None:
        reply = client.post(url, data={"csrf_token": token, **extra, field: (io.BytesIO(data), filename)},
                            content_type="multipart/form-data")
        assert reply.status_code < 500, (entry, data[:80])

    run()


ids = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "%00", "x" * 5000, "%ff", "..", "T-01\x00"]))
ID_URLS = ["/author/units/{}", "/author/units/{}/v1/preview", "/manage/tests/{}/summary",
           "/research/datasets/{}.csv", "/research/reports?source=dataset:{}&grouping=school",
           "/api/v1/sessions/{}"]


@pytest.mark.parametrize("template", ID_URLS)
def test_generated_ids_in_urls_are_never_a_500(people: Flask, template: str) -> None:  # noqa: F811
    from tests.webapp.test_authoring import login

    client = people.test_client()
    login(client, "ada")

    @FEW
    @given(value=ids)
    def run(value: str) -> None:
        quoted = value if value.startswith("%") else quote(value.encode("utf-8", "surrogatepass"), safe="")
        reply = client.get(template.format(quoted))
        assert reply.status_code < 500, (template, value)

    run()


@FEW
@given(body=st.recursive(st.one_of(st.none(), st.text(max_size=20), st.integers()),
                         lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8))
def test_generated_api_bodies_with_nul_are_never_a_500(app: Flask, body: object) -> None:  # noqa: F811
    client = app.test_client()
    payload = {"test": "demo-cat\x00", "access_code": body, "student": "s\x00", "language": "en"}
    assert client.post("/api/v1/sessions", json=payload).status_code == 400
