"""Pages of the ``print`` blueprint.  Every route requires the role teacher, school_admin or
admin (students never reach a booklet page, a key or a coding guide).

Rendering a booklet takes ~1-7 s, so each PDF is rendered when it is asked for.  The complete set
of booklets (13 booklets of the demo bank) is longer than a web request may take (the gunicorn
worker timeout is 30 s): "download all" queues a background job (:mod:`itembank.paper.set_job`,
run by ``itembank worker`` in parallel processes) whose page shows its progress, as a calibration
run's does, and offers the ZIP when it is done."""

from __future__ import annotations

import base64
import io
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from itembank import config
from itembank.accounts import audit
from itembank.bank import csv_export
from itembank.bank.schema import LANGUAGES
from itembank.db import unit_of_work
from itembank.errors import DataFileError
from itembank.paper import printed, set_job
from itembank.paper.design import Design, estimated_minutes, minutes_text, time_warnings
from itembank.paper.models import PrintedDesign
from itembank.paper.render import KINDS, render_booklet, render_teacher_materials
from itembank.research import datasets, jobs
from itembank.research.models import Dataset, Job

from ..database import get_db
from ..i18n import current_language
from ..job_status import FAILURE_TEXTS, JOB_LABELS
from ..roles import roles_required
from . import PRINT_ROLES, bp, messages, paper
from .bank import (
    ChoiceError,
    DesignChoice,
    PrintBank,
    approved_units,
    booklets_of,
    build_design,
    parse_choice,
)

print_required = roles_required(*PRINT_ROLES)
LANGUAGE_NAMES = {"zh-TW": "中文（臺灣）", "en": "English"}
HTML_LANG = {"zh-TW": "zh-Hant-TW", "en": "en"}
KIND_LABELS = {"answer-key": _l("Answer key"), "coding-guide": _l("Coding guide")}
TYPE_LABELS = {
    "single_choice": _l("Single choice"), "multiple_choice": _l("Multiple choice"),
    "complex_choice": _l("Complex choice"), "short_response": _l("Short response"),
    "open_response": _l("Open response (code)"),
}
FIELD_LABELS = {"language": _l("Language of the booklets"), "clusters": _l("Clusters"),
                "positions": _l("Clusters per booklet"), "blocks": _l("Base blocks"),
                "printed": _l("Design number on the booklet cover")}
PREVIEW_PAGES = 3


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "HTML_LANG": HTML_LANG, "KIND_LABELS": KIND_LABELS,
            "TYPE_LABELS": TYPE_LABELS, "LANGUAGES": LANGUAGES}


