"""Pages of the ``materials`` blueprint.  Every route requires a staff role; which materials a user
sees is the where-clause of :mod:`itembank.materials.scope` in each query (404 otherwise)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from itembank import config
from itembank.db import unit_of_work
from itembank.delivery import outcomes
from itembank.delivery import scope as session_scope
from itembank.delivery.models import Test
from itembank.materials import store, workflow
from itembank.materials.models import KINDS, LICENCES, VISIBILITIES, Material
from itembank.materials.scope import STAFF_ROLES, material_clause, reviewable_clause
from itembank.orgs import scope as org_scope
from itembank.orgs.models import SchoolClass
from webapp.authoring.labels import DIMENSIONS, GRADE_BANDS, PROCESSES  # the framework's names

from ..database import get_db
from ..roles import roles_required
from . import bp

UPLOAD_ROLES = ("teacher", "school_admin", "admin")
staff_required = roles_required(*STAFF_ROLES)

LANGUAGE_NAMES = {"zh-TW": _l("Traditional Chinese"), "en": _l("English")}
STATUSES = {"draft": _l("draft"), "review": _l("in review"), "approved": _l("approved")}
KIND_LABELS = {"lesson_plan": _l("Lesson plan"), "slides": _l("Slides"),
               "document": _l("Document"), "image": _l("Image"), "link": _l("Link"),
               "other": _l("Other material")}
VISIBILITY_LABELS = {"school": _l("My school"), "city": _l("My city"),
                     "partners": _l("My city and the partner cities"),
                     "public": _l("Everyone")}
LICENCE_LABELS = {
    "CC-BY-4.0": "CC BY 4.0", "CC-BY-SA-4.0": "CC BY-SA 4.0", "CC-BY-NC-4.0": "CC BY-NC 4.0",
    "CC-BY-NC-SA-4.0": "CC BY-NC-SA 4.0", "CC-BY-ND-4.0": "CC BY-ND 4.0",
    "CC-BY-NC-ND-4.0": "CC BY-NC-ND 4.0", "CC0-1.0": "CC0 1.0",
}
FIELD_LABELS = {
    "title": _l("Title"), "summary": _l("Summary"), "author": _l("Author"),
    "licence": _l("Licence"), "kind": _l("Kind of material"), "sdgs": _l("SDGs"),
    "dimension": _l("Dimension"), "process": _l("Cognitive process"),
    "grade_bands": _l("Grade band"), "languages": _l("Languages"),
    "visibility": _l("Shared with"), "subject": _l("Subject"), "url": _l("Link"),
    "file": _l("File"), "comment": _l("Comment"),
}
FILE_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than the upload limit of %(mb)s MB."),
    "type": _l("This kind of file is not accepted; use PDF, Office or OpenDocument files, "
               "PNG, JPEG, GIF or WebP images."),
    "svg": _l("This SVG is refused: it contains scripts, links or embedded content."),
}


def _max_bytes() -> int:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else config.load().max_upload_mb * 1024 * 1024


def _field_message(exc: workflow.FieldError) -> str:
    name = exc.field.split(".")[0]
    label = str(FIELD_LABELS.get(name, name))
    if "." in exc.field:
        label += f" ({LANGUAGE_NAMES.get(exc.field.split('.', 1)[1], '')})"
    if exc.code == "required":
        return _("%(field)s: this is required.", field=label)
    if exc.code == "too_long":
        return _("%(field)s: this is too long.", field=label)
    if exc.code == "url":
        return _("%(field)s: give an address starting with https:// or http://.", field=label)
    return _("%(field)s: choose one of the choices offered.", field=label)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"dimension_labels": DIMENSIONS, "process_labels": PROCESSES,
            "grade_labels": GRADE_BANDS, "language_names": LANGUAGE_NAMES,
            "status_labels": STATUSES, "kind_labels": KIND_LABELS,
            "visibility_labels": VISIBILITY_LABELS, "licence_labels": LICENCE_LABELS,
            "licence_urls": LICENCES}


def _material_or_404(material_id: int) -> Material:
    material = get_db().scalars(
        select(Material).where(Material.id == material_id, material_clause(current_user))
    ).first()
    if material is None:
        abort(404)
    return material


@bp.get("/")
@staff_required
def index() -> str:
    filters = workflow.Filters.from_args(request.args)
    found = list(get_db().scalars(workflow.search(current_user, filters)))
    review = []
    if current_user.role in ("reviewer", "admin"):
        review = list(get_db().scalars(
            select(Material).where(Material.status == "review", reviewable_clause(current_user))
            .order_by(Material.updated_at)
        ))
    return render_template("materials/index.html", materials=found, filters=filters,
                           query=request.args, review=review, sdgs=range(1, 18),
                           may_upload=current_user.role in UPLOAD_ROLES)


def _form_fields(form: Any) -> workflow.Fields:
    sdgs = [int(s) for s in form.getlist("sdgs") if s.isdigit()]
    return workflow.Fields(
        title={"zh-TW": form.get("title_zh", ""), "en": form.get("title_en", "")},
        summary={"zh-TW": form.get("summary_zh", ""), "en": form.get("summary_en", "")},
        licence=form.get("licence", ""), author=form.get("author", ""),
        kind=form.get("kind", "lesson_plan"), sdgs=sdgs,
        dimension=form.get("dimension") or None, process=form.get("process") or None,
        grade_bands=form.getlist("grade_bands"), subject=form.get("subject", ""),
        languages=form.getlist("languages"), visibility=form.get("visibility", "school"),
        url=(form.get("url") or "").strip() or None,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*UPLOAD_ROLES)
def new() -> Any:
    errors: list[str] = []
    if request.method == "POST":
        db = get_db()
        upload = request.files.get("file")
        data = upload.read() if upload is not None and upload.filename else b""
        try:
            fields = _form_fields(request.form)
            fields.check()
            with unit_of_work(db):
                stored = None
                if data:
                    stored = store.save(db, data, upload.filename or "", max_bytes=_max_bytes())
                material = workflow.create(db, current_user, fields, file=stored,
                                           file_name=upload.filename if stored and upload else None)
                if request.form.get("submit") == "1":
                    workflow.submit(db, current_user, material)
        except workflow.FieldError as exc:
            errors.append(_field_message(exc))
        except store.FileRefused as exc:
            errors.append(str(FILE_MESSAGES[exc.code]) % {"mb": _max_bytes() // (1024 * 1024)})
        else:
            flash(_("The material is saved."), "success")
            return redirect(url_for("materials.detail", material_id=material.id))
    return render_template("materials/new.html", errors=errors, form=request.form,
                           sdgs=range(1, 18), kinds=KINDS, visibilities=VISIBILITIES,
                           licences=list(LICENCES), config_max_mb=_max_bytes() // (1024 * 1024)
                           ), 400 if errors else 200


@bp.get("/<int:material_id>")
@staff_required
def detail(material_id: int) -> str:
    material = _material_or_404(material_id)
    db = get_db()
    may_review = db.scalar(
        select(Material.id).where(Material.id == material.id, reviewable_clause(current_user))
    ) is not None and material.owner_id != current_user.id
    has_file = bool(material.file_sha256) and store.load(db, material.file_sha256 or "") is not None
    return render_template("materials/detail.html", material=material, may_review=may_review,
                           has_file=has_file, is_owner=material.owner_id == current_user.id)


@bp.get("/<int:material_id>/download")
@staff_required
def download(material_id: int) -> Response:
    material = _material_or_404(material_id)
    db = get_db()
    stored = store.load(db, material.file_sha256 or "") if material.file_sha256 else None
    if stored is None:
        abort(404)
    data, media_type = stored.data, stored.media_type
    with unit_of_work(db):
        workflow.count_download(db, current_user, material)
    response = Response(data, mimetype=media_type)
    name = (material.file_name or "material").replace('"', "").replace("\\", "")
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    from urllib.parse import quote

    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<int:material_id>/submit")
@staff_required
def submit(material_id: int) -> Response:
    material = _material_or_404(material_id)
    db = get_db()
    try:
        with unit_of_work(db):
            workflow.submit(db, current_user, material)
    except workflow.WorkflowError:
        abort(403)
    flash(_("Submitted for review."), "success")
    return redirect(url_for("materials.detail", material_id=material.id))


@bp.post("/<int:material_id>/review")
@roles_required("reviewer", "admin")
def review(material_id: int) -> Response:
    material = _material_or_404(material_id)
    db = get_db()
    action = request.form.get("action")
    comment = request.form.get("comment", "")
    if action == "return" and not comment.strip():
        flash(_("Say in a comment what the author should change."), "error")
        return redirect(url_for("materials.detail", material_id=material.id))
    try:
        with unit_of_work(db):
            if action == "approve":
                workflow.approve(db, current_user, material)
                if comment.strip():
                    workflow.add_comment(db, current_user, material, comment)
            elif action == "return":
                workflow.return_to_draft(db, current_user, material, comment)
            else:
                abort(400)
    except workflow.WorkflowError:
        abort(403)
    except workflow.FieldError as exc:
        flash(_field_message(exc), "error")
        return redirect(url_for("materials.detail", material_id=material.id))
    flash(_("Approved: the material is now shared.") if action == "approve"
          else _("Returned to the author."), "success")
    return redirect(url_for("materials.detail", material_id=material.id))


@bp.post("/<int:material_id>/comments")
@staff_required
def comment(material_id: int) -> Response:
    material = _material_or_404(material_id)
    db = get_db()
    try:
        with unit_of_work(db):
            workflow.add_comment(db, current_user, material, request.form.get("text", ""))
    except workflow.FieldError as exc:
        flash(_field_message(exc), "error")
    else:
        flash(_("Comment added."), "success")
    return redirect(url_for("materials.detail", material_id=material.id) + "#comments")


def _min_group_size() -> int:
    value = current_app.config.get("MIN_GROUP_SIZE")
    return int(value) if value is not None else config.load().min_group_size


@bp.get("/for-test/<test_id>")
@roles_required("teacher", "school_admin", "admin")
def for_test(test_id: str) -> str:
    """A test's results by dimension and process for the user's sessions, and approved
    materials on the weakest of each."""
    db = get_db()
    test = db.scalars(
        session_scope.tests_visible_to(current_user).where(Test.id == test_id)
    ).first()
    if test is None:
        abort(404)
    klass = None
    if "class" in request.args:  # a class's results (from its page): one of the user's classes
        klass = db.scalars(org_scope.classes_visible_to(current_user).where(
            SchoolClass.id == request.args.get("class", type=int))).first()
        if klass is None:
            abort(404)
    found = outcomes.outcomes_by_topic(db, current_user, test_id=test.id,
                                       min_group_size=_min_group_size(),
                                       class_id=klass.id if klass is not None else None)
    weakest = {kind: outcomes.weakest(found, kind) for kind in ("dimension", "process")}
    suggested = {
        "dimension": list(db.scalars(workflow.materials_on(
            current_user, dimension=weakest["dimension"].code))) if weakest["dimension"] else [],
        "process": list(db.scalars(workflow.materials_on(
            current_user, process=weakest["process"].code))) if weakest["process"] else [],
    }
    return render_template("materials/for_test.html", test=test, outcomes=found, klass=klass,
                           weakest=weakest, suggested=suggested, minimum=_min_group_size())


def materials_on_sdgs(sdgs: Any) -> list[Material]:
    """Approved materials the current user may see on any of ``sdgs`` (a unit's page lists
    them); none for a user without a staff role."""
    numbers = [int(s) for s in (sdgs or []) if isinstance(s, int) and 1 <= s <= 17]
    if not numbers or not current_user.is_authenticated or current_user.role not in STAFF_ROLES:
        return []
    return list(get_db().scalars(workflow.materials_on(current_user, sdgs=numbers)))
