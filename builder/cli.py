"""The ``builder`` command: set up, serve, work jobs, and manage tenants and users.

Every command builds the app from the environment (see ``builder.config``); tests pass a
ready app as the click context object instead. Messages go through the ``cli`` catalogue,
in the language of ``BUILDER_LANG`` or ``LANG``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import sqlalchemy as sa
from flask import Flask

from builder import __version__, migrate
from builder.designer import service as designer
from builder.errors import AppError
from builder.extensions import db
from builder.i18n import gettext, normalize, use_language
from builder.platform import service
from builder.platform.models import Team, Tenant, User

F = TypeVar("F", bound=Callable[..., Any])
CREDENTIALS_FILE = "initial-credentials.json"


def cli_language() -> str:
    return normalize(os.environ.get("BUILDER_LANG") or os.environ.get("LANG"))


def _t(key: str, **params: Any) -> str:
    return gettext(key, language=cli_language(), **params)


def get_app(ctx: click.Context) -> Flask:
    """The app given as the context object (tests), else one built from the environment."""
    root = ctx.find_root()
    if isinstance(root.obj, Flask):
        return root.obj
    if not isinstance(root.obj, dict):
        root.obj = {}
    if "app" not in root.obj:
        from builder.app import create_app

        root.obj["app"] = create_app()
    return cast(Flask, root.obj["app"])


@contextmanager
def app_session(ctx: click.Context) -> Iterator[Flask]:
    """The app, inside an app context whose transaction commits when the block succeeds."""
    app = get_app(ctx)
    with app.app_context():
        try:
            yield app
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def friendly_errors(command: F) -> F:
    """Domain errors become a one-line message and exit status 1, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AppError as error:
            details = [f"{p.path}: {p.message}" for p in error.details
                       if p.message != error.message]
            text = f"{error.message} ({'; '.join(details)})" if details else error.message
            raise click.ClickException(text) from None

    return cast(F, wrapper)


@click.group(help=_t("cli.help.main"))
@click.version_option(__version__, prog_name="builder")
@click.pass_context
def main(ctx: click.Context) -> None:
    ctx.with_resource(use_language(cli_language()))


# --- set-up --------------------------------------------------------------------------------


def _credentials_path(app: Flask) -> Path:
    return Path(app.config["BUILDER"].instance_dir) / CREDENTIALS_FILE


def _remembered_password(app: Flask, tenant: str, username: str) -> str | None:
    path = _credentials_path(app)
    if not path.exists():
        return None
    stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return stored.get(f"{tenant}/{username}")


def _remember_password(app: Flask, tenant: str, username: str, password: str) -> None:
    """Generated passwords are kept (owner-readable only) so later runs can show them again."""
    path = _credentials_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    stored[f"{tenant}/{username}"] = password
    path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    path.chmod(0o600)


def ensure_tenant(slug: str, name: str | None = None) -> tuple[Tenant, bool]:
    tenant = service.get_tenant(slug)
    if tenant is not None:
        return tenant, False
    return service.create_tenant(slug, name), True


def ensure_user(app: Flask, tenant: Tenant, username: str, password: str | None = None,
                **attributes: Any) -> tuple[User, str | None]:
    """The user, created if missing. Returns the password to show: the one given or
    generated now, or a generated one remembered from an earlier run; None if unknown."""
    user = service.get_user_by_username(tenant, username)
    if user is not None:
        return user, password or _remembered_password(app, tenant.slug, username)
    if password is None:
        password = secrets.token_urlsafe(9)
        _remember_password(app, tenant.slug, username, password)
    return service.create_user(tenant, username, password, **attributes), password


#: The market packages the demo tenant gets, with their demo data, and the people of each
#: demo who get a password so they can log in (a rep, their supervisor, the general manager).
DEMO_PACKAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("crm_starter", ()),
    ("sales", ("zhang.wei", "chen.jing", "sun.li")),
)


