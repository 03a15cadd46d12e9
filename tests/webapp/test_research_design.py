"""A data set's survey design in the research pages, on SQLite and PostgreSQL: an upload with
weight and stratum columns, the report page and REPORT.json with design-based SEs — the same
numbers as ``itembank report`` on the same responses, parameters and design (known answer) —
a design CSV attached on the data set page (refused with FILE:ROW:COLUMN when bad), and the
simple-random-sampling notice when there is no design."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from itembank.accounts.users import create_user
from itembank.bank.models import Calibration
from itembank.cli.report import report_command
from itembank.research.models import Dataset

from ..conftest import REPO, import_bank
from ..itembank.research.research_data import field_trial_csv
from .conftest import csrf_token

N_PERSONS = 400
SEED = 20261125  # the web reports' seed (itembank/research/report_job.py SEED)


@pytest.fixture
def research_client(request: pytest.FixtureRequest, app: Flask, session_factory: sessionmaker[Session]) -> FlaskClient:
    import_bank(request, session_factory, REPO / "items")  # a copy of one import (SQLite)
    with session_factory() as s, s.begin():
        # the data mix the cities penang and taipei: only an admin sees (and may weigh) every row;
        # a city's researcher sees its own rows (tests/webapp/test_research_coding.py)
        create_user(s, "rita", "admin", "a-long-password-1")
    client = app.test_client()
    page = client.get("/auth/login")
    client.post("/auth/login", data={"username": "rita", "password": "a-long-password-1",
                                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    return client


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(field_trial_csv(12, N_PERSONS).decode())))


def _weight(k: int) -> str:
    return ("1", "1.5", "2.25")[k % 3]


def _upload_csv(rows: list[dict[str, str]]) -> bytes:
    """The field-trial rows with a final weight and the city as explicit stratum (the school is
    the PSU)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    head = list(rows[0])
    w.writerow(["person_id", "weight", "stratum", *head[1:]])
    for k, r in enumerate(rows):
        w.writerow([r["person_id"], _weight(k), r["city"], *(r[h] for h in head[1:])])
    return out.getvalue().encode()


def _post_upload(c: FlaskClient, data: bytes, name: str, replicates: str) -> str:
    token = csrf_token(c.get("/research/").get_data(as_text=True))
    r = c.post("/research/datasets", data={"csrf_token": token, "name": name,
                                           "window": "2026-05", "replicates": replicates,
                                           "file": (io.BytesIO(data), f"{name}.csv")},
               content_type="multipart/form-data", follow_redirects=True)
    return r.get_data(as_text=True) + f"\n[status {r.status_code}]"


