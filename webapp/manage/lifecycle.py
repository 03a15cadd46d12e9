"""A test's life on the ``manage`` pages: edit it and its CAT settings, close it now, reopen it,
archive it, with the same rules as ``itembank test edit|close|open|archive``
(:mod:`itembank.delivery.control`): everything may change until the first session starts,
afterwards only the window, the time limit and the attempts.  Owners and administrators only
(:func:`itembank.delivery.scope.manageable_test_clause`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from itembank.bank.questionnaire_store import questionnaire_ids
from itembank.delivery import control
from itembank.delivery import scope as session_scope
from itembank.delivery import sessions as delivery
from itembank.delivery.models import Test

from ..authoring.labels import DIMENSIONS
from ..database import get_db
from ..roles import roles_required
from . import bp
from .refusals import refusal_message

STAFF = ("teacher", "school_admin", "admin")
STATUS_LABELS = {"open": _l("open"), "closed": _l("closed"), "archived": _l("archived")}


class EditTestForm(FlaskForm):
    title_zh = StringField(_l("Title in Chinese"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    access_code = StringField(
        _l("Access code"),
        validators=[DataRequired(), Regexp(r"^[A-Za-z0-9-]{6,64}$",
                                           message=_l("Use 6–64 letters, digits or hyphens."))],
    )  # fmt: skip
    attempts = IntegerField(_l("Attempts per student"),
                            validators=[Optional(), NumberRange(min=1, max=20)])
    unlimited = BooleanField(_l("Any number of attempts"))
    opens_at = DateTimeLocalField(_l("Opens"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Closes"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    time_limit = IntegerField(_l("Time limit (minutes)"),
                              validators=[Optional(), NumberRange(min=1, max=600)])
    show_score = BooleanField(_l("Show students their score and level at the end"))
    report_min_items = IntegerField(
        _l("Report a score only with at least this many scored answers"),
        validators=[Optional(), NumberRange(min=1, max=200)],
    )
    report_max_se = FloatField(
        _l("Report a score only when its standard error (of θ) is at most"),
        validators=[Optional(), NumberRange(min=0.05, max=5)],
    )
    # the student questionnaire after the last item; choices: the questionnaires in the bank
    questionnaire = SelectField(_l("Questionnaire after the last item"), choices=[], default="")
    # CAT settings (adaptive tests)
    stop_se = FloatField(_l("Stop when the standard error of θ is at most"),
                         validators=[Optional(), NumberRange(min=0.05, max=2)])
    min_items = IntegerField(_l("At least this many items"),
                             validators=[Optional(), NumberRange(min=1, max=200)])
    max_items = IntegerField(_l("At most this many items"),
                             validators=[Optional(), NumberRange(min=1, max=200)])
    exposure = RadioField(_l("Exposure control"), choices=[
        SelectChoice("none", _l("none: always the most informative unit")),
        SelectChoice("randomesque", _l("randomesque: one of the k best units at random")),
        SelectChoice("sympson-hetter", _l("Sympson-Hetter: each unit at most a share of sessions")),
    ], default="none")  # fmt: skip
    exposure_k = IntegerField(_l("k (randomesque)"), validators=[Optional(), NumberRange(min=1, max=20)])
    exposure_rate = FloatField(_l("Highest share of sessions per unit (Sympson-Hetter)"),
                               validators=[Optional(), NumberRange(min=0.01, max=1)])
    content_tolerance = FloatField(_l("Tolerance of the content targets"),
                                   validators=[Optional(), NumberRange(min=0, max=1)])
    target_examine_issues = FloatField(validators=[Optional(), NumberRange(min=0, max=1)])
    target_understand_perspectives = FloatField(validators=[Optional(), NumberRange(min=0, max=1)])
    target_intercultural_interaction = FloatField(validators=[Optional(), NumberRange(min=0, max=1)])
    target_take_action = FloatField(validators=[Optional(), NumberRange(min=0, max=1)])


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


TARGETS = ("examine_issues", "understand_perspectives", "intercultural_interaction", "take_action")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def _to_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=_zone()).astimezone(UTC)


def _to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone()).replace(tzinfo=None, second=0, microsecond=0)


def _test_or_404(test_id: str) -> Test:
    test = get_db().scalars(
        select(Test).where(Test.id == test_id, session_scope.manageable_test_clause(current_user))
    ).first()
    if test is None:
        abort(404)
    return test


# the form's fields that may change after the first session (control.ALWAYS_EDITABLE)
OPEN_FIELDS = frozenset({"attempts", "unlimited", "opens_at", "closes_at", "time_limit"})


def _fill(form: EditTestForm, test: Test, *, keep: frozenset[str] = frozenset()) -> None:
    """Put the test's values in the form, except in the fields named in ``keep``."""
    kept = {name: getattr(form, name).data for name in keep}
    config = test.cat_config or {}
    stopping = config.get("stopping", {})
    exposure = config.get("exposure", {})
    content = config.get("content", {})
    form.title_zh.data = test.title.get("zh-TW", "")
    form.title_en.data = test.title.get("en", "")
    form.access_code.data = test.access_code
    form.attempts.data = test.max_attempts
    form.unlimited.data = test.max_attempts is None
    form.opens_at.data = _to_local(test.opens_at)
    form.closes_at.data = _to_local(test.closes_at)
    form.time_limit.data = test.time_limit_minutes
    form.show_score.data = test.show_score
    form.report_min_items.data = test.report_min_items
    form.report_max_se.data = test.report_max_se
    form.questionnaire.data = test.questionnaire_id or ""
    form.stop_se.data = stopping.get("se")
    form.min_items.data = stopping.get("min_items")
    form.max_items.data = stopping.get("max_items")
    form.exposure.data = exposure.get("method", "none")
    form.exposure_k.data = exposure.get("k")
    form.exposure_rate.data = exposure.get("max_rate")
    form.content_tolerance.data = content.get("tolerance")
    for name in TARGETS:
        getattr(form, f"target_{name}").data = content.get("dimension", {}).get(name)
    for name, value in kept.items():
        getattr(form, name).data = value
    for name, f in form._fields.items():
        if name not in keep and name != "csrf_token":
            f.raw_data = []  # validated as the test's value, not as what the browser sent


