"""Who may open a page: ``@roles_required("teacher", "admin")`` on a view (or a blueprint's
``before_request``).  Anonymous visitors are sent to the login page; logged-in users without one
of the roles get 403, whose page names the roles the page needs (:func:`forbidden_message`).
Authentication itself stays in :mod:`webapp.auth`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from babel.lists import format_list
from flask import abort, g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

ROLE_NAMES = {
    "student": _l("student"), "teacher": _l("teacher – author"), "reviewer": _l("reviewer"),
    "translator": _l("translator"), "researcher": _l("researcher"), "school_admin": _l("school administrator"),
    "admin": _l("administrator"),
}


def has_role(*roles: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in roles)


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                g.required_roles = roles  # for the 403 page: which roles would do
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]  # tests check every route has one
        return wrapped  # type: ignore[return-value]

    return decorate


def forbidden_message() -> str:
    """What the 403 page says: the roles this page needs (when a role check refused) and whom to
    ask.  Administrators create accounts and set roles (``itembank user edit``, the admin page)."""
    needed = [r for r in g.get("required_roles", ()) if r != "admin"] or list(g.get("required_roles", ()))
    if not needed or not current_user.is_authenticated:
        return _("Your account may not open this page: it concerns another school, class or person, "
                 "or needs another role. If you need it, ask your city's administrator.")
    names = format_list([str(ROLE_NAMES.get(r, r)) for r in needed], style="or", locale=get_locale())
    return _("This page is for the role %(roles)s; your account has the role %(role)s. "
             "Ask your city's administrator for the role you need.",
             roles=names, role=str(ROLE_NAMES.get(current_user.role, current_user.role)))
