"""Students take a test: join with the access code and their student id, read the instructions,
answer each item beside its unit's stimulus (every answer saved the moment it is given, with a
plain form POST), and see their result.  The browser holds only the session id and token (in the
signed session cookie); a reload, a lost connection or a server restart resumes at the same item,
and joining again with the same student id resumes the same session.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from itembank.bank.models import MediaFile
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import BankUnavailableError
from itembank.delivery.scoring import ResponseShapeError
from itembank.delivery.student_view import item_view

from .database import get_db
from .i18n import COOKIE, COOKIE_AGE, current_language, locale_for

bp = Blueprint("deliver", __name__)

KEY = "delivery"  # the signed-cookie entry: {"id", "token", "intro"}


class JoinForm(FlaskForm):
    access_code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=64)])
    student = StringField(_l("Student ID"), validators=[DataRequired(), Length(max=64)])
    language = RadioField(
        _l("Language of the test"),
        choices=[SelectChoice("zh-TW", "中文（臺灣）"), SelectChoice("en", "English")],
        validators=[DataRequired()],
    )
    test = HiddenField()
    resume_code = StringField(_l("Resume code (to continue a test you started)"),
                              validators=[Optional(), Length(max=16)])
    password = PasswordField(_l("Password (on your login card, if you have one)"),
                             validators=[Optional(), Length(max=64)])


def _use_language(language: str) -> None:
    """Show the pages of a session in the session's language."""
    g.force_locale = locale_for(language)
    refresh()


def _remembered() -> dict[str, Any] | None:
    value = session.get(KEY)
    return value if isinstance(value, dict) and "id" in value and "token" in value else None


def _forget() -> None:
    session.pop(KEY, None)


@bp.route("/", methods=["GET", "POST"])
def join() -> Response | str:
    """The start page: access code, student id, language."""
    form = JoinForm()
    if request.method == "GET":
        form.language.data = current_language()
        form.test.data = request.args.get("test", "")
        if _remembered():
            return redirect(url_for("deliver.current"))
    if form.validate_on_submit():
        db = get_db()
        test_id = form.test.data or None
        if not test_id:
            matches = delivery.tests_for_code(db, form.access_code.data)
            if len(matches) == 1:
                test_id = matches[0].id
            elif len(matches) > 1:
                flash(
                    _("Several tests use this code; please use the link your teacher gave you."),
                    "error",
                )
                return render_template("deliver/join.html", form=form), 400
        address = request.remote_addr
        try:
            if not test_id:
                if delivery.code_locked(db, address):
                    raise delivery.TooManyAttempts(form.language.data or "en")
                delivery.note_wrong_code(db, address)  # an unknown code is a wrong guess too
                raise delivery.AccessDenied("unknown code")
            started = delivery.start_session(
                db, test_id, form.access_code.data, form.student.data, form.language.data,
                resume_code=form.resume_code.data or None, password=form.password.data or None,
                address=address,
            )  # fmt: skip
        except delivery.TooManyAttempts:
            flash(_("Too many wrong codes. Please wait a minute and try again."), "error")
            return render_template("deliver/join.html", form=form), 429
        except (delivery.NotOnRoster, delivery.PasswordRequired, delivery.StudentAmbiguous,
                delivery.SessionInProgress, delivery.AttemptsUsed) as exc:
            # in the language the student chose for the test (itembank.delivery)
            flash(str(exc), "error")
            status = 409 if isinstance(exc, delivery.SessionInProgress | delivery.AttemptsUsed) else 403
            return render_template("deliver/join.html", form=form), status
        except (delivery.AccessDenied, delivery.TestNotFound):
            flash(_("The access code is not right, or this test is not open now."), "error")
            return render_template("deliver/join.html", form=form), 403
        except delivery.InvalidRequest:
            flash(_("Please check your student ID."), "error")
            return render_template("deliver/join.html", form=form), 422
        state = started.state
        session.permanent = True
        session[KEY] = {"id": state.session.id, "token": started.token, "intro": started.resumed}
        response = redirect(url_for("deliver.current"))
        response.set_cookie(
            COOKIE,
            locale_for(state.session.language),
            max_age=COOKIE_AGE,
            samesite="Lax",
            httponly=True,
        )
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("deliver/join.html", form=form), status


def _state() -> delivery.SessionState | None:
    remembered = _remembered()
    if remembered is None:
        return None
    try:
        return delivery.session_state(get_db(), remembered["id"], remembered["token"])
    except delivery.SessionNotFound:
        _forget()
        return None