def _changes(form: EditTestForm, test: Test) -> dict[str, Any]:
    """The fields whose value differs from the test's (edit_test refuses locked ones)."""
    wanted: dict[str, Any] = {
        "title": {"zh-TW": (form.title_zh.data or "").strip(), "en": (form.title_en.data or "").strip()},
        "access_code": (form.access_code.data or "").strip(),
        "max_attempts": None if form.unlimited.data else (form.attempts.data or 1),
        "opens_at": _to_utc(form.opens_at.data),
        "closes_at": _to_utc(form.closes_at.data),
        "time_limit_minutes": form.time_limit.data,
        "show_score": bool(form.show_score.data),
        "report_min_items": form.report_min_items.data,
        "report_max_se": form.report_max_se.data,
        "questionnaire_id": form.questionnaire.data or None,
    }
    if test.kind == "adaptive":
        config = copy.deepcopy(test.cat_config or {})
        stopping = config.setdefault("stopping", {})
        for key, value in (("se", form.stop_se.data), ("min_items", form.min_items.data),
                           ("max_items", form.max_items.data)):
            if value is None:
                stopping.pop(key, None)
            else:
                stopping[key] = value
        exposure: dict[str, Any] = {"method": form.exposure.data or "none"}
        if form.exposure_k.data is not None:
            exposure["k"] = form.exposure_k.data
        if form.exposure_rate.data is not None:
            exposure["max_rate"] = form.exposure_rate.data
        previous = config.get("exposure", {})
        exposure.update({k: v for k, v in previous.items() if k not in ("method", "k", "max_rate")})
        if exposure == {"method": "none"} and "exposure" not in (test.cat_config or {}):
            config.pop("exposure", None)  # the default, as it was: no change
        else:
            config["exposure"] = exposure
        if not stopping:
            config.pop("stopping", None)
        targets = {n: getattr(form, f"target_{n}").data for n in TARGETS}
        content = dict(config.get("content", {}))
        dimension = {n: v for n, v in targets.items() if v}
        if dimension:
            content["dimension"] = dimension
        else:
            content.pop("dimension", None)
        if form.content_tolerance.data is not None:
            content["tolerance"] = form.content_tolerance.data
        if content:
            config["content"] = content
        else:
            config.pop("content", None)
        wanted["cat_config"] = config

    def same(key: str, value: Any) -> bool:
        current = getattr(test, key)
        if isinstance(current, datetime) or isinstance(value, datetime):
            return delivery._aware(current) == value
        if key == "access_code":
            return delivery.normalise_code(str(current)) == delivery.normalise_code(str(value))
        return bool(current == value)

    return {k: v for k, v in wanted.items() if not same(k, v)}


