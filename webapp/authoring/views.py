"""Pages of the ``author`` blueprint: the bank (search, overview), a unit (versions, workflow,
comments, translation checks, diff), the editor (form and YAML), previews, image upload and QTI.

Every page checks the role with :func:`webapp.roles.roles_required`; the rules themselves
(who approves, what a translator may change) are enforced by :mod:`itembank.workflow`.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy.orm import Session

from itembank.accounts import audit
from itembank.authoring import workflow
from itembank.authoring.workflow import (
    AUTHORS,
    EDITORS,
    READERS,
    REVIEWERS,
    TRANSLATORS,
    Actor,
    WorkflowError,
)
from itembank.bank.models import Unit, UnitVersion
from itembank.bank.queries import unit_schema
from itembank.bank.schema import Unit as UnitSchema
from itembank.bank.stats import bank_stats
from itembank.bank.validation import schema_errors
from itembank.bank.yaml_export import dump_yaml
from itembank.bank.yaml_source import parse_yaml
from itembank.db import unit_of_work
from itembank.delivery.student_view import item_view
from itembank.errors import Problem, ProblemsError

from ..database import get_db
from ..i18n import current_language
from ..roles import forbidden_message, has_role, roles_required
from . import bp, labels
from .bank import Filters, information_svg, search, status_counts
from .diff import side_by_side
from .forms import FieldErrors, NotATextField, apply_action, new_unit, overlay_texts, parse_form
from .media import UploadError, check_image, image_src
from .problems import sentence, source_message

PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'none'"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
MAX_SHOWN_PROBLEMS = 100


def actor() -> Actor:
    return Actor(current_user.id, current_user.username, current_user.role)


def _unit_or_404(unit_id: str) -> Unit:
    try:
        return workflow.get_unit(get_db(), unit_id)
    except LookupError:
        abort(404)


def _version_or_404(row: Unit, number: int) -> UnitVersion:
    try:
        return workflow.version_of(row, number)
    except LookupError:
        abort(404)


def _language() -> str:
    lang = request.args.get("lang") or current_language()
    return lang if lang in ("zh-TW", "en") else "zh-TW"


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"L": labels}


@bp.errorhandler(403)
def _forbidden(_exc: Exception) -> tuple[str, int]:
    return render_template("error.html", status=403, message=forbidden_message()), 403


# -- the bank --------------------------------------------------------------------------------------
@bp.get("/")
@roles_required(*READERS)
def index() -> str:
    filters = Filters.from_args(request.args)
    rows = search(get_db(), filters)
    return render_template("author/index.html", rows=rows, f=filters, L=labels)


@bp.get("/overview")
@roles_required(*READERS)
def overview() -> str:
    db = get_db()
    return render_template("author/overview.html", stats=bank_stats(db), statuses=status_counts(db), L=labels)


@bp.get("/overview/information.svg")
@roles_required(*READERS)
def information() -> Response:
    data = information_svg(get_db(), _("Test information of the approved items"), _("Ability θ (logits)"),
                           _("Information"), _("No approved item has parameters yet."))
    response = Response(data, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    return response


# -- a unit ------------------------------------------------------------------------------------------
@bp.get("/units/<unit_id>")
@roles_required(*READERS)
def unit(unit_id: str) -> str:
    db = get_db()
    row = _unit_or_404(unit_id)
    versions = list(reversed(row.versions))
    checks = workflow.open_checks(db, unit_id)
    texts = workflow.local_texts(row.latest.content)
    return render_template(
        "author/unit.html", row=row, latest=row.latest, in_use=workflow.in_use(row), versions=versions,
        events=workflow.events(db, unit_id), checks=checks, texts=texts,
        changes=workflow.text_changes(db, [v.id for v in versions]), L=labels,
        can_edit=has_role(*AUTHORS), can_translate=has_role(*TRANSLATORS), can_review=has_role(*REVIEWERS),
        authors=workflow._authors_since_approval(row),
    )


@bp.post("/units/<unit_id>/step")
@roles_required(*workflow.COMMENTERS)
def step(unit_id: str) -> Response:
    db = get_db()
    _unit_or_404(unit_id)
    action = request.form.get("action", "")
    comment = request.form.get("comment", "")[:5000]
    try:
        with unit_of_work(db):
            if action == "comment":
                workflow.add_comment(db, unit_id, actor(), comment)
            elif action in workflow.STEPS:
                workflow.STEPS[action](db, unit_id, actor(), comment)
                audit.record(db, current_user, f"unit.{action}", f"unit:{unit_id}")
            else:
                abort(400)
    except WorkflowError as exc:
        flash(labels.workflow_message(exc.message), "error")
        return redirect(url_for("author.unit", unit_id=unit_id))
    flash(labels.STEP_DONE.get(action, _("Done.")), "info")
    return redirect(url_for("author.unit", unit_id=unit_id))


@bp.post("/units/<unit_id>/checks/<int:check_id>")
@roles_required(*TRANSLATORS)
def verify(unit_id: str, check_id: int) -> Response:
    db = get_db()
    try:
        with unit_of_work(db):
            check = workflow.verify_translation(db, check_id, actor(), request.form.get("comment", "")[:2000])
            if check.unit_id != unit_id:
                raise WorkflowError("this check belongs to another unit")
    except LookupError:
        abort(404)
    except WorkflowError as exc:
        flash(labels.workflow_message(exc.message), "error")
        return redirect(url_for("author.unit", unit_id=unit_id))
    flash(_("The translation is verified."), "info")
    return redirect(url_for("author.unit", unit_id=unit_id))


@bp.get("/units/<unit_id>/diff")
@roles_required(*READERS)
def diff(unit_id: str) -> str:
    row = _unit_or_404(unit_id)
    numbers = [v.version for v in row.versions]
    default_a = numbers[-2] if len(numbers) > 1 else numbers[-1]
    a = _version_or_404(row, request.args.get("a", default_a, type=int))
    b = _version_or_404(row, request.args.get("b", numbers[-1], type=int))
    rows = side_by_side(_yaml(a), _yaml(b))
    return render_template("author/diff.html", row=row, a=a, b=b, rows=rows, numbers=numbers)


def _yaml(version: UnitVersion) -> str:
    from itembank.bank.yaml_export import unit_yaml

    return unit_yaml(unit_schema(version))


# -- previews ------------------------------------------------------------------------------------------
def _student_views(unit_obj: UnitSchema, media: dict[str, str], language: str) -> list[dict[str, Any]]:
    prefix = url_for("deliver.media", digest="x").removesuffix("x")
    return [item_view(item, unit_obj, language, media, prefix) for item in unit_obj.items]


@bp.get("/units/<unit_id>/v<int:number>/preview")
@roles_required(*READERS)
def preview(unit_id: str, number: int) -> str:
    row = _unit_or_404(unit_id)
    version = _version_or_404(row, number)
    language = _language()
    views = _student_views(unit_schema(version), version.media, language)
    return render_template("author/preview.html", row=row, version=version, views=views, language=language)


@bp.get("/units/<unit_id>/v<int:number>/print")
@roles_required(*READERS)
def print_preview(unit_id: str, number: int) -> Response:
    """The unit as a printed booklet shows it (the booklet renderer's HTML, its own document)."""
    from itembank.paper.render import booklet_html

    row = _unit_or_404(unit_id)
    version = _version_or_404(row, number)
    unit_obj = unit_schema(version)
    html = booklet_html([unit_obj], _language(), images={unit_obj.id: workflow.media_bytes(get_db(), version)},
                        answer_sheet=False)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PRINT_CSP
    return response


# -- the editor --------------------------------------------------------------------------------------------
def _check(text: str, name: str) -> tuple[UnitSchema | None, list[tuple[Problem, str]]]:
    """The unit in ``text`` (as :func:`~itembank.bank.validation.parse_unit_text` reads it), or its
    problems in the page's language, each with its field's path ("items.0.prompt.en", or "")."""
    doc, problems = parse_yaml(text, name)
    out = [(replace(p, message=source_message(p.message)), "") for p in problems]
    if doc is None:
        return None, out
    if not isinstance(doc.data, dict):
        return None, [*out, (Problem(name, 1, 1, source_message("a unit file holds one mapping")), "")]
    try:
        unit_obj = UnitSchema.model_validate(doc.data)
    except ValidationError as exc:
        for error in schema_errors(doc, exc):
            line, col = doc.place(error.loc)
            out.append((Problem(name, line, col, sentence(error, doc.data)), ".".join(str(p) for p in error.loc)))
        return None, out
    return (unit_obj if not out else None), out


def _validate(content: dict[str, Any], name: str) -> tuple[UnitSchema | None, FieldErrors]:
    """The unit the form describes, or its problems by field; schema errors become sentences that
    name the field by its label in the page's language (:mod:`webapp.authoring.problems`)."""
    unit_obj, problems = _check(dump_yaml(content), name)
    errors = FieldErrors()
    for problem, field in problems:
        errors.add_sentence(field, problem.message)
    return unit_obj, errors


def _upload(form_errors: FieldErrors) -> tuple[dict[str, bytes], dict[str, Any] | None]:
    """The image sent with the form, as (new_images, image block), or errors on its fields."""
    file = request.files.get("image_file")
    if file is None or not file.filename:
        return {}, None
    alt = {"zh-TW": request.form.get("image_alt_zh", "").strip(), "en": request.form.get("image_alt_en", "").strip()}
    data = file.read(8 * 1024 * 1024)
    try:
        check_image(file.filename, data)
    except UploadError as exc:
        form_errors.all.append(("image_file", labels.upload_message(str(exc))))
        return {}, None
    for lang, field in (("zh-TW", "image_alt_zh"), ("en", "image_alt_en")):
        if not alt[lang]:
            form_errors.all.append((field, _("Describe the image for people who cannot see it (required).")))
    if not all(alt.values()):
        return {}, None
    src = image_src(file.filename, data)
    caption = {"zh-TW": request.form.get("image_caption_zh", "").strip(), "en": request.form.get("image_caption_en", "").strip()}
    block: dict[str, Any] = {"type": "image", "src": src, "alt": alt}
    if all(caption.values()):
        block["caption"] = caption
    return {src: data}, block


def _media_for(row: Unit | None, content: dict[str, Any], new_images: dict[str, bytes]) -> dict[str, str]:
    import hashlib

    media = dict(row.latest.media) if row is not None else {}
    media.update({src: hashlib.sha256(data).hexdigest() for src, data in new_images.items()})
    return media


def _save(db: Session, unit_obj: UnitSchema, new_images: dict[str, bytes], translator_only: bool,
          errors: FieldErrors) -> bool:
    try:
        with unit_of_work(db):
            result = workflow.save_version(db, unit_obj, actor(), new_images=new_images,
                                           translator_only=translator_only, comment=request.form.get("comment"))
            audit.record(db, current_user, "unit.save", f"unit:{unit_obj.id}")
    except WorkflowError as exc:
        errors.all.append(((exc.path or "").replace("[", ".").replace("]", ""), labels.workflow_message(exc.message)))
        return False
    except ProblemsError as exc:  # pragma: no cover - validated before
        errors.all.extend(("", p.message) for p in exc.problems)
        return False
    if result.version is None:
        flash(_("Nothing changed, so no new version was made."), "info")
    else:
        flash(_("Saved as version %(n)s (draft).", n=result.version.version), "info")
        for note in result.notes:
            flash(note, "warning")
        if result.checks_raised:
            flash(_("The other language of %(n)s changed text(s) now needs verification by a translator.",
                    n=len(result.checks_raised)), "warning")
    return True


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new() -> Response | str:
    content = new_unit(author=current_user.display_name or current_user.username)
    return _editor(None, content)


@bp.route("/units/<unit_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(unit_id: str) -> Response | str:
    row = _unit_or_404(unit_id)
    return _editor(row, workflow.editable_content(row.latest))


def _name_new_items(content: dict[str, Any]) -> None:
    """A new unit's items are named after it once it has an id (UNIT-Q1 → GC-049-Q1)."""
    unit_id = str(content.get("id") or "").strip()
    if not unit_id:
        return
    for item in content.get("items", []):
        if str(item.get("id", "")).startswith("UNIT-Q"):
            item["id"] = unit_id + item["id"][len("UNIT"):]


def _editor(row: Unit | None, content: dict[str, Any]) -> Response | str:
    db = get_db()
    translator_only = not has_role(*AUTHORS)
    errors = FieldErrors()
    views = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        if translator_only:
            try:
                content = overlay_texts(content, request.form)
            except NotATextField:
                abort(403)
        else:
            content = parse_form(request.form)
            if row is not None:
                content["id"] = row.id
            else:
                _name_new_items(content)
        new_images, block = ({}, None) if translator_only else _upload(errors)
        if block is not None:
            content.setdefault("stimulus", []).append(block)
        if action not in ("save", "preview"):
            if translator_only or not apply_action(content, action):
                abort(400)
        else:
            unit_obj, found = _validate(content, f"{content.get('id') or 'unit'}.yaml")
            errors.extend(found)
            if unit_obj is not None and not errors and action == "preview":
                views = {lang: _student_views(unit_obj, _media_for(row, content, new_images), lang)
                         for lang in ("zh-TW", "en")}
            elif unit_obj is not None and not errors:
                if _save(db, unit_obj, new_images, translator_only, errors):
                    return redirect(url_for("author.unit", unit_id=unit_obj.id))
    status = 422 if errors else 200
    return render_template("author/edit.html", row=row, c=content, E=errors, L=labels, views=views,
                           translator_only=translator_only, item_types=labels.ITEM_TYPES), status


@bp.route("/new/yaml", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def new_yaml() -> Response | str:
    return _yaml_editor(None, dump_yaml(new_unit(author=current_user.username)))


@bp.route("/units/<unit_id>/yaml", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_yaml(unit_id: str) -> Response | str:
    row = _unit_or_404(unit_id)
    return _yaml_editor(row, dump_yaml(workflow.editable_content(row.latest)))


def _yaml_editor(row: Unit | None, text: str) -> Response | str:
    translator_only = not has_role(*AUTHORS)
    problems: list[Problem] = []
    if request.method == "POST":
        text = request.form.get("yaml", "")[:500_000]
        name = f"{row.id if row else 'unit'}.yaml"
        unit_obj, found = _check(text, name)
        problems = [p for p, _field in found]
        if unit_obj is not None and row is not None and unit_obj.id != row.id:
            problems.append(Problem(name, 1, 1, _("This page edits unit %(id)s; its id cannot change here.",
                                                  id=row.id)))
        if unit_obj is not None and not problems:
            errors = FieldErrors()
            if _save(get_db(), unit_obj, {}, translator_only, errors):
                return redirect(url_for("author.unit", unit_id=unit_obj.id))
            problems = [Problem(name, 0, 0, f"{f + ': ' if f else ''}{m}") for f, m in errors.all]
    status = 422 if problems else 200
    return render_template("author/yaml.html", row=row, text=text, problems=problems,
                           translator_only=translator_only), status


# -- QTI -----------------------------------------------------------------------------------------------------
@bp.get("/qti/export")
@roles_required(*READERS)
def qti_export() -> Response:
    from itembank.qti import export_bank_qti

    buffer = io.BytesIO()
    statuses = [s for s in request.args.getlist("status") if s in ("draft", "review", "approved", "retired", "released")]
    export_bank_qti(get_db(), buffer, None, statuses or None)
    with unit_of_work(get_db()):
        audit.record(get_db(), current_user, "qti.export", "bank", {"statuses": statuses})
    buffer.seek(0)
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name="itembank-qti.zip")


@bp.route("/qti/import", methods=["GET", "POST"])
@roles_required(*AUTHORS)
def qti_import() -> Response | str:
    from itembank.qti import read_qti_package

    messages: list[str] = []
    notes: list[str] = []
    if request.method == "POST":
        file = request.files.get("package")
        if file is None or not file.filename:
            messages.append(_("Choose a QTI package (.zip) or item file (.xml)."))
        else:
            try:
                bank = read_qti_package(file.read(50 * 1024 * 1024), file.filename)
                notes = list(bank.notes)
                messages = [str(p) for p in bank.problems]
                if not messages and not bank.units:
                    messages.append(_("Nothing in the package could be imported."))
                if not messages:
                    db = get_db()
                    with unit_of_work(db):
                        for loaded in bank.units:
                            workflow.save_version(db, loaded.unit, actor(), new_images=loaded.images,
                                                  action="import", comment=f"QTI: {file.filename}")
                        audit.record(db, current_user, "qti.import", f"qti:{file.filename}",
                                     {"units": [u.unit.id for u in bank.units]})
                    flash(_("Imported %(n)s unit(s) as drafts.", n=len(bank.units)), "info")
                    return redirect(url_for("author.index"))
            except ProblemsError as exc:
                messages = [str(p) for p in exc.problems]
            except WorkflowError as exc:
                messages = [labels.workflow_message(exc.message)]
    if len(messages) > MAX_SHOWN_PROBLEMS:  # the page names the first ones, not thousands
        more = len(messages) - MAX_SHOWN_PROBLEMS
        messages = [*messages[:MAX_SHOWN_PROBLEMS], _("… and %(n)s more problems.", n=more)]
    notes = notes[:MAX_SHOWN_PROBLEMS]
    return render_template("author/qti.html", messages=messages, notes=notes), 422 if messages else 200

