"""Students take a test: join with the access code and their student id, read the instructions,
answer each item beside its unit's stimulus (every answer saved the moment it is given, with a
plain form POST), and see their result.  The browser holds only the session id and token (in the
signed session cookie); a reload, a lost connection or a server restart resumes at the same item,
and joining again with the same student id resumes the same session.

Every page works without script.  The test page's script (static/test.js) adds a live countdown,
drafts (``POST /test/draft``), a queue that resends an answer until the server confirms it (the
same ``POST /test/answer`` asked for JSON), and a status check (``GET /test/status``) that notices
when the session was taken over by another device or ended by the teacher.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
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
from sqlalchemy.orm import Session
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from itembank.bank.models import MediaFile
from itembank.delivery import practice
from itembank.delivery import questionnaire as questionnaires
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import BankUnavailableError
from itembank.delivery.models import FIXED_FORMS
from itembank.delivery.scoring import ResponseShapeError, is_blank
from itembank.delivery.student_view import item_view

from .database import get_db
from .i18n import COOKIE, COOKIE_AGE, current_language, locale_for

bp = Blueprint("deliver", __name__)

# a practice review's coding-guide codes (the same words as the unit editor's)
CREDIT_NAMES = {"full": _l("full credit"), "partial": _l("partial credit"), "none": _l("no credit")}
KEY = "delivery"  # the signed-cookie entry: {"id", "token", "intro", "language", "resume"}


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
        session[KEY] = {
            "id": state.session.id,
            "token": started.token,
            "intro": started.resumed,
            "language": state.session.language,
            "resume": state.session.resume_code,
        }
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


def _wants_json() -> bool:
    """The test page's script asks for JSON; a plain form post gets pages and redirects."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


T = TypeVar("T")


def _of_remembered(read: Callable[[Session, str, str], T]) -> T | None:
    """``read(db, session id, token)`` of the remembered session; None without one, or (and it is
    forgotten) when it no longer exists.  SessionTakenOver propagates (its handler below tells the
    student where the session went)."""
    remembered = _remembered()
    if remembered is None:
        return None
    try:
        return read(get_db(), remembered["id"], remembered["token"])
    except delivery.SessionTakenOver:
        raise
    except delivery.SessionNotFound:
        _forget()
        return None


def _state() -> delivery.SessionState | None:
    """The remembered session's state; None without one."""
    return _of_remembered(delivery.session_state)


@bp.errorhandler(delivery.SessionTakenOver)
def _taken_over(exc: delivery.SessionTakenOver) -> Response | tuple[Response, int]:
    """The student resumed the session on another device: say so here, and how to come back."""
    remembered = _remembered() or {}
    _forget()
    _use_language(remembered.get("language") or current_language())
    if remembered.get("resume"):
        message = _(
            "This test was continued on another device, so it has stopped on this one. To "
            "continue here, enter your access code and student ID again with your resume code "
            "%(code)s.",
            code=remembered["resume"],
        )
    else:
        message = _(
            "This test was continued on another device, so it has stopped on this one. To "
            "continue here, enter your access code and student ID again with your resume code."
        )
    if _wants_json():
        body = jsonify(status="taken_over", message=message, next=url_for("deliver.join"))
        return body, 409
    flash(message, "error")
    return redirect(url_for("deliver.join"))


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
    deadline = delivery.deadline_of(ts)
    # seconds rounded up: the page's countdown must never reach zero before the server's deadline
    return {
        "state": state,
        "test_title": test.title.get(language) or test.title.get("en") or test.id,
        "time_limit": test.time_limit_minutes,
        "minutes_left": minutes_left,
        "seconds_left": math.ceil(left.total_seconds()) if left is not None else None,
        "deadline": deadline.isoformat() if deadline is not None else None,
        "total": len(test.items or ()) if test.kind in FIXED_FORMS else None,
        "max_items": delivery.length_bound(get_db(), test) if test.kind == "adaptive" else None,
        "language": language,
        "resume_code": ts.resume_code,
        # names this session's answers in the page script's queue (a shared computer may hold
        # another student's unsent answer; it is never sent with this session's cookie)
        "queue_key": hashlib.sha256(ts.id.encode()).hexdigest()[:16],
    }


def _item_page(
    state: delivery.SessionState,
    error: str | None = None,
    previous: Any = None,
    status: int = 200,
    *,
    confirm_blank: bool = False,
    response_id: str | None = None,
) -> tuple[str, int]:
    """The current item; ``confirm_blank`` asks "submit without an answer?" once (the posted
    response id is kept, so confirming records the same answer once)."""
    assert state.item is not None
    entry = state.item
    prefix = url_for("deliver.media", digest="x").removesuffix("x")
    view = item_view(entry.item, entry.unit, state.session.language, entry.media, prefix)
    ts = state.session
    if previous is None and ts.draft_item == entry.item.id:
        previous = ts.draft_response  # the answer being written when the page was left
    html = render_template(
        "deliver/item.html",
        item=view,
        number=state.answered + 1,
        response_id=response_id or secrets.token_urlsafe(12),
        error=error,
        previous=previous,
        confirm_blank=confirm_blank,
        **_page(state),
    )
    return html, status


