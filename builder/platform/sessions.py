"""Browser sessions: cookie flags, CSRF protection, the server-side end of a session, and
login rate limits.

- The session cookie is HttpOnly and SameSite=Lax; it is Secure when ``SESSION_COOKIE_SECURE``
  says so, or, with the default ``"auto"``, whenever the request came over https.
- A session is bound to the token its login issued (``sid``): logging out revokes that
  token, so a copy of the cookie is worthless afterwards, and so is the session of a
  token revoked any other way.
- Every write (POST, PUT, PATCH, DELETE) authenticated by the session cookie must carry
  the header ``X-CSRF-Token`` equal to the session's CSRF value, which the web app reads
  from the ``builder_csrf`` cookie (readable by the page's own script only: SameSite=Strict).
  Bearer-token calls carry no ambient credentials and are exempt, as is the login itself.
- Failed logins are counted in the database per user and per client address (see
  ``builder.runtime.intake.ratelimit``); over the limit the login answers 429 with
  ``Retry-After`` before any password is checked.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Flask, Request, Response, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from builder import clock
from builder.errors import AppError
from builder.i18n import gettext
from builder.runtime.intake import ratelimit

CSRF_COOKIE = "builder_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: endpoints a browser may call without a CSRF header (nothing to protect yet)
CSRF_EXEMPT = frozenset({"auth.login"})
#: blueprints that never act as the session's user: public form pages and inbound
#: webhooks carry their own token, and a login cookie sent along changes nothing
CSRF_EXEMPT_BLUEPRINTS = frozenset({"public_forms", "hooks"})
#: Flask-Login keeps the user id under this session key
SESSION_USER_KEY = "_user_id"
SESSION_TOKEN_KEY = "sid"
SESSION_CSRF_KEY = "csrf"


class CsrfFailed(AppError):
    def __init__(self) -> None:
        super().__init__(gettext("error.csrf"), [], "csrf_failed", 403, {})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session whose Secure flag may follow the request's scheme."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app, request)


def cookie_secure(app: Flask, req: Request | None) -> bool:
    setting = app.config.get("SESSION_COOKIE_SECURE", "auto")
    if setting == "auto":
        return bool(req is not None and req.is_secure)
    return bool(setting)


def start(token_id: int) -> None:
    """Bind the session just logged in to its login token and give it a CSRF value."""
    session[SESSION_TOKEN_KEY] = token_id
    session[SESSION_CSRF_KEY] = secrets.token_urlsafe(32)


def session_token_id() -> int | None:
    value = session.get(SESSION_TOKEN_KEY)
    return value if isinstance(value, int) else None


def _has_session_login() -> bool:
    return SESSION_USER_KEY in session


def _check_csrf() -> None:
    from builder.platform.auth import bearer_token

    if request.method in SAFE_METHODS or request.endpoint in CSRF_EXEMPT:
        return
    if request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return
    if bearer_token() is not None or not _has_session_login():
        return
    expected = session.get(SESSION_CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise CsrfFailed()


def _csrf_cookie(response: Response) -> Response:
    """Keep the readable CSRF cookie in step with the session (set, renewed, removed)."""
    expected = session.get(SESSION_CSRF_KEY) if _has_session_login() else None
    if request.cookies.get(CSRF_COOKIE) == expected:
        return response
    app = current_app
    if expected is None:
        response.delete_cookie(CSRF_COOKIE, path="/")
    else:
        response.set_cookie(CSRF_COOKIE, expected, path="/", httponly=False,
                            samesite="Strict", secure=cookie_secure(app, request))
    return response


# --- login rate limits ------------------------------------------------------------------


def _login_limits(tenant: str, username: str) -> tuple[list[tuple[str, int]], timedelta]:
    config = current_app.config
    window = timedelta(seconds=int(config.get("LOGIN_LIMIT_WINDOW", 900)))
    user_bucket = f"login:user:{tenant.lower()}/{username.lower()}"[:200]
    ip_bucket = f"login:ip:{request.remote_addr or '-'}"[:200]
    return [(user_bucket, int(config.get("LOGIN_LIMIT_USER", 5))),
            (ip_bucket, int(config.get("LOGIN_LIMIT_IP", 50)))], window


def refuse_throttled_login(tenant: str, username: str) -> None:
    """429 when this user or this client address failed too often lately."""
    limits, window = _login_limits(tenant, username)
    ratelimit.refuse_over(limits, window, clock.now(), "platform.login_throttled")


def count_failed_login(tenant: str, username: str) -> None:
    limits, window = _login_limits(tenant, username)
    ratelimit.add([bucket for bucket, _limit in limits], window, clock.now())


def forget_failed_logins(tenant: str, username: str) -> None:
    """A successful login clears the user's failures (not the address's)."""
    limits, _window = _login_limits(tenant, username)
    ratelimit.forget(limits[0][0])


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(_check_csrf)
    app.after_request(_csrf_cookie)

