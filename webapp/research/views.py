"""Pages of the ``research`` blueprint.  Every route requires the role researcher or admin, except
the coding pages, which teachers use too (over their own classes' responses only, by
:func:`itembank.research.scope.coding_clause`); the share coded twice stays with researchers."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import numpy as np
from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from itembank import config
from itembank.accounts import audit
from itembank.bank.models import Calibration
from itembank.db import unit_of_work
from itembank.delivery import practice, pretest
from itembank.delivery.models import Test
from itembank.delivery.student_view import render_markdown
from itembank.errors import DataFileError
from itembank.research import (
    calibration_runs,
    coding,
    dataset_design,
    datasets,
    jobs,
    plots,
    publish,
    report_job,
    reports,
)
from itembank.research.models import CalibrationRun, Dataset, Job, PlotCache, Publication
from itembank.research.scope import scope_for

from ..database import get_db
from ..i18n import current_language
from ..job_status import FAILURE_TEXTS, JOB_LABELS
from ..roles import roles_required
from . import RESEARCH_ROLES, bp

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
GROUPING_LABELS = {
    "city": _l("City"), "school": _l("School"), "class": _l("Class"), "grade": _l("Grade"),
    "language": _l("Language"), "gender": _l("Gender"),
}
MODEL_CHOICES = {"rasch": "Rasch", "2pl": "2PL", "3pl": "3PL", "gpcm": "GPCM", "pcm": "PCM",
                 "grm": "GRM"}
TYPE_LABELS = {
    "single_choice": _l("Single choice"), "multiple_choice": _l("Multiple choice"),
    "complex_choice": _l("Complex choice"), "short_response": _l("Short response"),
    "open_response": _l("Open response"), "order": _l("Put in order"),
}
CREDIT_LABELS = {"full": _l("full credit"), "partial": _l("partial credit"),
                 "none": _l("no credit"), "missing": _l("missing")}
CODING_ERRORS = {
    "invalid": _l("The code was not saved: the form was not complete."),
    "no_response": _l("The code was not saved: there is no such open response."),
    "wrong_item": _l("The code was not saved: the response belongs to another item."),
    "unknown_code": _l("The code was not saved: choose one of the codes of the coding guide."),
    "already_coded": _l("The code was not saved: this response was coded meanwhile."),
    "own_code": _l("The code was not saved: you gave this response its first code; a second "
                   "coder must code it."),
    "not_lead": _l("The code was not saved: a disagreement is resolved by a lead coder who gave "
                   "neither code."),
}
research_required = roles_required(*RESEARCH_ROLES)
coder_required = roles_required(*coding.CODER_ROLES)


def _svg(text: str) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return response


def _download(text: str, filename: str, mimetype: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _min_group_size() -> int:
    return int(current_app.config.get("MIN_GROUP_SIZE") or config.load().min_group_size)


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"GROUPING_LABELS": GROUPING_LABELS, "JOB_LABELS": JOB_LABELS,
            "FAILURE_TEXTS": FAILURE_TEXTS, "TYPE_LABELS": TYPE_LABELS,
            "MODEL_CHOICES": MODEL_CHOICES}


# -- tests whose sessions are research data -----------------------------------------------------
def _research_tests(db: Any) -> list[Test]:
    """Every test but practice tests (whose sessions never enter research data)."""
    return [t for t in db.scalars(select(Test).order_by(Test.id)) if not practice.is_practice(t)]


def _research_test_or_404(db: Any, test_id: str) -> Test:
    test = db.get(Test, test_id)
    if test is None or practice.is_practice(test):
        abort(404)
    return test


# -- overview -----------------------------------------------------------------------------------
@bp.get("/")
@research_required
def index() -> str:
    db = get_db()
    sets = db.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
    runs = db.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc()).limit(20)).all()
    tests = _research_tests(db)
    seeding = [(t, counts) for t in tests if t.status != "archived"
               if (counts := pretest.unit_counts(db, t))]
    return render_template("research/index.html", datasets=sets, runs=runs, tests=tests,
                           seeding=seeding)


# -- data sets ----------------------------------------------------------------------------------
@bp.post("/datasets")
@research_required
def upload() -> Response | tuple[str, int]:
    db = get_db()
    file = request.files.get("file")
    name = (request.form.get("name") or "").strip()
    window = (request.form.get("window") or "").strip() or None
    if file is None or not file.filename:
        flash(_("Choose a CSV file to upload."), "error")
        return redirect(url_for("research.index"))
    data = file.read()
    try:
        with unit_of_work(db):
            ds = datasets.upload_dataset(db, data, file.filename, name=name or file.filename,
                                         window=window, created_by=current_user.id,
                                         replicates=_replicates_choice())
    except DataFileError as exc:
        db.rollback()
        sets = db.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
        runs = db.scalars(select(CalibrationRun).order_by(CalibrationRun.id.desc())).all()
        tests = _research_tests(db)
        return render_template("research/index.html", datasets=sets, runs=runs, tests=tests,
                               problems=exc.problems[:50], n_problems=len(exc.problems)), 422
    flash(_("Data set %(name)s stored: %(persons)s persons, %(responses)s responses.",
            name=ds.name, persons=ds.n_persons, responses=ds.n_responses), "info")
    return redirect(url_for("research.index"))


@bp.post("/datasets/from-test")
@research_required
def from_test() -> Response:
    db = get_db()
    test_id = request.form.get("test", "")
    _research_test_or_404(db, test_id)
    with unit_of_work(db):
        ds = datasets.dataset_from_sessions(db, test_id, name=f"{test_id} (online)",
                                            created_by=current_user.id)
    flash(_("Data set %(name)s stored: %(persons)s persons, %(responses)s responses.",
            name=ds.name, persons=ds.n_persons, responses=ds.n_responses), "info")
    return redirect(url_for("research.index"))


@bp.get("/datasets/<int:dataset_id>.csv")
@research_required
def export_csv(dataset_id: int) -> Response:
    db = get_db()
    if db.get(Dataset, dataset_id) is None:
        abort(404)
    where = {k: v for k in datasets.BACKGROUND_COLUMNS if (v := request.args.get(k))}
    matrix = datasets.load_matrix(db, [dataset_id], scope=scope_for(db, current_user), where=where)
    audit.record_now(db, current_user, "dataset.export", f"dataset:{dataset_id}", where)
    return _download(datasets.matrix_csv(matrix), f"dataset-{dataset_id}.csv", "text/csv")


@bp.get("/datasets/<int:dataset_id>/params.json")
@research_required
def export_bank_params(dataset_id: int) -> Response:
    db = get_db()
    ds = db.get(Dataset, dataset_id) or abort(404)
    records = calibration_runs.current_parameters(db, ds.item_ids)
    doc = {"items": [{k: r.get(k) for k in ("id", "model", "a", "b", "c", "se")} | {"fit": {}}
                     for _, r in sorted(records.items())],
           "population": {"mean": 0.0, "sd": 1.0}, "log_likelihood": None, "aic": None,
           "bic": None, "iterations": None, "converged": None}
    return _download(json.dumps(doc, indent=2, ensure_ascii=False), f"bank-params-{dataset_id}.json",
                     "application/json")


@bp.post("/online-calibration")
@research_required
def online_calibration() -> Response:
    """A data set of a test's online sessions and an anchored run that calibrates its pretest
    units on the bank's scale."""
    db = get_db()
    test_id = request.form.get("test", "")
    _research_test_or_404(db, test_id)
    with unit_of_work(db):
        run = calibration_runs.create_online_run(
            db, test_id, name=_("Online calibration of %(test)s", test=test_id),
            created_by=current_user.id)
        audit.record(db, current_user, "calibration.online", f"run:{run.id}", {"test": test_id})
    return redirect(url_for("research.run", run_id=run.id))


