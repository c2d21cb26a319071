"""Command line: ``builder market list|install|upgrade|uninstall`` and
``builder tenant export|import|clone`` (``builder.cli`` adds them to its groups).
Progress goes to the terminal as it happens; each command ends with its report
(``--json`` prints it whole)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from builder import cli as base
from builder.i18n import localized
from builder.market import catalog, service
from builder.market.package import read_zip
from builder.market.report import Report
from builder.platform import service as platform
from builder.platform.models import Tenant, User

_t = base._t


def _progress(done: int, total: int, message: str) -> None:
    click.echo(f"[{done}/{total}] {message}")


def _acting(tenant: Tenant, username: str | None) -> User | None:
    if username is None:
        return service.acting_admin(tenant)
    user = platform.get_user_by_username(tenant, username)
    if user is None:
        raise click.ClickException(_t("market.cli.user_not_found", username=username,
                                      tenant=tenant.slug))
    return user


def _show(report: Report, dry_run: bool, as_json: bool) -> None:
    data = report.as_dict(dry_run)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(_t("market.cli.done" if not dry_run else "market.cli.planned",
                  operation=report.operation, package=report.package,
                  version=report.version or "-", action=report.action))
    for app in report.apps:
        click.echo(f"  {app['app']}: {app['action']}")
        for sentence in app["changes"][:50]:
            click.echo(f"    - {sentence}")
    for conflict in report.conflicts:
        click.echo("  ! " + conflict["message"])
    for name, count in report.records.items():
        click.echo(_t("market.cli.records", name=name, count=count))
    for missing in report.unmapped_users:
        click.echo(_t("market.cli.unmapped", username=missing["username"],
                      count=missing["count"]))
    for note in report.notes:
        click.echo(f"  {note}")


def _run(report: Report, dry_run: bool, as_json: bool) -> None:
    service.complete(dry_run)
    _show(report, dry_run, as_json)


@click.group("market", help=_t("market.cli.help.market"))
def market_group() -> None:
    pass


@market_group.command("list", help=_t("market.cli.help.list"))
@click.option("--tenant", "tenant_slug", default=None)
@click.pass_context
@base.friendly_errors
def market_list(ctx: click.Context, tenant_slug: str | None) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(tenant_slug) if tenant_slug else None
        for item in catalog.list_packages(tenant.id if tenant else 0):
            installed = item["installed"]
            state = f"\t{installed['state']} {installed['version']}" if installed else ""
            title = localized(item["title"]) if item["title"] else "?"
            click.echo(f"{item['key']}\t{item['version'] or '-'}\t{title}{state}")


_tenant_option = click.option("--tenant", "tenant_slug", required=True)
_dry_run_option = click.option("--dry-run", is_flag=True, help=_t("market.cli.help.dry_run"))
_json_option = click.option("--json", "as_json", is_flag=True, help=_t("market.cli.help.json"))
_as_option = click.option("--as", "username", default=None, help=_t("market.cli.help.as"))


@market_group.command("install", help=_t("market.cli.help.install"))
@click.argument("package")
@_tenant_option
@click.option("--demo-data", is_flag=True, help=_t("market.cli.help.demo_data"))
@_dry_run_option
@_json_option
@_as_option
@click.pass_context
@base.friendly_errors
def market_install(ctx: click.Context, package: str, tenant_slug: str, demo_data: bool,
                   dry_run: bool, as_json: bool, username: str | None) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(tenant_slug)
        report = service.install(tenant, catalog.open_package(package),
                                 _acting(tenant, username), demo_data=demo_data,
                                 progress=_progress)
        _run(report, dry_run, as_json)


@market_group.command("upgrade", help=_t("market.cli.help.upgrade"))
@click.argument("package")
@_tenant_option
@_dry_run_option
@_json_option
@_as_option
@click.pass_context
@base.friendly_errors
def market_upgrade(ctx: click.Context, package: str, tenant_slug: str, dry_run: bool,
                   as_json: bool, username: str | None) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(tenant_slug)
        report = service.upgrade(tenant, catalog.open_package(package),
                                 _acting(tenant, username), progress=_progress)
        _run(report, dry_run, as_json)


@market_group.command("uninstall", help=_t("market.cli.help.uninstall"))
@click.argument("package")
@_tenant_option
@click.option("--purge", is_flag=True, help=_t("market.cli.help.purge"))
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=_t("market.cli.help.export_first"))
@_dry_run_option
@_json_option
@_as_option
@click.pass_context
@base.friendly_errors
def market_uninstall(ctx: click.Context, package: str, tenant_slug: str, purge: bool,
                     export_path: Path | None, dry_run: bool, as_json: bool,
                     username: str | None) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(tenant_slug)
        record = catalog.find_install(tenant.id, package)
        if export_path is not None and record is not None:
            apps = [k for k in record.base if service.published(tenant.id, k)]
            if apps:
                content, _name = service.export_zip(tenant, apps, with_data=True)
                export_path.write_bytes(content)
                click.echo(_t("market.cli.exported", path=str(export_path)))
        report = service.uninstall(tenant, package, _acting(tenant, username), purge=purge,
                                   progress=_progress)
        _run(report, dry_run, as_json)


@click.command("export", help=_t("market.cli.help.export"))
@click.argument("slug")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--app", "apps", multiple=True, help=_t("market.cli.help.app"))
@click.option("--with-data", is_flag=True, help=_t("market.cli.help.with_data"))
@click.pass_context
@base.friendly_errors
def tenant_export(ctx: click.Context, slug: str, path: Path, apps: tuple[str, ...],
                  with_data: bool) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(slug)
        content, _name = service.export_zip(tenant, list(apps) or None, with_data=with_data)
    path.write_bytes(content)
    click.echo(_t("market.cli.exported", path=str(path)))


@click.command("import", help=_t("market.cli.help.import"))
@click.argument("slug")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--without-data", is_flag=True, help=_t("market.cli.help.without_data"))
@_dry_run_option
@_json_option
@_as_option
@click.pass_context
@base.friendly_errors
def tenant_import(ctx: click.Context, slug: str, path: Path, without_data: bool,
                  dry_run: bool, as_json: bool, username: str | None) -> None:
    with base.app_session(ctx):
        tenant = base._tenant_or_fail(slug)
        report = service.import_package(tenant, read_zip(path.read_bytes(), path.name),
                                        _acting(tenant, username),
                                        with_data=not without_data, progress=_progress)
        _run(report, dry_run, as_json)


@click.command("clone", help=_t("market.cli.help.clone"))
@click.argument("source_slug")
@click.argument("target_slug")
@click.option("--with-data", is_flag=True, help=_t("market.cli.help.with_data"))
@_dry_run_option
@_json_option
@_as_option
@click.pass_context
@base.friendly_errors
def tenant_clone(ctx: click.Context, source_slug: str, target_slug: str, with_data: bool,
                 dry_run: bool, as_json: bool, username: str | None) -> None:
    """The target tenant is created when it does not exist yet."""
    with base.app_session(ctx):
        source = base._tenant_or_fail(source_slug)
        target, _created = base.ensure_tenant(target_slug)
        report = service.clone(source, target, _acting(target, username),
                               with_data=with_data, progress=_progress)
        _run(report, dry_run, as_json)


#: commands of ``builder tenant``
tenant_commands = (tenant_export, tenant_import, tenant_clone)
