"""Pages of the ``research`` blueprint for a data set's survey design: the data set page with its
design, attaching a design CSV (person → weight, stratum, school) or removing it, the design
template, and the learning-outcome report as REPORT.json (the document of ``itembank report``).
The work is done by :mod:`itembank.research.dataset_design` and :mod:`itembank.research.reports`."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from itembank.accounts import audit
from itembank.bank import csv_export
from itembank.db import unit_of_work
from itembank.errors import DataFileError, Problem
from itembank.research import dataset_design, datasets, reports
from itembank.research.models import Dataset, DatasetPerson
from itembank.research.scope import Scope, restrict_dataset_persons

from ..database import get_db
from . import bp
from .views import _download, inline_report_for_download, research_required

METHOD_LABELS = {
    "jk2": _l("JK2 (paired schools, as TIMSS and PIRLS)"),
    "brr-fay": _l("BRR with Fay's factor 0.5 (as PISA)"),
    "given": _l("replicate weights given with the data"),
}


@bp.context_processor
def _design_labels() -> dict[str, Any]:
    return {"DESIGN_LABELS": METHOD_LABELS, "MAX_DIFFERENCE_GROUPS": reports.MAX_DIFFERENCE_GROUPS}


def _dataset_or_404(dataset_id: int) -> Dataset:
    ds = get_db().get(Dataset, dataset_id)
    if ds is None:
        abort(404)
    return ds


def _own_persons(stmt: Any) -> Any:
    """``stmt`` over data set persons narrowed to the rows the user may see (research scope)."""
    return restrict_dataset_persons(stmt, Scope(current_user))


def _may_manage(ds: Dataset) -> bool:
    """Whether the user may see every person of ``ds`` (the research scope decides, whoever made
    the data set): only then may they change its design, which changes every person's weight."""
    if current_user.role == "admin":
        return True
    db = get_db()
    total = db.scalar(select(func.count(DatasetPerson.id)).where(DatasetPerson.dataset_id == ds.id))
    seen = db.scalar(_own_persons(select(func.count(DatasetPerson.id))
                                  .where(DatasetPerson.dataset_id == ds.id)))
    return total == seen


def _design_counts(dataset_id: int) -> dict[str, float | int]:
    """Strata, schools given as PSUs, persons with a weight and the sum of the weights (totals,
    as reports give totals over rows a user may not list: itembank.research.scope)."""
    db = get_db()
    row = db.execute(
        select(func.count(func.distinct(DatasetPerson.stratum)),
               func.count(func.distinct(DatasetPerson.psu)),
               func.count(DatasetPerson.weight), func.sum(DatasetPerson.weight))
        .where(DatasetPerson.dataset_id == dataset_id)
    ).one()
    return {"strata": int(row[0] or 0), "psus": int(row[1] or 0), "weighted": int(row[2] or 0),
            "weight_sum": float(row[3] or 0.0)}


def _page(ds: Dataset, *, problems: list[Problem] | None = None,
          status: int = 200) -> tuple[str, int]:
    return render_template(
        "research/dataset.html", dataset=ds, counts=_design_counts(ds.id),
        methods=dataset_design.BUILD_METHODS, method_labels=METHOD_LABELS,
        problems=(problems or [])[:50], n_problems=len(problems or []),
    ), status


@bp.get("/datasets/<int:dataset_id>")
@research_required
def dataset(dataset_id: int) -> tuple[str, int]:
    return _page(_dataset_or_404(dataset_id))


@bp.post("/datasets/<int:dataset_id>/design")
@research_required
def attach_design(dataset_id: int) -> Response | tuple[str, int]:
    db = get_db()
    ds = _dataset_or_404(dataset_id)
    if not _may_manage(ds):  # persons of another city: not theirs to weigh
        abort(404)
    file = request.files.get("file")
    method = request.form.get("replicates", "brr-fay")
    if file is None or not file.filename:
        flash(_("Choose a CSV file to upload."), "error")
        return redirect(url_for("research.dataset", dataset_id=dataset_id))
    if method not in dataset_design.BUILD_METHODS:
        abort(400)
    data = file.read()
    try:
        with unit_of_work(db):
            parsed = dataset_design.attach_design_csv(db, ds, data, file.filename, method)
            audit.record(db, current_user, "dataset.design", f"dataset:{dataset_id}",
                         {"method": parsed.settings.get("method"), "file": file.filename})
    except DataFileError as exc:
        db.rollback()
        return _page(_dataset_or_404(dataset_id), problems=exc.problems, status=422)
    flash(_("Survey design attached to data set %(name)s.", name=ds.name), "info")
    return redirect(url_for("research.dataset", dataset_id=dataset_id))


@bp.post("/datasets/<int:dataset_id>/design/remove")
@research_required
def remove_design(dataset_id: int) -> Response:
    db = get_db()
    ds = _dataset_or_404(dataset_id)
    if not _may_manage(ds):
        abort(404)
    with unit_of_work(db):
        dataset_design.remove_design(db, ds)
        audit.record(db, current_user, "dataset.design_removed", f"dataset:{dataset_id}")
    flash(_("The survey design was removed: standard errors of this data set now assume simple "
            "random sampling."), "info")
    return redirect(url_for("research.dataset", dataset_id=dataset_id))


@bp.get("/datasets/<int:dataset_id>/design-template.csv")
@research_required
def design_template(dataset_id: int) -> Response:
    """person_id of every person with its stored design, the school as psu when none is given."""
    db = get_db()
    ds = _dataset_or_404(dataset_id)
    import io

    out = io.StringIO()
    w = csv_export.writer(out)
    w.writerow(["person_id", *dataset_design.DESIGN_COLUMNS])
    persons = (select(DatasetPerson.person_id, DatasetPerson.weight, DatasetPerson.stratum,
                      DatasetPerson.psu, DatasetPerson.school)
               .where(DatasetPerson.dataset_id == dataset_id).order_by(DatasetPerson.id))
    for p in db.execute(persons if _may_manage(ds) else _own_persons(persons)):
        w.writerow([p.person_id, "" if p.weight is None else repr(p.weight), p.stratum or "",
                    p.psu or p.school or ""])
    return _download(out.getvalue(), f"design-{dataset_id}.csv", "text/csv")


@bp.get("/datasets/template.csv")
@research_required
def upload_template() -> Response:
    """The upload's header: person_id, background and survey design columns, the bank's items,
    with one example row (the design columns are optional; see docs/research.md)."""
    import io

    ids = sorted(datasets.latest_item_versions(get_db()))
    out = io.StringIO()
    w = csv_export.writer(out)
    head = ["person_id", *datasets.BACKGROUND_COLUMNS, *dataset_design.DESIGN_COLUMNS]
    w.writerow([*head, *ids])
    w.writerow(["P0001", "city-a", "school-01", "8A", "8", "en", "female", "2026-05", "1.25",
                "stratum-1", "school-01", *[""] * len(ids)])
    return _download(out.getvalue(), "dataset-template.csv", "text/csv")


@bp.get("/reports/report.json")
@research_required
def report_json() -> Response:
    rep, ctx = inline_report_for_download()
    doc = reports.report_json(rep)
    doc["inputs"] = {"source": ctx["source"], "group_by": rep.grouping, "seed": rep.seed}
    return _download(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                     f"REPORT-{rep.grouping}.json", "application/json")
