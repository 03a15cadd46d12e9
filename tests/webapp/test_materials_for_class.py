"""From a class's page to teaching materials for that class's results (issue 22, part 5): the
class page links each of its tests to the results by dimension and process of the class alone,
with approved materials on the weakest; another teacher's class is 404."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from .test_materials import _answers, approve, login, material_id, upload, world  # noqa: F401
from .test_scope import class_of


def _class_id(app: Flask, school: str, klass: str) -> int:
    with app.extensions["itembank_sessionmaker"]() as db:
        return class_of(db, school, klass).id


def test_a_class_page_suggests_materials_for_the_class_results(
    app: Flask, client: FlaskClient, world: None  # noqa: F811
) -> None:
    _answers(app)  # george 8A answered T-01 (understand_perspectives) badly
    login(client, "t-north")
    upload(client, title="Perspectives plan")
    approve(app, client, material_id(app, "Perspectives plan"))
    george, north801 = _class_id(app, "george", "8A"), _class_id(app, "north", "801")
    teacher = app.test_client()
    login(teacher, "t-george")
    page = teacher.get(f"/manage/classes/{george}").get_data(as_text=True)
    link = f'href="/materials/for-test/t-spring?class={george}"'
    assert "Results and teaching materials" in page and link in page
    results = teacher.get(f"/materials/for-test/t-spring?class={george}").get_data(as_text=True)
    assert "Class 8A" in results and ">weakest<" in results and "Perspectives plan" in results
    assert "<td>6</td><td>17%</td>" in results
    assert teacher.get(f"/materials/for-test/t-spring?class={north801}").status_code == 404
    assert teacher.get("/materials/for-test/t-spring?class=x").status_code == 404
    login(teacher, "t-george", "zh_Hant_TW")
    zh = teacher.get(f"/manage/classes/{george}").get_data(as_text=True)
    assert "結果與教學資源" in zh and "依「春季」結果推薦的教學資源" in zh
    assert "8A 班" in teacher.get(f"/materials/for-test/t-spring?class={george}").get_data(as_text=True)
    # an administrator sees every class: the class narrows the results to its own sessions
    admin = app.test_client()
    login(admin, "admin")
    assert "<td>6</td><td>17%</td>" in admin.get("/materials/for-test/t-spring").get_data(as_text=True)
    other = admin.get(f"/materials/for-test/t-spring?class={north801}").get_data(as_text=True)
    assert "17%" not in other and "There are not enough finished sessions yet." in other