@bp.route("/tests/<test_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_test(test_id: str) -> Response | tuple[str, int]:
    db = get_db()
    test = _test_or_404(test_id)
    started = control.has_sessions(db, test.id)
    form = EditTestForm()
    form.questionnaire.choices = [SelectChoice("", _("No questionnaire"))] + [
        SelectChoice(q, q) for q in questionnaire_ids(db)
    ]
    if started and form.is_submitted():
        _fill(form, test, keep=OPEN_FIELDS)  # the other fields are shown disabled: not sent
    status = 200
    if form.validate_on_submit():
        changes = _changes(form, test)
        if "access_code" in changes:
            changes["access_code"] = changes["access_code"].upper()
        problem = None
        if test.kind == "practice" and form.questionnaire.data:  # the field is not shown for one
            form.questionnaire.errors = [*form.questionnaire.errors, _(
                "A practice test has no questionnaire: practice answers are never research data.")]
            problem = True
        if form.min_items.data and form.max_items.data and form.min_items.data > form.max_items.data:
            form.max_items.errors = [*form.max_items.errors,
                                     _("At most must not be fewer than at least.")]
            problem = True
        if not changes and not problem:
            flash(_("Nothing was changed."), "info")
            return redirect(url_for("manage.edit_test", test_id=test.id))  # type: ignore[return-value]
        if not problem:
            try:
                control.edit_test(db, test.id, current_user, changes)
            except delivery.CodeTaken as exc:
                form.access_code.errors = [*form.access_code.errors, _(
                    "The test %(id)s already uses this access code; choose another.", id=exc.holder)]
            except control.TestLocked:
                flash(_("Students have started this test: only its window, time limit and attempts "
                        "can change now."), "error")  # fmt: skip
            except delivery.InvalidRequest as exc:
                flash(refusal_message(exc), "error")
            else:
                flash(_("The test %(id)s is saved.", id=test.id), "info")
                return redirect(url_for("manage.edit_test", test_id=test.id))  # type: ignore[return-value]
        db.rollback()
        status = 422
    elif form.is_submitted():
        status = 422
    else:
        _fill(form, test)
    return render_template(
        "manage/test_edit.html", form=form, test=test, started=started,
        status_form=StatusForm(), status_labels=STATUS_LABELS, dimensions=DIMENSIONS,
        targets=TARGETS,
    ), status  # fmt: skip


@bp.post("/tests/<test_id>/status")
@roles_required(*STAFF)
def test_status(test_id: str) -> Response:
    """Open (or reopen), close now, or archive the test."""
    db = get_db()
    test = _test_or_404(test_id)
    form = StatusForm()
    if not form.validate_on_submit() or form.status.data not in STATUS_LABELS:
        abort(400)
    try:
        control.set_test_status(db, test.id, form.status.data or "", current_user,
                                reason=(form.reason.data or "").strip() or None)
    except delivery.CodeTaken as exc:
        db.rollback()
        flash(_("The test %(id)s already uses this access code; choose another.", id=exc.holder),
              "error")
    else:
        flash({"open": _("The test %(id)s is open."), "closed": _("The test %(id)s is closed."),
               "archived": _("The test %(id)s is archived; its access code is free again.")}
              [form.status.data or ""] % {"id": test.id}, "info")  # fmt: skip
    return redirect(url_for("manage.edit_test", test_id=test.id))  # type: ignore[return-value]