def _cli_report(tmp: Path, rows: list[dict[str, str]], params: dict, replicates: str, *extra: str) -> dict:
    """``itembank report`` on the same students, parameters and design."""
    items = [e["id"] for e in params["items"]]
    responses, background = tmp / "responses.csv", tmp / "background.csv"
    with responses.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", *items])
        for r in rows:
            w.writerow([r["person_id"], *(r.get(i, "") for i in items)])
    with background.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "gender", "weight", "stratum", "school"])
        for k, r in enumerate(rows):
            w.writerow([r["person_id"], r["gender"], _weight(k), r["city"], r["school"]])
    (tmp / "params.json").write_text(json.dumps(params), encoding="utf-8")
    out = tmp / "REPORT.json"
    result = CliRunner().invoke(report_command, [
        str(responses), "--params", str(tmp / "params.json"), "--background", str(background),
        "--weight", "weight", "--replicates", replicates, "--stratum", "stratum", "--psu", "school",
        "--condition-on", "gender", "--group-by", "gender", "--seed", str(SEED), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("replicates", ["brr-fay", "jk2"])
def test_the_web_report_has_the_standard_errors_of_itembank_report(
    research_client: FlaskClient, session_factory: sessionmaker[Session], tmp_path: Path,
    replicates: str,
) -> None:
    c = research_client
    rows = _rows()
    page = _post_upload(c, _upload_csv(rows), "designed", replicates)
    assert "[status 200]" in page and str(N_PERSONS) in page
    web = json.loads(c.get("/research/reports/report.json?source=dataset:1&grouping=gender").data)
    params = json.loads(c.get("/research/datasets/1/params.json").data)
    with session_factory() as s:  # the population of the bank's calibration, as the web uses it
        cal = s.scalars(select(Calibration)).first()
        if cal is not None:
            params["population"] = {"mean": cal.population_mean, "sd": cal.population_sd}
    cli = _cli_report(tmp_path, rows, params, replicates)
    assert web["scale"] == cli["scale"]  # a later report can be compared with this one
    assert web["variance_estimation"]["method"] == replicates
    assert web["variance_estimation"]["replicates"] == cli["variance_estimation"]["replicates"]
    assert not web["variance_estimation"]["assumes_simple_random_sampling"]
    web_groups = {g["group"]: g for g in web["groups"]}
    assert set(web_groups) == {"female", "male"}
    # figures by test window are "windows"; "trends" is the CLI's (--compare-to) and absent here
    assert "trends" not in web and "trends" not in cli
    assert {w["group"] for w in web["windows"]} <= {"female", "male"}
    for g in cli["groups"]:
        w = web_groups[g["group"]]
        for key in ("n", "mean", "se_mean", "sd", "se_sd", "ci95_mean"):
            assert w[key] == g[key], (g["group"], key, w[key], g[key])
        assert [lv["se_percent"] for lv in w["levels"]] == [lv["se_percent"] for lv in g["levels"]]
        assert [lv["percent"] for lv in w["levels"]] == [lv["percent"] for lv in g["levels"]]
    (wd,), (cd,) = web["differences"], cli["differences"]
    assert (wd["difference"], wd["se_difference"], wd["significant"]) == \
        (cd["difference"], cd["se_difference"], cd["significant"])
    assert web["groups"][0]["se_mean"] > 0
    # the page and the CSV carry the same SEs
    page = c.get("/research/reports?source=dataset:1&grouping=gender").get_data(as_text=True)
    assert "簡單隨機抽樣" not in page and "抽樣設計" in page and "組間差異" in page
    female = web_groups["female"]
    assert f"{female['mean']:.1f}" in page or f"{female['mean'] + 0.001:.1f}" in page
    groups_csv = c.get("/research/reports/groups.csv?source=dataset:1&grouping=gender")
    header, *lines = groups_csv.get_data(as_text=True).splitlines()
    assert header.startswith("gender,window,n,mean,se,ci95_low,ci95_high,sd,se_sd,")
    by = {ln.split(",")[0]: ln.split(",") for ln in lines if ln.split(",")[1] == ""}
    assert abs(float(by["female"][4]) - female["se_mean"]) < 0.006
    diff_csv = c.get("/research/reports/differences.csv?source=dataset:1&grouping=gender")
    assert diff_csv.get_data(as_text=True).startswith("group_a,group_b,difference,se,")
    if replicates == "jk2":  # next cycle's `itembank report --compare-to` takes the web download
        earlier = tmp_path / "REPORT-web.json"
        earlier.write_bytes(c.get("/research/reports/report.json?source=dataset:1&grouping=gender").data)
        later = _cli_report(tmp_path, rows, params, replicates, "--compare-to", str(earlier),
                            "--linking-error", "0.05")
        trends = {t["group"]: t for t in later["trends"]["groups"]}
        assert set(trends) == {"female", "male"} and later["trends_missing"] == []
        for group, t in trends.items():  # the same students: no change, and its SE holds the link's
            assert t["change"] == 0 and t["se_change"] > 5.0, (group, t)


def test_a_design_attached_on_the_data_set_page(research_client: FlaskClient) -> None:
    c = research_client
    rows = _rows()
    plain = field_trial_csv(12, N_PERSONS)
    assert "[status 200]" in _post_upload(c, plain, "plain", "brr-fay")
    c.set_cookie("lang", "en")
    report = c.get("/research/reports?source=dataset:1&grouping=gender").get_data(as_text=True)
    assert "Standard errors assume simple random sampling" in report
    page = c.get("/research/datasets/1").get_data(as_text=True)
    assert "No survey design" in page and "Attach a design" in page
    upload_head = c.get("/research/datasets/template.csv").get_data(as_text=True).splitlines()[0]
    assert upload_head.startswith("person_id,city,school,class,grade,language,gender,window,"
                                  "weight,stratum,psu,") and "GC-001-Q1" in upload_head
    template = c.get("/research/datasets/1/design-template.csv").get_data(as_text=True)
    assert template.splitlines()[0] == "person_id,weight,stratum,psu"
    assert template.splitlines()[1] == f"{rows[0]['person_id']},,,{rows[0]['school']}"
    token = csrf_token(page)

    def attach(text: str) -> tuple[int, str]:
        r = c.post("/research/datasets/1/design",
                   data={"csrf_token": token, "replicates": "jk2",
                         "file": (io.BytesIO(text.encode()), "design.csv")},
                   content_type="multipart/form-data", follow_redirects=True)
        return r.status_code, r.get_data(as_text=True)

    bad = "person_id,weight,stratum\n" + "".join(
        f"{r['person_id']},{'-2' if k == 3 else '1'},{r['city']}\n" for k, r in enumerate(rows))
    status, text = attach(bad)
    assert status == 422 and "design.csv:5:2</code> weight: weight must be a number ≥ 0" in text
    assert "No survey design" in text  # nothing was stored
    good = "person_id,weight,stratum\n" + "".join(
        f"{r['person_id']},{_weight(k)},{r['city']}\n" for k, r in enumerate(rows))
    status, text = attach(good)
    assert status == 200 and "JK2" in text and "Remove the design" in text
    report = c.get("/research/reports?source=dataset:1&grouping=gender").get_data(as_text=True)
    assert "Standard errors assume simple random sampling" not in report
    assert "Standard errors from the survey design of the data set (JK2" in report
    doc = json.loads(c.get("/research/reports/report.json?source=dataset:1&grouping=gender").data)
    assert doc["variance_estimation"]["method"] == "jk2"
    r = c.post("/research/datasets/1/design/remove", data={"csrf_token": token},
               follow_redirects=True)
    assert r.status_code == 200 and "No survey design" in r.get_data(as_text=True)
    # without a CSRF token nothing changes
    assert c.post("/research/datasets/1/design", data={"replicates": "jk2"}).status_code == 400


def test_a_design_upload_with_a_bad_row_is_refused(research_client: FlaskClient,
                                                  session_factory: sessionmaker[Session]) -> None:
    rows = _rows()
    data = _upload_csv(rows).decode().splitlines()
    cells = data[2].split(",")
    cells[2] = ""  # the second person has no stratum
    data[2] = ",".join(cells)
    text = _post_upload(research_client, "\n".join(data).encode(), "bad", "brr-fay")
    assert "[status 422]" in text and "bad.csv:3:3</code> stratum: empty stratum" in text
    with session_factory() as s:
        assert s.scalars(select(Dataset)).first() is None


def test_a_city_researcher_neither_weighs_nor_lists_another_citys_persons(
    app: Flask, research_client: FlaskClient, session_factory: sessionmaker[Session]
) -> None:
    """The design pages follow the research scope: a researcher of taipei lists only taipei's
    persons in the design template and may not attach or remove a design of a data set that also
    holds penang's persons (404, nothing changed)."""
    from itembank.orgs.roster import import_roster

    rows = _rows()
    assert "[status 200]" in _post_upload(research_client, field_trial_csv(12, N_PERSONS), "mixed", "brr-fay")
    with session_factory() as s, s.begin():
        import_roster(s, b"city,school,class,student_id,name,grade,language,gender\n"
                         b"taipei,taipei-01,8A,T001,Someone,8,zh-TW,\n", "taipei.csv")
        create_user(s, "tina", "researcher", "a-long-password-1", city="taipei")
    c = app.test_client()
    page = c.get("/auth/login")
    c.post("/auth/login", data={"username": "tina", "password": "a-long-password-1",
                                "csrf_token": csrf_token(page.get_data(as_text=True))})
    listed = c.get("/research/datasets/1/design-template.csv").get_data(as_text=True).splitlines()[1:]
    own = {r["person_id"] for r in rows if r["city"] == "taipei"}
    assert listed and {line.split(",")[0] for line in listed} == own  # taipei's, and only theirs
    token = csrf_token(c.get("/research/datasets/1").get_data(as_text=True))
    design = "person_id,weight\n" + "".join(f"{r['person_id']},2\n" for r in rows)
    reply = c.post("/research/datasets/1/design", data={
        "csrf_token": token, "replicates": "jk2", "file": (io.BytesIO(design.encode()), "d.csv")},
        content_type="multipart/form-data")
    assert reply.status_code == 404
    assert c.post("/research/datasets/1/design/remove", data={"csrf_token": token}).status_code == 404
    with session_factory() as s:
        ds = s.get(Dataset, 1)
        assert ds is not None and ds.replicate_method is None
