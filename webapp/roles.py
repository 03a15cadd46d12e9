"""Who may open a page: ``@roles_required("teacher", "admin")`` on a view (or a blueprint's
``before_request``).  Anonymous visitors are sent to the login page; logged-in users without one
of the roles get 403.  Authentication itself stays in :mod:`webapp.auth`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from .extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def has_role(*roles: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in roles)


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]  # tests check every route has one
        return wrapped  # type: ignore[return-value]

    return decorate