def _download(data: bytes | str, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _choice() -> DesignChoice:
    try:
        return parse_choice(request.values, current_language())
    except ChoiceError as exc:
        label = FIELD_LABELS.get(exc.field, exc.field)
        abort(Response(_("%(field)s: use %(allowed)s.", field=label, allowed=str(exc)), 400,
                       mimetype="text/plain"))


def _design(bank: PrintBank, choice: DesignChoice) -> Design:
    try:
        return build_design(bank, choice)
    except ValueError as exc:
        abort(Response(_("This design cannot be built: %(reason)s", reason=messages.message(str(exc))), 400,
                       mimetype="text/plain"))


def _printed_row(design_id: int) -> PrintedDesign:
    try:
        return printed.get(get_db(), design_id)
    except printed.UnknownDesign:
        abort(Response(_("There is no printed design %(id)s: type the design number printed on the "
                         "booklet's cover.", id=design_id), 404, mimetype="text/plain"))


def _loaded() -> tuple[PrintBank, DesignChoice, Design]:
    """The bank and the design of the request: a printed design's pinned versions when the query
    names one (``printed=ID``), else today's approved units and the design of the parameters."""
    choice = _choice()
    if choice.printed is not None:
        frozen = _printed_row(choice.printed)
        return printed.pinned_bank(get_db(), frozen), choice, printed.design_of(frozen)
    bank = approved_units(get_db())
    if not bank.units:
        abort(404)
    return bank, choice, _design(bank, choice)


def _frozen(bank: PrintBank, choice: DesignChoice, design: Design) -> PrintedDesign:
    """The printed version of what is being printed: saved now unless it already was."""
    if choice.printed is not None:
        return _printed_row(choice.printed)
    db = get_db()
    with unit_of_work(db):
        row = printed.freeze(db, design, bank, created_by=current_user.id)
    return row


def _booklet_name(design: Design, number: int, language: str) -> str:
    width = max(2, len(str(max(design.booklets))))
    return f"booklet-{number:0{width}d}-{language}.pdf"


def _booklet_pdf(bank: PrintBank, choice: DesignChoice, design: Design, number: int,
                 label: str = "") -> bytes:
    if number not in design.booklets:
        abort(404)
    units = [bank.by_id[u] for u in design.units_of(number)]
    return render_booklet(units, choice.language, test_name=choice.test_name or None,
                          booklet_label=str(number),
                          images={u.id: bank.images.get(u.id, {}) for u in units}, design_label=label,
                          minutes=design.stated_minutes(number))


def _teacher_pdf(bank: PrintBank, choice: DesignChoice, design: Design, kind: str, label: str) -> bytes:
    units = [bank.by_id[u] for u in design.unit_ids()]
    return render_teacher_materials(units, choice.language, kind, test_name=choice.test_name or None,
                                    booklets_of=booklets_of(design), design_label=label)


def _design_yaml(design: Design, frozen: PrintedDesign) -> str:
    return printed.design_yaml(design, frozen)


# -- the design page ----------------------------------------------------------------------------
@bp.get("/")
@print_required
def index() -> str | tuple[str, int]:
    bank = approved_units(get_db())
    recent = printed.recent(get_db())
    if not bank.units:
        return render_template("printing/index.html", bank=bank, design=None, error=None, recent=recent,
                               choice=DesignChoice(language=current_language())), 200
    try:
        choice = parse_choice(request.args, current_language())
    except ChoiceError as exc:
        label = FIELD_LABELS.get(exc.field, exc.field)
        error = _("%(field)s: use %(allowed)s.", field=label, allowed=str(exc))
        return render_template("printing/index.html", bank=bank, design=None, error=error, recent=recent,
                               choice=DesignChoice(language=current_language())), 400
    frozen = None
    if choice.printed is not None:
        frozen = _printed_row(choice.printed)
        design = printed.design_of(frozen)
    else:
        try:
            design = build_design(bank, choice)
        except ValueError as exc:
            error = _("This design cannot be built: %(reason)s", reason=messages.message(str(exc)))
            return render_template("printing/index.html", bank=bank, design=None, error=error,
                                   recent=recent, choice=choice), 400
    clusters = design.cluster_by_id
    units = printed.pinned_bank(get_db(), frozen).by_id if frozen is not None else bank.by_id
    warnings = {w.booklet: w for w in time_warnings(design, units)}
    rows = [{"booklet": b, "cells": [clusters[c] for c in cids],
             "minutes": minutes_text(design.stated_minutes(b) or estimated_minutes(design, units, b)),
             "warning": warnings.get(b)}
            for b, cids in sorted(design.booklets.items())]
    positions = max(len(c) for c in design.booklets.values())
    return render_template("printing/index.html", bank=bank, design=design, rows=rows,
                           time_warnings=list(warnings.values()), minutes_text=minutes_text,
                           positions=positions, choice=choice, error=None, frozen=frozen, recent=recent,
                           q=choice.query(), booklet_name=lambda n: _booklet_name(design, n, choice.language))


@bp.get("/booklets/<int:number>/preview")
@print_required
def preview(number: int) -> str:
    bank, choice, design = _loaded()
    # a preview prints nothing: it saves no design, and shows a number only for a printed one
    pdf = _booklet_pdf(bank, choice, design, number, str(choice.printed or ""))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "booklet.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", str(PREVIEW_PAGES),
                        str(source), str(Path(tmp) / "page")], check=True, capture_output=True, timeout=60)
        pngs = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        pages = [base64.b64encode(p.read_bytes()).decode("ascii") for p in pngs]
    return render_template("printing/preview.html", number=number, pages=pages, choice=choice,
                           q=choice.query(), design=design,
                           filename=_booklet_name(design, number, choice.language))


@bp.get("/booklets/<int:number>.pdf")
@print_required
def booklet_pdf(number: int) -> Response:
    bank, choice, design = _loaded()
    if number not in design.booklets:
        abort(404)
    pdf = _booklet_pdf(bank, choice, design, number, printed.label(_frozen(bank, choice, design)))
    return _download(pdf, _booklet_name(design, number, choice.language), "application/pdf")


@bp.get("/teacher/<kind>.pdf")
@print_required
def teacher_pdf(kind: str) -> Response:
    if kind not in KINDS:
        abort(404)
    bank, choice, design = _loaded()
    frozen = _frozen(bank, choice, design)
    audit.record_now(get_db(), current_user, "keys.export", f"teacher:{kind}",
                     {"language": choice.language, "printed_design": frozen.id})
    return _download(_teacher_pdf(bank, choice, design, kind, printed.label(frozen)),
                     f"{kind}-{choice.language}.pdf", "application/pdf")


@bp.get("/design.yaml")
@print_required
def design_file() -> Response:
    bank, choice, design = _loaded()
    return _download(_design_yaml(design, _frozen(bank, choice, design)), "design.yaml", "application/yaml")


