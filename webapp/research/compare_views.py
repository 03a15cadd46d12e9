"""A learning-outcome report compared with an earlier one (another cycle): the researcher uploads
the earlier REPORT.json (this page's download, or ``itembank report``'s) on the report's page and
reads the change of each group's mean with its standard error, the linking error included.  The
same computation as ``itembank report --compare-to`` (:mod:`itembank.research.survey_trends`)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from irt import reporting
from irt.reporting import ReportingScale
from itembank.research import reports, survey_trends

from . import bp
from .views import _job_page, _report_job_or_404, _stored_report, research_required

REASONS = {  # why a group has no trend, in the reader's language
    survey_trends.SUPPRESSED_HERE: _l("too few students to show in this report"),
    survey_trends.SUPPRESSED_EARLIER: _l("too few students to show in the earlier report"),
    survey_trends.NOT_EARLIER: _l("not in the earlier report"),
    survey_trends.NOT_HERE: _l("not in this report"),
}
MAX_LINKING_ERROR = 1.0  # logits: a linking error this large means the link failed


class CompareInputError(ValueError):
    """The form's earlier report or linking error cannot be used (the message says why)."""


def _scale(rep: reports.Report) -> ReportingScale:
    assert rep.scale is not None
    return reporting.from_dict(rep.scale)[0]


def _linking_error() -> float | None:
    text = (request.form.get("linking_error") or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_LINKING_ERROR):
        raise CompareInputError(_("The linking error must be a number from 0 to %(max)s logits, "
                                  "or left empty.", max=MAX_LINKING_ERROR))
    return value


def _earlier(rep: reports.Report) -> survey_trends.EarlierReport:
    upload = request.files.get("earlier")
    if upload is None or not upload.filename:
        raise CompareInputError(_("Choose the earlier report's REPORT.json file."))
    name = upload.filename
    try:  # the app's JSON (security.BoundedJSONProvider): too deep a nesting is a ValueError
        doc = current_app.json.loads(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CompareInputError(_("%(file)s is not a text file in UTF-8: choose the REPORT.json "
                                  "downloaded from a report page or written by itembank report.",
                                  file=name)) from exc
    except json.JSONDecodeError as exc:
        raise CompareInputError(_("%(file)s is not a JSON file (line %(line)s, column %(column)s): "
                                  "choose the REPORT.json downloaded from a report page or written "
                                  "by itembank report.", file=name, line=exc.lineno,
                                  column=exc.colno)) from exc
    except ValueError as exc:
        raise CompareInputError(_not_a_report(name, "$")) from exc
    try:
        return survey_trends.check_earlier_report(doc, name, scale=_scale(rep), group_by=rep.grouping)
    except survey_trends.EarlierReportError as exc:
        kinds = dict(exc.kinds)
        keys = ", ".join(kinds)
        if "scale" in kinds.values():
            raise CompareInputError(_(
                "%(file)s is on another reporting scale (%(keys)s differ): there is no trend "
                "between the two. Link this calibration to the earlier one first, so that it "
                "keeps the earlier population (docs/research.md).",
                file=name, keys=", ".join(k for k, v in kinds.items() if v == "scale"))) from exc
        if "grouping" in kinds.values():
            raise CompareInputError(_("%(file)s is grouped by another column: compute this "
                                      "report with the same grouping.", file=name)) from exc
        raise CompareInputError(_not_a_report(name, keys)) from exc


def _not_a_report(name: str, keys: str) -> str:
    return _("%(file)s is not a learning-outcome report (REPORT.json) of the item bank: %(keys)s "
             "missing or not as expected.", file=name, keys=keys)


@bp.post("/reports/jobs/<int:job_id>/compare")
@research_required
def report_job_compare(job_id: int) -> tuple[str, int]:
    job = _report_job_or_404(job_id)
    rep = _stored_report(job)
    try:
        if rep.scale is None:
            raise CompareInputError(_("This report was computed before reports kept their "
                                      "reporting scale: compute it again to compare it."))
        linking_error = _linking_error()
        earlier = _earlier(rep)
    except CompareInputError as exc:
        return _job_page(job, compare_error=str(exc)), 400
    doc = reports.report_json(rep)
    doc["notes"] = []
    survey_trends.add_trends(doc, earlier, linking_error)
    trends: dict[str, Any] = doc["trends"]
    missing = [{"group": m["group"], "reason": str(REASONS.get(m["reason"], m["reason"]))}
               for m in doc["trends_missing"]]  # fmt: skip
    return render_template(
        "research/report_compare.html", job=job, report=rep, trends=trends,
        missing=missing, earlier_name=earlier.path, linking_error=linking_error,
        earlier_srs=earlier.srs and not rep.srs_only,
    ), 200