def seed_demo(app: Flask, admin_password: str | None = None) -> list[tuple[str, str, str | None]]:
    """Demo data for ``builder init --demo``: tenant ``demo``, admin ``admin``, rep ``rep``,
    and the market's demo packages (the CRM starter, the sales-management app) with their
    demo data and people.

    Returns (tenant, username, password) of each demo login. Runs in an app context;
    the caller commits. Safe to run again: what exists is kept.
    """
    tenant, _ = ensure_tenant("demo", "Demo")
    admin, admin_pw = ensure_user(app, tenant, "admin", admin_password, is_tenant_admin=True)
    rep, rep_pw = ensure_user(app, tenant, "rep", None)
    sales = db.session.scalar(sa.select(Team).where(Team.tenant_id == tenant.id,
                                                    Team.key == "sales"))
    if sales is None:
        service.create_team(tenant, "sales", "Sales", manager=admin, members=[rep])
    logins = [(tenant.slug, admin.username, admin_pw), (tenant.slug, rep.username, rep_pw)]
    for key, people in DEMO_PACKAGES:
        if _install_demo_package(app, tenant, admin, key):
            logins += [(tenant.slug, name, _demo_password(app, tenant, name)) for name in people]
    return logins


def _install_demo_package(app: Flask, tenant: Tenant, admin: User, key: str) -> bool:
    """Install market package ``key`` with its demo data unless its apps' keys are taken by
    other apps; True if it is installed."""
    if not (Path(app.config["BUILDER"].market_dir) / key).is_dir():
        return False
    db.session.flush()
    from builder.market import catalog, installer

    package = catalog.get_package(key)
    taken = any(designer.find_app(tenant.id, str(d.get("key"))) for d in package.apps())
    if catalog.find_install(tenant.id, package.key) is None and taken:
        return False
    installer.install(tenant, package, admin, demo_data=True)
    return True


def _demo_password(app: Flask, tenant: Tenant, username: str) -> str | None:
    """The password of a demo person the package created without one: generated and
    remembered the first time; None if the person is missing."""
    user = service.get_user_by_username(tenant, username)
    if user is None:
        return None
    if user.password_hash:
        return _remembered_password(app, tenant.slug, username)
    password = secrets.token_urlsafe(9)
    service.set_password(user, password)
    _remember_password(app, tenant.slug, username, password)
    return password


def _print_logins(logins: list[tuple[str, str, str | None]]) -> None:
    port = os.environ.get("PORT", "5000")
    click.echo(_t("cli.init.open", url=f"http://127.0.0.1:{port}/"))
    for tenant, username, password in logins:
        shown = password if password is not None else _t("cli.init.password_unchanged")
        click.echo(_t("cli.init.login", tenant=tenant, username=username, password=shown))


@main.command("init", help=_t("cli.help.init"))
@click.option("--tenant", "tenant_slug", default="demo", show_default=True)
@click.option("--tenant-name", default=None)
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-password", envvar="BUILDER_ADMIN_PASSWORD", default=None,
              help=_t("cli.help.admin_password"))
@click.option("--demo", is_flag=True, help=_t("cli.help.demo"))
@click.pass_context
@friendly_errors
def init_command(ctx: click.Context, tenant_slug: str, tenant_name: str | None,
                 admin_username: str, admin_password: str | None, demo: bool) -> None:
    app = get_app(ctx)
    config = app.config["BUILDER"]
    Path(config.instance_dir).mkdir(parents=True, exist_ok=True)
    Path(config.files_dir).mkdir(parents=True, exist_ok=True)
    migrate.upgrade(app)
    click.echo(_t("cli.migrated", revision=migrate.current_revision(app) or "-"))
    with app_session(ctx):
        if demo:
            logins = seed_demo(app, admin_password)
        else:
            tenant, _ = ensure_tenant(tenant_slug, tenant_name)
            admin, password = ensure_user(app, tenant, admin_username, admin_password,
                                          is_tenant_admin=True)
            logins = [(tenant.slug, admin.username, password)]
    _print_logins(logins)


@main.command("migrate", help=_t("cli.help.migrate"))
@click.pass_context
def migrate_command(ctx: click.Context) -> None:
    app = get_app(ctx)
    migrate.upgrade(app)
    click.echo(_t("cli.migrated", revision=migrate.current_revision(app) or "-"))