@bp.get("/answers-template.csv")
@print_required
def answers_template() -> Response:
    bank, _choice_, design = _loaded()
    return _download(paper.answers_template(design, bank.by_id), "ANSWERS.csv", "text/csv")


@bp.get("/teacher-pack.zip")
@print_required
def teacher_pack() -> Response:
    bank, choice, design = _loaded()
    frozen = _frozen(bank, choice, design)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("design.yaml", _design_yaml(design, frozen))
        zf.writestr("ANSWERS.csv", paper.answers_template(design, bank.by_id))
        for kind in KINDS:
            zf.writestr(f"{kind}-{choice.language}.pdf",
                        _teacher_pdf(bank, choice, design, kind, printed.label(frozen)))
    audit.record_now(get_db(), current_user, "keys.export", "teacher:pack",
                     {"language": choice.language, "printed_design": frozen.id})
    return _download(buf.getvalue(), f"teacher-pack-{choice.language}.zip", "application/zip")


# -- the whole set, as a background job ---------------------------------------------------------
@bp.post("/sets")
@print_required
def start_set() -> Response:
    bank, choice, design = _loaded()  # refuses a design that cannot be built, here and now
    frozen_id = _frozen(bank, choice, design).id  # the worker renders these versions, whatever comes later
    db = get_db()
    with unit_of_work(db):
        job = set_job.enqueue_set(db, language=choice.language, clusters=choice.clusters,
                                  positions=choice.positions, blocks=choice.blocks,
                                  test_name=choice.test_name, created_by=current_user.id,
                                  printed=frozen_id)
        job_id = job.id
    return redirect(url_for("print.booklet_set", job_id=job_id, **{**choice.query(), "printed": str(frozen_id)}))


def _own_set(job_id: int) -> Job:
    job = get_db().get(Job, job_id)
    if (job is None or job.kind != set_job.JOB_KIND
            or (job.created_by != current_user.id and current_user.role != "admin")):
        abort(404)
    return job


@bp.get("/sets/<int:job_id>")
@print_required
def booklet_set(job_id: int) -> str:
    job = _own_set(job_id)
    choice = _choice()
    return render_template("printing/set.html", job=job, choice=choice, q=choice.query(),
                           waiting=jobs.waiting_for_worker(get_db(), job), JOB_LABELS=JOB_LABELS,
                           FAILURE_TEXTS=FAILURE_TEXTS,
                           filename=set_job.set_filename(job.payload or {}),
                           kept=job.status == "done" and jobs.has_file(get_db(), job.id, set_job.ZIP_NAME),
                           keep_days=config.load().job_file_days)


@bp.get("/sets/<int:job_id>.zip")
@print_required
def booklet_set_zip(job_id: int) -> Response:
    job = _own_set(job_id)
    stored = jobs.load_file(get_db(), job.id, set_job.ZIP_NAME) if job.status == "done" else None
    if stored is None:  # not finished, or deleted after ITEMBANK_JOB_FILE_DAYS: render it again
        abort(404)
    audit.record_now(get_db(), current_user, "keys.export", "teacher:set",
                     {"language": (job.payload or {}).get("language")})
    return _download(stored.data, set_job.set_filename(job.payload or {}), "application/zip")


# -- paper answers back to data -----------------------------------------------------------------
def _paper_design(bank: PrintBank, choice: DesignChoice) -> tuple[PrintBank, Design, int | None]:
    """What the answers are scored against: the printed design named by an uploaded design.yaml
    (its ``printed_design``) or by the query (``printed=ID``), with its pinned versions; else an
    uploaded design over today's units, or the design of the page's parameters.  The third value
    is the printed design's id (None when the answers are scored against no printed design)."""
    file = request.files.get("design")
    data = file.read() if file is not None and file.filename else None
    design_id = paper.printed_design_id(data) if data is not None else choice.printed
    if design_id is not None:
        try:
            frozen = printed.get(get_db(), design_id)
        except printed.UnknownDesign as exc:
            raise DataFileError.at(file.filename if data is not None and file is not None else "design",
                                   0, 0, str(exc)) from None
        return printed.pinned_bank(get_db(), frozen), printed.design_of(frozen), frozen.id
    if data is not None and file is not None:
        return (bank, paper.read_uploaded_design(data, file.filename or "design.yaml", [u.id for u in bank.units]),
                None)
    return bank, _design(bank, choice), None


@bp.route("/paper", methods=["GET", "POST"])
@print_required
def paper_upload() -> str | tuple[str, int] | Response:
    choice = _choice()
    if choice.printed is not None:
        bank = printed.pinned_bank(get_db(), _printed_row(choice.printed))
    else:
        bank = approved_units(get_db())
    if not bank.units:
        abort(404)
    if request.method == "GET":
        return render_template("printing/paper.html", choice=choice, q=choice.query(), problems=None)
    file = request.files.get("answers")
    if file is None or not file.filename:
        flash(_("Choose the ANSWERS.csv file to upload."), "error")
        return redirect(url_for("print.paper_upload", **choice.query()))
    data = file.read(paper.MAX_UPLOAD + 1)
    name = (request.form.get("name") or "").strip()[:200] or _("Paper answers: %(file)s", file=file.filename)
    window = (request.form.get("window") or "").strip()[:32] or None
    return _store(bank, choice, data, file.filename, name, window, "printing/paper.html")