@bp.get("/test")
def current() -> Response | str:
    """The current page of the session: instructions, the current item, or the result."""
    state = _state()
    if state is None:
        flash(_("Please enter your access code and student ID to begin or to continue."), "info")
        return redirect(url_for("deliver.join"))
    _use_language(state.session.language)
    if state.finished:
        return redirect(url_for("deliver.done"))
    if not session[KEY].get("intro") and state.answered == 0:
        return render_template("deliver/instructions.html", **_page(state))
    return _item_page(state)


def _page(state: delivery.SessionState) -> dict[str, Any]:
    ts = state.session
    test = ts.test
    language = ts.language
    left = delivery.time_left(ts)
    minutes_left = math.ceil(left.total_seconds() / 60) if left is not None else None
    config = delivery.cat_config(test)
    return {
        "state": state,
        "test_title": test.title.get(language) or test.title.get("en") or test.id,
        "time_limit": test.time_limit_minutes,
        "minutes_left": minutes_left,
        "total": len(test.items or ()) if test.kind == "fixed" else None,
        "max_items": config.stopping.max_items if test.kind == "adaptive" else None,
        "language": language,
        "resume_code": ts.resume_code,
    }


def _item_page(
    state: delivery.SessionState, error: str | None = None, previous: Any = None, status: int = 200
) -> tuple[str, int]:
    assert state.item is not None
    entry = state.item
    prefix = url_for("deliver.media", digest="x").removesuffix("x")
    view = item_view(entry.item, entry.unit, state.session.language, entry.media, prefix)
    html = render_template(
        "deliver/item.html",
        item=view,
        number=state.answered + 1,
        response_id=secrets.token_urlsafe(12),
        error=error,
        previous=previous,
        **_page(state),
    )
    return html, status


@bp.post("/test/start")
def start() -> Response:
    remembered = _remembered()
    if remembered is not None:
        session[KEY] = {**remembered, "intro": True}
    return redirect(url_for("deliver.current"))


def _response_from_form(item_type: str, view: dict[str, Any]) -> tuple[Any, str | None]:
    """The response of the posted form in the API's shape, or an error message for the student."""
    form = request.form
    if item_type == "single_choice":
        value = form.get("response")
        return (value, None) if value else (None, _("Please choose an answer."))
    if item_type == "multiple_choice":
        return form.getlist("response"), None
    if item_type == "complex_choice":
        answers = {s["id"]: form.get(f"s-{s['id']}") for s in view["statements"]}
        if any(v is None for v in answers.values()):
            given = {k: v for k, v in answers.items() if v is not None}
            return given, _("Please choose an answer for every statement.")
        return answers, None
    return form.get("response", ""), None


@bp.post("/test/answer")
def answer() -> Response | tuple[str, int]:
    state = _state()
    if state is None:
        return redirect(url_for("deliver.join"))
    _use_language(state.session.language)
    if state.finished:
        return redirect(url_for("deliver.done"))
    assert state.item is not None
    item_id = request.form.get("item", "")
    if item_id != state.item.item.id:
        # A stale page (answered in another tab, or sent twice): show the current item.
        return redirect(url_for("deliver.current"))
    entry = state.item
    view = item_view(entry.item, entry.unit, state.session.language, entry.media)
    response, problem = _response_from_form(entry.item.type, view)
    if problem:
        return _item_page(state, problem, response, 422)
    remembered = session[KEY]
    try:
        delivery.record_response(
            get_db(),
            remembered["id"],
            remembered["token"],
            item_id,
            response,
            request.form.get("response_id") or secrets.token_urlsafe(12),
        )
    except ResponseShapeError:
        return _item_page(
            state, _("This answer could not be saved; please choose again."), None, 422
        )
    except delivery.SessionClosed:
        return redirect(url_for("deliver.done"))
    except delivery.ItemConflict:
        pass  # the page was stale; the current item is shown
    except delivery.SessionNotFound:
        _forget()
        return redirect(url_for("deliver.join"))
    return redirect(url_for("deliver.current"))


@bp.get("/test/done")
def done() -> Response | str:
    state = _state()
    if state is None:
        return redirect(url_for("deliver.join"))
    _use_language(state.session.language)
    if not state.finished:
        return redirect(url_for("deliver.current"))
    ts = state.session
    result = delivery.result_view(ts, ts.language) if ts.test.show_score else None
    return render_template(
        "deliver/done.html", result=result, expired=ts.status == "expired", **_page(state)
    )


@bp.post("/test/leave")
def leave() -> Response:
    _forget()
    return redirect(url_for("deliver.join"))


@bp.get("/media/<digest>")
def media(digest: str) -> Response:
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        abort(404)
    row = get_db().get(MediaFile, digest)
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.mime)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.errorhandler(BankUnavailableError)
def _no_bank(exc: BankUnavailableError) -> tuple[str, int]:
    message = _("This test cannot be given right now. Please tell your teacher.")
    return render_template("error.html", status=503, message=message), 503