# --- processes -----------------------------------------------------------------------------


@main.command("serve", help=_t("cli.help.serve"))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, envvar="PORT", default=5000, show_default=True)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from builder.runtime.jobs import get_jobs
    from builder.runtime.jobs.scheduler import SchedulerThread

    app = get_app(ctx)
    # Without Redis, timers fire and lost jobs are found here; with Redis, workers do it.
    scheduler = None if get_jobs(app).uses_redis else SchedulerThread(app)
    if scheduler is not None:
        scheduler.start()
    click.echo(_t("cli.serving", url=f"http://{host}:{port}/"))
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.stop()


@main.command("worker", help=_t("cli.help.worker"))
@click.option("--burst", is_flag=True, help=_t("cli.help.burst"))
@click.pass_context
def worker_command(ctx: click.Context, burst: bool) -> None:
    from builder.runtime import jobs

    app = get_app(ctx)
    if not jobs.get_jobs(app).uses_redis:
        raise click.ClickException(_t("cli.worker.no_redis"))
    jobs.work(app, burst=burst)


# --- tenants, users, roles -----------------------------------------------------------------


@main.group("tenant", help=_t("cli.help.tenant"))
def tenant_group() -> None:
    pass


@tenant_group.command("create", help=_t("cli.help.tenant_create"))
@click.argument("slug")
@click.option("--name", default=None)
@click.pass_context
@friendly_errors
def tenant_create(ctx: click.Context, slug: str, name: str | None) -> None:
    with app_session(ctx):
        tenant = service.create_tenant(slug, name)
        message = _t("cli.tenant.created", slug=tenant.slug, id=tenant.id)
    click.echo(message)


@tenant_group.command("list", help=_t("cli.help.tenant_list"))
@click.pass_context
def tenant_list(ctx: click.Context) -> None:
    with app_session(ctx):
        for tenant in service.list_tenants():
            state = "" if tenant.is_active else f"\t{_t('cli.inactive')}"
            click.echo(f"{tenant.slug}\t{tenant.name}{state}")


def _tenant_or_fail(slug: str) -> Tenant:
    tenant = service.get_tenant(slug)
    if tenant is None:
        raise click.ClickException(_t("cli.tenant.not_found", slug=slug))
    return tenant


@main.group("user", help=_t("cli.help.user"))
def user_group() -> None:
    pass


@user_group.command("create", help=_t("cli.help.user_create"))
@click.argument("username")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", "is_admin", is_flag=True, help=_t("cli.help.admin"))
@click.option("--role", "roles", multiple=True, help=_t("cli.help.role"))
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.pass_context
@friendly_errors
def user_create(ctx: click.Context, username: str, tenant_slug: str, password: str,
                is_admin: bool, roles: tuple[str, ...], display_name: str | None,
                email: str | None) -> None:
    with app_session(ctx):
        tenant = _tenant_or_fail(tenant_slug)
        user = service.create_user(tenant, username, password, is_tenant_admin=is_admin,
                                   roles=roles, display_name=display_name, email=email)
        message = _t("cli.user.created", username=user.username, tenant=tenant.slug)
    click.echo(message)


@main.group("role", help=_t("cli.help.role_group"))
def role_group() -> None:
    pass


@role_group.command("create", help=_t("cli.help.role_create"))
@click.argument("key")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--title-zh", default=None)
@click.option("--title-en", default=None)
@click.pass_context
@friendly_errors
def role_create(ctx: click.Context, key: str, tenant_slug: str, title_zh: str | None,
                title_en: str | None) -> None:
    with app_session(ctx):
        tenant = _tenant_or_fail(tenant_slug)
        role = service.create_role(tenant, key, {"zh-CN": title_zh or title_en or key,
                                                 "en": title_en or title_zh or key})
        message = _t("cli.role.created", code=role.key, tenant=tenant.slug)
    click.echo(message)


def _add_market_commands() -> None:
    from builder.market.commands import market_group, tenant_commands

    main.add_command(market_group)
    for command in tenant_commands:
        tenant_group.add_command(command)


_add_market_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