def _blank_question(item_type: str, response: Any) -> str:
    if item_type == "complex_choice" and not is_blank(response):
        return _("Some statements have no answer. Submit anyway?")
    if item_type == "order" and not is_blank(response):
        return _("Some have no number yet. Submit anyway?")
    return _("You have not answered this question. Submit without an answer?")


@bp.post("/test/start")
def start() -> Response:
    remembered = _remembered()
    if remembered is not None:
        session[KEY] = {**remembered, "intro": True}
    return redirect(url_for("deliver.current"))


def _response_from_form(item_type: str, view: dict[str, Any]) -> Any:
    """The response of the posted form in the API's shape (None: no option chosen); the
    statements of a complex choice left without an answer are left out."""
    form = request.form
    if item_type == "single_choice":
        return form.get("response") or None
    if item_type == "multiple_choice":
        return form.getlist("response")
    if item_type == "complex_choice":
        answers = {s["id"]: form.get(f"s-{s['id']}") for s in view["statements"]}
        return {k: v for k, v in answers.items() if v is not None}
    if item_type == "order":  # the options by the numbers given (one number each; see _numbers_clash)
        placed = sorted((int(v), k[2:]) for k, v in form.items() if k.startswith("o-") and v.isdigit())
        return list(dict.fromkeys(oid for _, oid in placed))
    return form.get("response", "")


def _numbers_clash() -> bool:
    """Whether an order item's form gives two options the same number."""
    numbers = [v for k, v in request.form.items() if k.startswith("o-") and v.strip()]
    return len(set(numbers)) != len(numbers)


def _incomplete(item_type: str, response: Any, view: dict[str, Any]) -> bool:
    """Blank, or (a complex choice) some statement without an answer: ask once before saving."""
    if is_blank(response):
        return True
    if item_type == "order":
        return len(response) < len(view["options"])
    return item_type == "complex_choice" and len(response) < len(view["statements"])


def _go(endpoint: str, status: str) -> Response | tuple[Response, int]:
    """Where the student goes next: a redirect for a form post, JSON for the page's script."""
    if _wants_json():
        return jsonify(status=status, next=url_for(endpoint)), 200
    return redirect(url_for(endpoint))


@bp.post("/test/answer")
def answer() -> Response | tuple[str, int] | tuple[Response, int]:
    """Record the answer to the current item.  A blank or incomplete answer is asked about
    once; ``confirm_blank`` (the student confirmed) or ``timeout`` (the countdown reached zero)
    records it as it is.  A retried ``response_id`` is recorded once."""
    response_id = request.form.get("response_id") or secrets.token_urlsafe(12)
    remembered = _remembered()
    if remembered is not None and _wants_json():
        # The script's queue resends an answer until it is confirmed: a retry whose first
        # sending was recorded is confirmed without looking at the (now later) current item.
        try:
            if delivery.already_recorded(
                get_db(), remembered["id"], remembered["token"], response_id
            ):
                return _go("deliver.current", "saved")
        except delivery.SessionTakenOver:
            raise
        except delivery.SessionNotFound:
            pass  # _state() below forgets it
    state = _state()
    if state is None:
        return _go("deliver.join", "no_session")
    _use_language(state.session.language)
    if state.finished:
        return _go("deliver.done", "closed")
    assert state.item is not None
    item_id = request.form.get("item", "")
    if item_id != state.item.item.id:
        # A stale page (answered in another tab, or sent twice): show the current item.
        return _go("deliver.current", "stale")
    entry = state.item
    view = item_view(entry.item, entry.unit, state.session.language, entry.media)
    response = _response_from_form(entry.item.type, view)
    confirmed = bool(request.form.get("confirm_blank") or request.form.get("timeout"))
    if entry.item.type == "order" and _numbers_clash() and not request.form.get("timeout"):
        message = _("Two of them have the same number; give each a different number.")
        if _wants_json():
            return jsonify(status="invalid", message=message), 422
        return _item_page(state, message, response, 422)
    if not confirmed and _incomplete(entry.item.type, response, view):
        question = _blank_question(entry.item.type, response)
        if _wants_json():
            return jsonify(status="confirm_blank", message=question), 422
        return _item_page(
            state, question, response, 422, confirm_blank=True, response_id=response_id
        )
    remembered = session[KEY]
    try:
        delivery.record_response(
            get_db(),
            remembered["id"],
            remembered["token"],
            item_id,
            None if is_blank(response) else response,
            response_id,
            allow_blank=True,
            closing=bool(request.form.get("timeout")),
        )
    except ResponseShapeError:
        message = _("This answer could not be saved; please choose again.")
        if _wants_json():
            return jsonify(status="invalid", message=message), 422
        return _item_page(state, message, None, 422)
    except delivery.SessionClosed:
        return _go("deliver.done", "closed")
    except delivery.ItemConflict:
        pass  # the page was stale; the current item is shown
    except delivery.SessionTakenOver:
        raise
    except delivery.SessionNotFound:
        _forget()
        return _go("deliver.join", "no_session")
    return _go("deliver.current", "saved")


