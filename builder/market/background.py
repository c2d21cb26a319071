"""Market operations as background job runs: ``GET /api/jobs/<id>`` shows their progress
while they run and their report (the run's result) when they end.

The whole operation still runs in one transaction, the job's: it is kept when the job
succeeds and undone when it fails or is cancelled (or, for a dry run, always undone).
"""

from __future__ import annotations

from typing import Any

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext, use_language
from builder.market import catalog, service
from builder.market.package import read_zip
from builder.market.report import Report
from builder.platform.models import User
from builder.runtime.jobs import job, report_progress, submit
from builder.runtime.records.files import open_file

OPERATIONS = ("install", "upgrade", "uninstall", "import", "clone")


def start(operation: str, user: User, language: str, **options: Any) -> str:
    """Queue ``operation`` for the user's tenant (it leaves when the caller commits);
    returns the job run id."""
    return submit(run_operation, (operation, user.id, language), options,
                  tenant_id=user.tenant_id, user_id=user.id, name=f"market.{operation}")


def _progress(done: int, total: int, message: str) -> None:
    report_progress(done, total, message)


@job("market")
def run_operation(operation: str, user_id: int, language: str, **options: Any
                  ) -> dict[str, Any]:
    """The job: run one market operation and return its report."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(gettext("error.unauthorized"))
    dry_run = bool(options.pop("dry_run", False))
    with use_language(language):
        report = _run(operation, user, options)
        result = report.as_dict(dry_run)
    service.complete(dry_run)
    return result


def _run(operation: str, user: User, options: dict[str, Any]) -> Report:
    tenant = user.tenant
    if operation == "install":
        return service.install(tenant, catalog.get_package(options["package"]), user,
                               demo_data=bool(options.get("demo_data")), progress=_progress)
    if operation == "upgrade":
        return service.upgrade(tenant, catalog.get_package(options["package"]), user,
                               progress=_progress)
    if operation == "uninstall":
        return service.uninstall(tenant, options["package"], user,
                                 purge=bool(options.get("purge")),
                                 export=bool(options.get("export")), progress=_progress)
    if operation == "import":
        descriptor, path = open_file(tenant.id, options["file"])
        package = read_zip(path.read_bytes(), descriptor["name"])
        if package.is_export:
            return service.import_package(tenant, package, user,
                                          with_data=bool(options.get("with_data", True)),
                                          progress=_progress)
        return service.install(tenant, package, user,
                               demo_data=bool(options.get("with_data")), progress=_progress)
    if operation == "clone":
        target, acting = service.clone_target(user, options["target"])
        return service.clone(tenant, target, acting, with_data=bool(options.get("with_data")),
                             progress=_progress)
    raise ValueError(f"unknown market operation {operation!r}")