def _store(bank: PrintBank, choice: DesignChoice, data: bytes, filename: str, name: str,
           window: str | None, template: str, **context: Any) -> str | tuple[str, int] | Response:
    db = get_db()
    try:
        if len(data) > paper.MAX_UPLOAD:
            raise DataFileError.at(filename, 0, 0, "the file is larger than 5 MB")
        bank, design, printed_id = _paper_design(bank, choice)
        with unit_of_work(db):
            ds = paper.store(db, data, filename, design, bank.units, name=name,
                             language=choice.language, window=window, user_id=current_user.id,
                             school_id=current_user.school_id, printed_design_id=printed_id)
            ds_id = ds.id
    except DataFileError as exc:
        db.rollback()
        return render_template(template, choice=choice, q=choice.query(), problems=messages.problems(exc.problems[:50]),
                               n_problems=len(exc.problems), **context), 422
    flash(_("Data set %(name)s stored: %(persons)s persons, %(responses)s responses.",
            name=name, persons=ds.n_persons, responses=ds.n_responses), "info")
    return redirect(url_for("print.stored", dataset_id=ds_id, **choice.query()))


@bp.get("/paper/datasets/<int:dataset_id>")
@print_required
def stored(dataset_id: int) -> str:
    ds = _own_dataset(dataset_id)
    choice = _choice()
    return render_template("printing/stored.html", ds=ds, choice=choice, q=choice.query())


@bp.get("/paper/datasets/<int:dataset_id>/responses.csv")
@print_required
def stored_csv(dataset_id: int) -> Response:
    ds = _own_dataset(dataset_id)
    matrix = datasets.load_matrix(get_db(), [ds.id])
    return _download(datasets.matrix_csv(matrix), f"RESPONSES-paper-{ds.id}.csv", "text/csv")


def _own_dataset(dataset_id: int) -> Dataset:
    ds = get_db().get(Dataset, dataset_id)
    if ds is None or (ds.created_by != current_user.id and current_user.role != "admin"):
        abort(404)
    return ds


@bp.route("/paper/entry", methods=["GET", "POST"])
@print_required
def paper_entry() -> str | tuple[str, int] | Response:
    bank, choice, design = _loaded()
    header = paper.answers_header(design, bank.by_id)
    answers = request.form.get("answers", "") if request.method == "POST" else ""
    raw_booklet = request.values.get("booklet", "")
    booklet = int(raw_booklet) if raw_booklet.isdigit() and int(raw_booklet) in design.booklets else None
    action = request.form.get("action", "")
    problems = None
    status = 200
    if action == "save" and answers.strip():
        name = (request.form.get("name") or "").strip()[:200] or _("Paper answers (typed in)")
        window = (request.form.get("window") or "").strip()[:32] or None
        return _store(bank, choice, answers.encode(), "ANSWERS.csv", name, window,
                      "printing/entry.html", **_entry_context(bank, design, booklet, answers))
    if action == "download" and answers.strip():
        return _download(csv_export.safe_csv_text(answers), "ANSWERS.csv", "text/csv")
    if action == "undo":
        answers = paper.drop_last(answers)
    if action == "add" and booklet is not None:
        person = (request.form.get("person_id") or "").strip()
        cells = {i.id: paper.entry_cell(i, request.form) for u in design.units_of(booklet)
                 for i in bank.by_id[u].items}
        candidate = paper.add_entry(answers, header, person, booklet, cells)
        try:
            paper.score(candidate.encode(), "ANSWERS.csv", design, bank.units)
        except DataFileError as exc:
            problems, status = messages.problems(exc.problems), 422
        else:
            answers = candidate
            flash(_("Answers of %(person)s added (%(count)s students so far).", person=person,
                    count=len(paper.entered_rows(answers))), "info")
    return render_template("printing/entry.html", choice=choice, q=choice.query(), problems=problems,
                           n_problems=len(problems or []),
                           **_entry_context(bank, design, booklet, answers,
                                            request.form if problems else None)), status


def _entry_context(bank: PrintBank, design: Design, booklet: int | None, answers: str,
                   values: Any = None) -> dict[str, Any]:
    units = [bank.by_id[u] for u in design.units_of(booklet)] if booklet is not None else []
    return {"design": design, "booklet": booklet, "answers": answers, "units": units,
            "entered": paper.entered_rows(answers), "values": values}
