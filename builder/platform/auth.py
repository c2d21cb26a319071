"""Who is calling: a Flask-Login session (browser) or ``Authorization: Bearer <token>`` (API).

A bearer header, when present, wins over the session cookie. An unauthenticated API call
gets the JSON 401 of ``builder.errors.Unauthorized``, never a redirect to a login page.
Other modules use ``require_user()``, ``current_tenant_id()`` and ``login_required_api``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from flask_login import current_user

from builder.errors import Forbidden, Unauthorized
from builder.extensions import db, login_manager
from builder.i18n import gettext
from builder.platform import service, sessions
from builder.platform.models import ApiToken, User

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    """The bearer value of the current request, if it sent one."""
    if not has_request_context():
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_token() -> ApiToken | None:
    """The token the current request authenticated with (None for session logins)."""
    current_user._get_current_object()  # make sure the loaders ran
    return cast("ApiToken | None", g.get("api_token"))


def _load_session_user(user_id: str) -> User | None:
    if bearer_token() is not None:
        return None  # the request loader decides; a bad token must not fall back to the cookie
    try:
        user = db.session.scalar(sa.select(User).where(User.id == int(user_id)))
    except ValueError:
        return None
    if not service.is_active_user(user) or user is None:
        return None
    # The session lives as long as the token its login issued (logout revokes it).
    token_id = sessions.session_token_id()
    if token_id is None or not service.is_live_token(user, token_id):
        return None
    return user


def _load_token_user(_request: Any) -> User | None:
    plaintext = bearer_token()
    if plaintext is None:
        return None
    token = service.token_from_plaintext(plaintext)
    if token is None:
        return None
    if db.session.is_modified(token):
        db.session.commit()  # last_used_at; runs first thing in the request (see below)
    g.api_token = token
    return token.user


def _unauthorized() -> Any:
    raise Unauthorized(gettext("error.unauthorized"))


def _authenticate_bearer_early() -> None:
    """Resolve a bearer token before the view runs, so touching ``last_used_at`` commits
    on its own and never together with half of a view's work."""
    if bearer_token() is not None:
        current_user._get_current_object()


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_authenticate_bearer_early)
    sessions.init_app(app)


def current_user_or_none() -> User | None:
    user = current_user._get_current_object() if has_request_context() else None
    return user if isinstance(user, User) else None


def require_user() -> User:
    """The authenticated user of this request, or ``Unauthorized`` (JSON 401)."""
    user = current_user_or_none()
    if user is None:
        raise Unauthorized(gettext("error.unauthorized"))
    return user


def current_tenant_id() -> int:
    """The tenant of the authenticated user: the only tenant a request may touch."""
    return require_user().tenant_id


def require_tenant_admin() -> User:
    user = require_user()
    if not user.is_tenant_admin:
        raise Forbidden(gettext("error.forbidden"))
    return user


def login_required_api(view: F) -> F:
    """Reject the call with a JSON 401 unless someone is logged in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_user()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def tenant_admin_required(view: F) -> F:
    """401 for anonymous callers, 403 for users who are not admins of their tenant."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_tenant_admin()
        return view(*args, **kwargs)

    return cast(F, wrapper)
