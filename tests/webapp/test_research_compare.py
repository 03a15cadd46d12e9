"""A report compared with an earlier one on its job page: the earlier REPORT.json uploaded with
the linking error gives each group's change with its SE (as ``itembank report --compare-to``);
a file that is not a report, another reporting scale, another grouping or a bad linking error is
refused with a message in the reader's language, and nothing is computed; another researcher's
report cannot be compared."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from .test_research_report_job import compute, run_worker, world  # noqa: F401  (fixture)
from .test_scope import login


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _compare(client: FlaskClient, url: str, earlier: bytes, linking_error: str = "",
             name: str = "REPORT-2025.json"):  # type: ignore[no-untyped-def]
    token = _token(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/compare", data={"csrf_token": token, "linking_error": linking_error,
                                               "earlier": (io.BytesIO(earlier), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def report_url(client: FlaskClient, world: dict[str, str],  # noqa: F811
               session_factory: sessionmaker[Session]) -> str:
    login(client, "r-taipei")
    url = compute(client)
    run_worker(session_factory)
    return url


def test_the_change_since_an_earlier_report_with_the_linking_error(client: FlaskClient, report_url: str) -> None:
    client.get("/language/en")
    page = client.get(report_url).get_data(as_text=True)
    assert "Compare with an earlier report" in page and f'action="{report_url}/compare"' in page
    doc = client.get(f"{report_url}/report.json").get_json(force=True)
    assert doc["scale"]["mean"] == 500 and doc["scale"]["sd"] == 100
    earlier = json.loads(json.dumps(doc))  # last cycle: every mean 10 points lower
    earlier["overall"]["mean"] -= 10
    for g in earlier["groups"]:
        if not g.get("suppressed"):
            g["mean"] -= 10
    reply = _compare(client, report_url, json.dumps(earlier).encode(), "0.05")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200, html[:2000]
    table = html.split('class="data report-change"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*><th scope=\"row\">([^<]+)</th>(.*?)</tr>", table, re.S)
    assert [r[0] for r in rows] == ["All students", "penang", "taipei"]
    for label, cells in rows:
        assert "+10.0" in cells, (label, cells)
        se = float(re.search(r'<span class="se">\(([\d.]+)\)', cells).group(1))  # type: ignore[union-attr]
        group = doc["overall"] if label == "All students" else next(g for g in doc["groups"] if g["group"] == label)
        expected = math.sqrt(2 * group["se_mean"] ** 2 + 5.0**2)  # 0.05 logits = 5 points
        assert abs(se - expected) < 0.06, (label, se, expected)
    assert "0.050 logits = 5.00 points" in html and "No linking error was given" not in html
    # without a linking error: the note that the SEs are too small
    plain = _compare(client, report_url, json.dumps(earlier).encode()).get_data(as_text=True)
    assert "No linking error was given" in plain


def test_the_page_in_taiwanese_chinese(client: FlaskClient, report_url: str) -> None:
    client.get("/language/zh_Hant_TW")
    doc = client.get(f"{report_url}/report.json").get_data()
    html = _compare(client, report_url, doc).get_data(as_text=True)
    assert "與前次報告相比的變化" in html and "全體學生" in html and "未提供連結誤差" in html
    assert "Change since" not in html and "All students" not in html


@pytest.mark.parametrize(("language", "change", "linking_error", "words"), [
    ("en", "not json", "", "is not a JSON file"),
    ("zh_Hant_TW", "not json", "", "不是 JSON 檔案"),
    ("en", "scale", "", "is on another reporting scale (scale.mean differ)"),
    ("zh_Hant_TW", "scale", "", "不在同一個報告量尺上"),
    ("en", "grouping", "", "is grouped by another column"),
    ("en", "no groups", "", "is not a learning-outcome report (REPORT.json) of the item bank: groups"),
    ("en", "nested", "", "is not a learning-outcome report (REPORT.json) of the item bank: $"),
    ("en", "bom", "0.05", "Change since the earlier report"),
    ("zh_Hant_TW", "no groups", "", "不是題庫的學習成果報告"),
    ("en", "", "-1", "The linking error must be a number from 0 to 1.0 logits"),
    ("zh_Hant_TW", "", "abc", "連結誤差必須是 0 到 1.0 logit 之間的數字"),
])
def test_a_file_that_cannot_be_compared_is_refused_in_the_readers_language(
    client: FlaskClient, report_url: str, language: str, change: str, linking_error: str, words: str,
) -> None:
    client.get(f"/language/{language}")
    doc = client.get(f"{report_url}/report.json").get_json(force=True)
    if change == "scale":
        doc["scale"]["mean"] = 250
    elif change == "grouping":
        doc["inputs"]["group_by"] = "school"
    elif change == "no groups":
        del doc["groups"]
    body = b"{not json" if change == "not json" else json.dumps(doc).encode()
    if change == "nested":  # deeper than Python's parser follows
        body = b"[" * 100_000 + b"]" * 100_000
    elif change == "bom":  # a byte-order mark, as an editor on Windows writes it: read as JSON
        body = b"\xef\xbb\xbf" + body
    reply = _compare(client, report_url, body, linking_error)
    html = reply.get_data(as_text=True)
    if change == "bom":
        assert reply.status_code == 200 and words in html
        return
    assert reply.status_code == 400
    assert words in html, html.split('role="alert"', 1)[-1][:400]
    assert 'class="data report-change"' not in html


def test_another_researchers_report_cannot_be_compared(
    app: Flask, client: FlaskClient, report_url: str,
) -> None:
    doc = client.get(f"{report_url}/report.json").get_data()
    other = app.test_client()
    login(other, "r-penang")
    page = other.get("/research/reports").get_data(as_text=True)
    reply = other.post(f"{report_url}/compare", data={"csrf_token": _token(page),
                       "earlier": (io.BytesIO(doc), "REPORT.json")}, content_type="multipart/form-data")
    assert reply.status_code == 404
    assert client.post(f"{report_url}/compare", data={}).status_code == 400  # no CSRF token