# -- calibration runs ---------------------------------------------------------------------------

_SETTINGS = [
    (re.compile(r"^choose at least one data set"), lambda m: _("Choose at least one data set.")),
    (re.compile(r"^no data set (\S+)"), lambda m: _("There is no data set %(id)s.", id=m.group(1))),
    (re.compile(r"^unknown item type or model (\w+): (\S+)"),
     lambda m: _("The model %(model)s cannot be used for %(type)s.", model=m.group(2), type=m.group(1))),
    (re.compile(r"^item (\S+) scores 0–(\d+): its type (\w+) needs a partial-credit model"),
     lambda m: _("Item %(item)s scores 0–%(n)s: choose a partial-credit model (GPCM or GRM) for %(type)s.",
                 item=m.group(1), n=m.group(2), type=m.group(3))),
    (re.compile(r"^unknown group column"), lambda m: _("Choose the groups of the DIF analysis from the list.")),
    (re.compile(r"^give two different groups"), lambda m: _("Give two different groups to compare.")),
]


def settings_message(message: str) -> str:
    """A calibration run's settings problem (:class:`RunSettingsError`) in the page's language."""
    for pattern, make in _SETTINGS:
        match = pattern.search(message)
        if match:
            return str(make(match))
    return message


@bp.route("/runs/new", methods=["GET", "POST"])
@research_required
def new_run() -> Response | str | tuple[str, int]:
    db = get_db()
    sets = db.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
    error = field = None
    form = request.form
    if request.method == "POST":
        ids = [int(x) for x in form.getlist("datasets") if x.isdigit()]
        models = {t: form.get(f"model_{t}", calibration_runs.DEFAULT_MODELS[t])
                  for t in calibration_runs.ITEM_TYPES}
        dif = None
        if form.get("dif_group"):
            dif = {"group": form["dif_group"], "reference": form.get("dif_reference", "").strip(),
                   "focal": form.get("dif_focal", "").strip()}
        try:
            with unit_of_work(db):
                run = calibration_runs.create_run(
                    db, name=form.get("name", "").strip() or _("Calibration run"),
                    dataset_ids=ids, models=models, anchor=bool(form.get("anchor")), dif=dif,
                    created_by=current_user.id)
            return redirect(url_for("research.run", run_id=run.id))
        except calibration_runs.RunSettingsError as exc:
            db.rollback()
            error, field = settings_message(str(exc)), exc.field
    return render_template("research/new_run.html", datasets=sets, error=error, field=field,
                           form=form, defaults=calibration_runs.DEFAULT_MODELS,
                           types=calibration_runs.ITEM_TYPES,
                           groups=calibration_runs.GROUP_COLUMNS), (422 if error else 200)