@bp.post("/test/draft")
def draft() -> Response | tuple[Response, int]:
    """Keep the answer being written (the page's script sends it every few seconds and when the
    page is left); 204 when kept."""
    remembered = _remembered()
    if remembered is None:
        return jsonify(status="no_session"), 404
    item_id = request.form.get("item", "")
    item_type = request.form.get("type", "")
    statements = [{"id": key[2:]} for key in request.form if key.startswith("s-")]
    response = _response_from_form(item_type, {"statements": statements})
    try:
        delivery.save_draft(get_db(), remembered["id"], remembered["token"], item_id, response)
    except delivery.SessionClosed:
        return jsonify(status="closed", next=url_for("deliver.done")), 409
    except delivery.InvalidRequest as exc:
        return jsonify(status="invalid", message=str(exc)), 422
    except delivery.SessionTakenOver:
        raise
    except delivery.SessionNotFound:
        _forget()
        return jsonify(status="no_session", next=url_for("deliver.join")), 404
    return Response(status=204)


@bp.get("/test/status")
def status() -> Response | tuple[Response, int]:
    """Where the session stands, for the page's script: the seconds left by the server's clock
    (the countdown follows it), and whether it ended (time, teacher) or went to another device."""
    state = _state()
    if state is None:
        return jsonify(status="no_session", next=url_for("deliver.join")), 404
    ts = state.session
    left = delivery.time_left(ts)
    body = {
        "status": state.status,
        "answered": state.answered,
        "item": state.item.item.id if state.item is not None else None,
        "seconds_left": math.ceil(left.total_seconds()) if left is not None else None,
    }
    if state.finished:
        body["next"] = url_for("deliver.done")
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/test/done")
def done() -> Response | str:
    state = _state()
    if state is None:
        return redirect(url_for("deliver.join"))
    _use_language(state.session.language)
    if not state.finished:
        return redirect(url_for("deliver.current"))
    ts = state.session
    if questionnaires.pending(ts):
        return redirect(url_for("deliver.questionnaire_page"))
    result = delivery.result_view(ts, ts.language) if ts.test.show_score else None
    answered, skipped = delivery.answer_counts(get_db(), ts.id)
    return render_template(
        "deliver/done.html",
        result=result,
        expired=ts.status == "expired",
        answered=answered,
        skipped=skipped,
        questionnaire_done=ts.questionnaire_finished_at is not None,
        # a practice test's review: answers beside the keys, of released units only
        review=practice.review(get_db(), ts, ts.language),
        CREDIT_NAMES=CREDIT_NAMES,
        **_page(state),
    )


def _questionnaire_state() -> questionnaires.QuestionnaireState | None:
    return _of_remembered(questionnaires.questionnaire_state)


@bp.route("/test/questionnaire", methods=["GET", "POST"])
def questionnaire_page() -> Response | str | tuple[str, int]:
    """The questionnaire after the test's last item: one page per scale, in the session's
    language, any statement may stay blank.  A page's answers are saved when it is sent (Next or
    Back); ``?page=N`` shows an earlier page again with its answers."""
    state = _state()
    if state is None:
        return redirect(url_for("deliver.join"))
    _use_language(state.session.language)
    if not state.finished:
        return redirect(url_for("deliver.current"))
    if not questionnaires.pending(state.session):
        return redirect(url_for("deliver.done"))
    qstate = _questionnaire_state()
    if qstate is None:
        return redirect(url_for("deliver.join"))
    view = questionnaires.questionnaire_view(qstate, state.session.language)
    last = len(view["pages"])
    reachable = view["current_page"] or last
    if request.method == "POST":
        try:
            number = int(request.form.get("page", ""))
        except ValueError:
            number = 0
        if not 1 <= number <= reachable:
            return redirect(url_for("deliver.questionnaire_page"))  # a stale or made-up page
        page = view["pages"][number - 1]
        answers: dict[str, int | None] = {}
        for item in page["items"]:
            value = request.form.get(f"q-{item['id']}")
            answers[item["id"]] = int(value) if value is not None and value.isdigit() else None
        remembered = session[KEY]
        try:
            qstate = questionnaires.record_questionnaire_answers(
                get_db(), remembered["id"], remembered["token"], answers
            )
        except delivery.InvalidRequest:
            message = _("This answer could not be saved; please choose again.")
            return _questionnaire_html(state, view, number, message), 422
        except questionnaires.QuestionnaireClosed:
            return redirect(url_for("deliver.done"))
        if qstate.finished:
            return redirect(url_for("deliver.done"))
        target = number - 1 if request.form.get("go") == "back" else number + 1
        return redirect(url_for("deliver.questionnaire_page", page=max(target, 1)))
    try:
        number = int(request.args.get("page", reachable))
    except ValueError:
        number = reachable
    if not 1 <= number <= reachable:
        number = reachable
    return _questionnaire_html(state, view, number)


def _questionnaire_html(
    state: delivery.SessionState, view: dict[str, Any], number: int, error: str | None = None
) -> str:
    page = view["pages"][number - 1]
    return render_template(
        "deliver/questionnaire.html", q=view, page=page, answers=view["answers"], error=error,
        **_page(state),
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
