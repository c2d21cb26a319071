"""Import runs: upload a sheet, map its columns, preview, then run as a background job.

1. ``start(user, app, entity, file_id)`` reads the uploaded file (see ``/api/files``), keeps
   its header titles and suggests a column → field mapping;
2. ``preview(run, options)`` converts and checks the first rows without storing anything;
3. ``launch(run, options)`` queues ``run_import``, which records progress on the run and,
   at the end, how many rows were imported and every bad row with its reason (and, in
   ``skip_bad`` mode, a spreadsheet of the bad rows to fix and import again).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import AppError, Conflict, NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import User
from builder.runtime.documents import mapping as column_mapping
from builder.runtime.documents.importer import RowProblem, SheetImport
from builder.runtime.documents.models import ImportRun
from builder.runtime.documents.sheets import Sheet, read_sheet, write_xlsx
from builder.runtime.jobs import enqueue
from builder.runtime.records import RecordService
from builder.runtime.records.files import open_file, save_upload
from builder.runtime.storage.tables import entity_store

log = logging.getLogger(__name__)
MAX_ROWS = 100_000
PREVIEW_ROWS = 20
KEPT_PROBLEMS = 1000


def _sheet(run: ImportRun) -> Sheet:
    desc, path = open_file(run.tenant_id, run.file_id)
    return read_sheet(path, desc["name"], MAX_ROWS)


def _service(run: ImportRun, user: Any) -> RecordService:
    return RecordService(entity_store(run.tenant_id, run.app_key, run.entity), user,
                         commit=False)


def get_run(tenant_id: int, run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id) if 0 < run_id < 2**31 else None
    if run is None or run.tenant_id != tenant_id:
        raise NotFound(gettext("documents.error.import_not_found"))
    return run


def start(user: Any, app_key: str, entity_key: str, file_id: str) -> dict[str, Any]:
    """A new run for an uploaded file: its columns, the suggested mapping, the first rows."""
    store = entity_store(user.tenant_id, app_key, entity_key)
    desc, path = open_file(user.tenant_id, file_id)
    sheet = read_sheet(path, desc["name"], MAX_ROWS)
    run = ImportRun(tenant_id=user.tenant_id, app_key=app_key, entity=entity_key,
                    file_id=desc["id"], file_name=desc["name"], headers=sheet.headers,
                    total=len(sheet.rows), created_by=user.id, status="ready", phase="",
                    done=0, imported=0, failed=0, problems=[])
    db.session.add(run)
    db.session.commit()
    fields = column_mapping.importable_fields(store)
    return {**describe(run), "suggested": column_mapping.suggest(store, sheet.headers),
            "fields": [{"key": k, "title": f.get("title"), "type": f["type"],
                        "required": bool(f.get("required"))} for k, f in fields.items()],
            "sample": sheet.rows[:PREVIEW_ROWS]}


def _checked(run: ImportRun, service: RecordService, body: Mapping[str, Any]
             ) -> dict[str, Any]:
    return column_mapping.check_options(service.store, service.stores, run.headers, body)


def preview(user: Any, run: ImportRun, body: Mapping[str, Any]) -> dict[str, Any]:
    """The first rows as they would be stored, and their problems; nothing is written."""
    service = _service(run, user)
    options = _checked(run, service, body)
    sheet = _sheet(run)
    sample = Sheet(sheet.headers, sheet.rows[:PREVIEW_ROWS], sheet.first_row)
    good, problems = SheetImport(service, sample, options).check()
    db.session.rollback()
    rows = [{"row": sample.first_row + i, "data": good.get(i),
             "problems": [p.as_dict() for p in problems if p.row == sample.first_row + i]}
            for i in range(len(sample.rows))]
    return {"rows": rows, "options": options}


def launch(user: Any, run: ImportRun, body: Mapping[str, Any]) -> ImportRun:
    """Queue the import with checked options; a run goes once."""
    options = _checked(run, _service(run, user), body)
    updated = db.session.execute(sa.update(ImportRun).where(
        ImportRun.id == run.id, ImportRun.status == "ready").values(
        status="queued", options=options))
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise Conflict(gettext("documents.error.already_run"))
    enqueue(run_import, run.id)
    db.session.commit()
    db.session.refresh(run)
    return run


def run_import(run_id: int) -> None:
    """The job: import the sheet of a queued run, recording progress and the outcome."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "queued":
        return
    run.status, run.phase = "running", "checking"
    db.session.commit()
    user = db.session.get(User, run.created_by) if run.created_by else None
    options = dict(run.options or {})
    try:
        sheet = _sheet(run)
        job = SheetImport(_service(run, user), sheet, options)

        def progress(phase: str, done: int, total: int) -> None:
            # never commit writes of an all-or-nothing import half way
            if phase == "checking" or options.get("mode") == "skip_bad":
                run.phase, run.done, run.total = phase, done, total
                db.session.commit()

        result = job.run(progress)
        db.session.refresh(run)
        run.imported = result.imported
        run.failed = len(result.bad_rows)
        run.problems = [p.as_dict() for p in result.problems[:KEPT_PROBLEMS]]
        if result.problems:
            run.error_file_id = _bad_rows_file(run, sheet, result.problems)
        run.status, run.phase, run.done = "done", "done", result.total
        run.total, run.finished_at = result.total, utcnow()
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        _fail(run_id, str(exc))
    except Exception as exc:
        db.session.rollback()
        log.exception("import %s failed", run_id)
        _fail(run_id, gettext("documents.error.import_crashed", error=type(exc).__name__))


def _fail(run_id: int, message: str) -> None:
    run = db.session.get(ImportRun, run_id)
    if run is not None:
        run.status, run.error, run.finished_at = "failed", message, utcnow()
        db.session.commit()


def _bad_rows_file(run: ImportRun, sheet: Sheet, problems: list[RowProblem]) -> str:
    """The bad rows as they were, plus a column of reasons: fix them and import again."""
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        where = f"{problem.column}: " if problem.column else ""
        reasons.setdefault(problem.row, []).append(where + problem.message)
    rows = [[*sheet.rows[number - sheet.first_row], *([None] * (
        len(sheet.headers) - len(sheet.rows[number - sheet.first_row]))),
        "；".join(reasons[number])] for number in sorted(reasons)]
    out = io.BytesIO()
    write_xlsx(out, "errors", [*sheet.headers, gettext("documents.column.reason")], rows)
    out.seek(0)
    name = f"{run.file_name.rsplit('.', 1)[0]}-errors.xlsx"
    return str(save_upload(run.tenant_id, run.created_by, out, name,
                           "application/vnd.openxmlformats-officedocument."
                           "spreadsheetml.sheet")["id"])


def describe(run: ImportRun) -> dict[str, Any]:
    return {"id": run.id, "app": run.app_key, "entity": run.entity, "file": run.file_id,
            "file_name": run.file_name, "status": run.status, "headers": run.headers,
            "options": run.options, "progress": {"phase": run.phase, "done": run.done,
                                                 "total": run.total},
            "imported": run.imported, "failed": run.failed, "problems": run.problems,
            "error_file": run.error_file_id, "error": run.error,
            "created_at": run.created_at, "finished_at": run.finished_at}