def _run_or_404(run_id: int) -> CalibrationRun:
    run = get_db().get(CalibrationRun, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/runs/<int:run_id>")
@research_required
def run(run_id: int) -> str:
    r = _run_or_404(run_id)
    items = (r.result or {}).get("items", [])
    flagged = sum(1 for e in items if (e.get("fit") or {}).get("flags")
                  or (e.get("fit") or {}).get("fit_flags")
                  or (e.get("dif") or {}).get("ets_class") in ("B", "C", "BB", "CC"))
    waiting = jobs.waiting_for_worker(get_db(), r.job)
    return render_template("research/run.html", run=r, job=r.job, items=items, flagged=flagged,
                           waiting=waiting)


def _run_plot(r: CalibrationRun, name: str) -> str:
    assert r.result is not None
    items = r.result["items"]
    if name == "information":
        return plots.information_svg(items, title=_("Test information"), x_label="θ",
                                     y_label=_("Information"), se_label=_("Standard error"))
    if name == "wright":
        return plots.wright_map_svg(r.result.get("theta", []), items, title=_("Wright map"),
                                    persons_label=_("Persons (EAP θ)"),
                                    items_label=_("Item difficulties"), y_label="θ")
    if name.startswith("icc-"):
        item_id = name[4:]
        record = next((e for e in items if e["id"] == item_id), None)
        if record is None:
            abort(404)
        matrix = datasets.load_matrix(get_db(), r.settings["datasets"])
        if item_id not in matrix.item_ids:
            abort(404)
        theta = np.asarray(r.result.get("theta", []), float)
        if theta.shape[0] != len(matrix.persons):
            theta = np.full(len(matrix.persons), np.nan)
        scores = matrix.scores[:, matrix.item_ids.index(item_id)]
        return plots.icc_svg(record, theta, scores, title=item_id, x_label=_("θ (EAP)"),
                             y_label=_("Expected score"), observed_label=_("Observed mean"),
                             model_label=_("Model"))
    abort(404)


@bp.get("/runs/<int:run_id>/plots/<name>.svg")
@research_required
def run_plot(run_id: int, name: str) -> Response:
    r = _run_or_404(run_id)
    if r.result is None:
        abort(404)
    db = get_db()
    key = f"{name}@{current_language()}"
    cached = db.scalars(select(PlotCache).where(PlotCache.run_id == r.id,
                                                PlotCache.name == key)).first()
    if cached is not None:
        return _svg(cached.svg)
    svg = _run_plot(r, name)
    try:
        with unit_of_work(db):
            db.add(PlotCache(run_id=r.id, name=key, svg=svg))
    except Exception:  # noqa: BLE001  a concurrent request cached it first: serve ours
        db.rollback()
    return _svg(svg)


@bp.get("/runs/<int:run_id>/params.json")
@research_required
def run_params(run_id: int) -> Response:
    r = _run_or_404(run_id)
    if r.result is None:
        abort(404)
    doc = {k: v for k, v in r.result.items() if k != "theta"}
    return _download(json.dumps(doc, indent=2, ensure_ascii=False), f"run-{run_id}-params.json",
                     "application/json")


@bp.route("/runs/<int:run_id>/publish", methods=["GET", "POST"])
@research_required
def publish_run(run_id: int) -> Response | str:
    db = get_db()
    r = _run_or_404(run_id)
    if r.result is None:
        flash(_("The run has not finished yet."), "error")
        return redirect(url_for("research.run", run_id=run_id))
    if request.method == "POST":
        with unit_of_work(db):
            pub = publish.publish(db, r, user_id=current_user.id)
            audit.record(db, current_user, "calibration.publish", f"run:{run_id}",
                         {"calibration": pub.calibration_id})
        flash(_("Published as calibration %(id)s (publication %(n)s).", id=pub.calibration_id,
                n=pub.number), "info")
        return redirect(url_for("research.calibrations"))
    comparison = publish.compare(db, r)
    return render_template("research/publish.html", run=r, c=comparison)


@bp.get("/calibrations")
@research_required
def calibrations() -> str:
    db = get_db()
    pubs = db.scalars(select(Publication).order_by(Publication.number.desc())).all()
    return render_template("research/calibrations.html", rows=publish.calibrations(db), pubs=pubs)


@bp.post("/calibrations/restore")
@research_required
def restore() -> Response:
    db = get_db()
    cal_id = request.form.get("calibration", "")
    if db.get(Calibration, cal_id) is None:
        abort(404)
    with unit_of_work(db):
        pub = publish.restore(db, cal_id, user_id=current_user.id)
        audit.record(db, current_user, "calibration.restore", f"calibration:{cal_id}")
    flash(_("Calibration %(id)s restored (publication %(n)s).", id=cal_id, n=pub.number), "info")
    return redirect(url_for("research.calibrations"))


# -- coding -------------------------------------------------------------------------------------
@bp.route("/coding", methods=["GET", "POST"])
@coder_required
def coding_overview() -> Response | str:
    db = get_db()
    if request.method == "POST":
        if current_user.role not in coding.SHARE_ROLES:
            g.required_roles = coding.SHARE_ROLES  # for the 403 page: which roles would do
            abort(403)
        try:
            share = float(request.form.get("share", "")) / 100
            with unit_of_work(db):
                coding.set_double_share(db, share)
            flash(_("Settings saved."), "info")
        except (ValueError, coding.CodingError):
            db.rollback()
            flash(_("Give the share coded twice as a percentage from 0 to 100."), "error")
        return redirect(url_for("research.coding_overview"))
    return render_template("research/coding.html", rows=coding.item_overview(db, viewer=current_user),
                           share=coding.double_share(db), researcher=_researcher())


def _researcher() -> bool:
    """Whether the coding pages show the research menu and settings (teachers code only)."""
    return bool(current_user.role in RESEARCH_ROLES)


@bp.route("/coding/<item_id>", methods=["GET", "POST"])
@coder_required
def code_item(item_id: str) -> Response | str:
    db = get_db()
    if request.method == "POST":
        try:
            with unit_of_work(db):
                coding.give_code(db, int(request.form.get("response", "0")),
                                 request.form.get("kind", ""), request.form.get("code", ""),
                                 current_user.id, viewer=current_user, item_id=item_id)
            flash(_("Code saved."), "info")
        except coding.CodingError as exc:
            db.rollback()
            flash(str(CODING_ERRORS.get(exc.reason, CODING_ERRORS["invalid"])), "error")
        except ValueError:
            db.rollback()
            flash(str(CODING_ERRORS["invalid"]), "error")
        except IntegrityError:  # another coder saved the same kind of code on it just before
            db.rollback()
            flash(str(CODING_ERRORS["already_coded"]), "error")
        return redirect(url_for("research.code_item", item_id=item_id))
    task = coding.next_task(db, item_id, current_user.id, viewer=current_user)
    guide = coding.coding_guide(task.item_version) if task else []
    prompt = (task.item_version.content or {}).get("prompt", {}) if task else {}
    lang = current_language()

    def md(text: dict[str, str] | str | None) -> Markup:
        value = text.get(lang) or text.get("en") or "" if isinstance(text, dict) else text or ""
        return Markup(render_markdown(str(value)))  # sanitised by nh3 in render_markdown

    answer = task.response.response if task else None
    if answer is not None and not isinstance(answer, str):
        answer = json.dumps(answer, ensure_ascii=False)
    return render_template("research/code.html", item_id=item_id, task=task, guide=guide,
                           prompt=md(prompt), md=md, lang=lang, answer=(answer or "").strip(),
                           credit_labels=CREDIT_LABELS, researcher=_researcher(),
                           credits={c.get("code"): c.get("credit") for c in guide})


# -- learning-outcome reports -------------------------------------------------------------------
# A report is computed by a job (itembank.research.report_job) and stored: its page, charts and
# downloads read the stored result.  A GET with ?source=…&grouping=… still computes a small
# source inline (up to REPORT_INLINE_MAX_STUDENTS students, about 0.2 s), for links and bookmarks.
REPORT_STEPS = {
    "loading": _l("reading the data"),
    "questionnaire": _l("scaling the questionnaire indices"),
    "population-model": _l("population model and plausible values"),
    "estimates": _l("estimates with standard errors"),
    "correlations": _l("correlations with the questionnaire indices"),
    "students": _l("students' scores"),
    "storing": _l("storing the report"),
}


def _replicates_choice() -> str:
    """The replicate method of an upload's design columns (form field ``replicates``)."""
    method = request.form.get("replicates", "brr-fay")
    return method if method in dataset_design.BUILD_METHODS else "brr-fay"


def _inline_max() -> int:
    value = current_app.config.get("REPORT_INLINE_MAX_STUDENTS")
    return report_job.INLINE_MAX_STUDENTS if value is None else int(value)


def _report_from_args() -> tuple[reports.Report | None, dict[str, Any]]:
    """The report of ``?source=…&grouping=…`` computed inline when the source is small; None
    (and ``too_large`` with the number of students in the context) otherwise."""
    db = get_db()
    args = request.args
    grouping = args.get("grouping", "school")
    source = args.get("source", "")
    ctx: dict[str, Any] = {"grouping": grouping, "source": source}
    if not source or grouping not in reports.GROUPINGS:
        return None, ctx
    try:
        n = report_job.check_source(db, source)
    except report_job.UnknownSource:
        abort(404)
    if n > _inline_max():
        ctx["too_large"] = n
        return None, ctx
    inputs = report_job.load_inputs(db, current_user, source)
    rep = report_job.build(inputs, grouping, min_group_size=_min_group_size())
    rep.students = report_job.visible_students(db, rep, current_user, source)
    return rep, ctx


def _report_charts(rep: reports.Report) -> dict[str, str]:
    """The report's charts as data: URIs (a chart's own URL would be a request more)."""
    return {
        name: "data:image/svg+xml;base64," + base64.b64encode(_report_svg(rep, name).encode()).decode()
        for name in ("means", "levels", *(("trends",) if len(rep.windows) > 1 else ()))
    }


def _index_names(rep: reports.Report) -> dict[str, str]:
    lang = current_language()
    scales = (rep.questionnaire or {}).get("scales", []) + (rep.questionnaire or {}).get("too_few", [])
    return {s["id"]: s["name"].get(lang) or s["id"] for s in scales}


def _my_report_jobs(db: Any) -> list[Job]:
    """The user's ten latest report jobs that they may still open (same scope)."""
    me = report_job.ReportViewer.of(current_user)
    return [j for j in db.scalars(select(Job).where(Job.kind == report_job.JOB_KIND,
                                                    Job.created_by == current_user.id)
                                  .order_by(Job.id.desc()).limit(10))
            if (j.payload or {}).get("viewer") and report_job.ReportViewer.from_dict(j.payload["viewer"]) == me]


def _report_form_context(db: Any) -> dict[str, Any]:
    tests = _research_tests(db)
    sets = db.scalars(select(Dataset).order_by(Dataset.id.desc())).all()
    labels = {f"test:{t.id}": _("Test %(id)s (online sessions)", id=t.id) for t in tests} | {
        f"dataset:{d.id}": _("Data set #%(id)s %(name)s", id=d.id, name=d.name) for d in sets}
    return {"tests": tests, "datasets": sets, "source_labels": labels,
            "groupings": reports.GROUPINGS, "recent": _my_report_jobs(db)}


@bp.get("/reports")
@research_required
def report() -> str:
    db = get_db()
    rep, ctx = _report_from_args()
    query = request.args.to_dict()
    links = {} if rep is None else {
        "groups": url_for("research.report_csv", kind="groups", **query),
        "differences": url_for("research.report_csv", kind="differences", **query),
        "correlations": url_for("research.report_csv", kind="correlations", **query),
        "students": url_for("research.report_csv", kind="students", **query),
        "json": url_for("research.report_json", **query),
    }
    return render_template("research/report.html", report=rep, query=query, links=links,
                           charts={} if rep is None else _report_charts(rep),
                           index_names={} if rep is None else _index_names(rep),
                           **_report_form_context(db), **ctx)


@bp.post("/reports")
@research_required
def compute_report() -> Response:
    """Queue the report of the form's source and grouping, or reuse the user's job with the same
    inputs (same data, parameters and scope) while its result is kept; show the job."""
    db = get_db()
    source = request.form.get("source", "")
    grouping = request.form.get("grouping", "")
    if grouping not in reports.GROUPINGS:
        abort(400)
    try:
        report_job.check_source(db, source)
    except report_job.UnknownSource:
        abort(404)
    viewer = report_job.ReportViewer.of(current_user)
    key = report_job.report_key(db, viewer, source, grouping, _min_group_size())
    job = report_job.reusable_job(db, viewer, key,
                                  keep=timedelta(days=config.load().job_file_days))
    if job is None:
        with unit_of_work(db):
            job = report_job.enqueue_report(db, viewer, source, grouping,
                                            min_group_size=_min_group_size(), key=key)
    return redirect(url_for("research.report_job_page", job_id=job.id))


def _report_job_or_404(job_id: int) -> Job:
    """A report job of the current user, asked for with the scope they have now: another
    user's (another city's) is not found, nor one asked for before the user's role, city or
    school changed (its suppression counted the rows of the old scope)."""
    job = get_db().get(Job, job_id)
    if job is None or job.kind != report_job.JOB_KIND or job.created_by != current_user.id:
        abort(404)
    asked_as = report_job.ReportViewer.from_dict((job.payload or {}).get("viewer") or {"id": -1, "role": ""})
    if asked_as != report_job.ReportViewer.of(current_user):
        abort(404)
    return job


def _stored_report(job: Job) -> reports.Report:
    """The job's stored report, its students narrowed to the user's scope now; 404 when there
    is none (not finished, or deleted as too old)."""
    db = get_db()
    rep = report_job.load_report(db, job)
    if rep is None:
        abort(404)
    rep.students = report_job.visible_students(db, rep, current_user, job.payload["source"])
    return rep


@bp.get("/reports/jobs/<int:job_id>")
@research_required
def report_job_page(job_id: int) -> str:
    return _job_page(_report_job_or_404(job_id))


def _job_page(job: Job, compare_error: str | None = None) -> str:
    """The report job's page; ``compare_error``: why the earlier report could not be compared
    (:mod:`.compare_views`), shown above its form."""
    db = get_db()
    rep = None
    if job.status == "done":
        rep = report_job.load_report(db, job)
        if rep is not None:
            rep.students = report_job.visible_students(db, rep, current_user, job.payload["source"])
    links = {} if rep is None else {
        kind: url_for("research.report_job_csv", job_id=job.id, kind=kind)
        for kind in ("groups", "differences", "correlations", "students")
    } | {"json": url_for("research.report_job_json", job_id=job.id)}
    return render_template(
        "research/report_job.html", job=job, report=rep, links=links,
        source=job.payload.get("source"), grouping=job.payload.get("grouping"),
        waiting=jobs.waiting_for_worker(db, job), keep_days=config.load().job_file_days,
        charts={} if rep is None else _report_charts(rep),
        index_names={} if rep is None else _index_names(rep),
        job_message=str(REPORT_STEPS.get(job.message or "", job.message or "")),
        compare_error=compare_error, **_report_form_context(db))


@bp.get("/reports/chart-<name>.svg")
@research_required
def report_chart(name: str) -> Response:
    if name not in ("means", "levels", "trends"):
        abort(404)
    rep, _ctx = _report_from_args()
    if rep is None:
        abort(404)
    return _svg(_report_svg(rep, name))


@bp.get("/reports/jobs/<int:job_id>/chart-<name>.svg")
@research_required
def report_job_chart(job_id: int, name: str) -> Response:
    if name not in ("means", "levels", "trends"):
        abort(404)
    return _svg(_report_svg(_stored_report(_report_job_or_404(job_id)), name))


def _report_svg(rep: reports.Report, name: str) -> str:
    """Chart ``name`` ("means", "levels" or "trends") of a learning-outcome report."""
    label = str(GROUPING_LABELS.get(rep.grouping, rep.grouping))
    if name == "means":
        return plots.group_means_svg(rep.groups, title=_("Mean score by %(g)s", g=label),
                                     y_label=_("Scale score"))
    if name == "levels":
        return plots.level_shares_svg(rep.groups, rep.level_labels,
                                      title=_("Students at each level by %(g)s", g=label),
                                      x_label=_("Percent of students"))
    return plots.trend_svg(rep.trends, title=_("Trend by test window"),
                           y_label=_("Scale score"), x_label=_("Test window"))


CSV_KINDS = {"groups": reports.groups_csv, "students": reports.students_csv,
             "differences": reports.differences_csv, "correlations": reports.correlations_csv}


def inline_report_for_download() -> tuple[reports.Report, dict[str, Any]]:
    """The report of a ``?source=…&grouping=…`` download link, computed inline.  A source too
    large for that (a link made before it grew, or bookmarked) is not a 404: a browser is sent
    to the report page, which says so and offers Compute; another client gets 409 with the same
    explanation in the reader's language."""
    rep, ctx = _report_from_args()
    if rep is not None:
        return rep, ctx
    if "too_large" not in ctx:
        abort(404)
    # A browser's navigation names text/html in its Accept header; a script sends */* or none.
    if any(value == "text/html" and quality > 0 for value, quality in request.accept_mimetypes):
        abort(redirect(url_for("research.report", source=ctx["source"],
                               grouping=ctx["grouping"]), 303))
    text = _("These data have %(n)s students: their report is computed in the background. "
             "Compute it on the Learning outcomes page (%(url)s) and download the files from "
             "its job's page.", n=ctx["too_large"],
             url=url_for("research.report", source=ctx["source"], grouping=ctx["grouping"],
                         _external=True))
    abort(Response(text + "\n", 409, mimetype="text/plain"))


@bp.get("/reports/<kind>.csv")
@research_required
def report_csv(kind: str) -> Response:
    if kind not in CSV_KINDS:
        abort(404)
    rep, _ctx = inline_report_for_download()
    return _download(CSV_KINDS[kind](rep), f"report-{kind}-{rep.grouping}.csv", "text/csv")


@bp.get("/reports/jobs/<int:job_id>/<kind>.csv")
@research_required
def report_job_csv(job_id: int, kind: str) -> Response:
    if kind not in CSV_KINDS:
        abort(404)
    rep = _stored_report(_report_job_or_404(job_id))
    return _download(CSV_KINDS[kind](rep), f"report-{job_id}-{kind}-{rep.grouping}.csv",
                     "text/csv")


@bp.get("/reports/jobs/<int:job_id>/report.json")
@research_required
def report_job_json(job_id: int) -> Response:
    job = _report_job_or_404(job_id)
    rep = _stored_report(job)
    doc = reports.report_json(rep)
    doc["inputs"] = {"source": job.payload.get("source"), "group_by": rep.grouping,
                     "seed": rep.seed}
    return _download(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                     f"REPORT-{job_id}-{rep.grouping}.json", "application/json")
