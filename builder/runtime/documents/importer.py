"""Spreadsheet rows → records, with every bad row reported by row number, column and reason.

An import runs in two passes. The first converts each cell through its field type
(``from_cell`` then ``parse``; related records matched by a key field, users by name,
select options by title) and validates every row with the records validator, without
writing: so all problems of the file are known before anything is stored, duplicates
inside the file included. The second pass writes through ``RecordService.bulk_create`` in
chunks, so records are audited and the engines react exactly as to any other create.

Modes: ``all_or_nothing`` stores nothing when any row is bad (one transaction);
``skip_bad`` stores the good rows, chunk by chunk, and returns the bad ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from builder.database import utcnow
from builder.errors import ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.documents import lookups
from builder.runtime.documents.mapping import field_title
from builder.runtime.documents.sheets import Sheet, column_letter
from builder.runtime.records import RecordService
from builder.schema.field_types import FieldValueError, field_type_registry

CHUNK = 500
_ROW_PATH = re.compile(r"^rows\[(\d+)\]\.?([A-Za-z0-9_]*)")
Progress = Callable[[str, int, int], None]


@dataclass
class RowProblem:
    """One reason a row cannot be imported: spreadsheet row number, column title and
    letter (empty when the problem is not about one column), field key, message."""

    row: int
    column: str
    letter: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "letter": self.letter,
                "field": self.field, "message": self.message}


@dataclass
class ImportResult:
    total: int
    imported: int
    problems: list[RowProblem] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


class SheetImport:
    """One sheet going into one entity with checked options (see ``mapping.check_options``)."""

    def __init__(self, service: RecordService, sheet: Sheet, options: Mapping[str, Any]
                 ) -> None:
        self.service = service
        self.store = service.store
        self.sheet = sheet
        self.mapping: dict[str, str] = dict(options["mapping"])
        self.mode: str = options["mode"]
        self.match: dict[str, str] = dict(options.get("match") or {})
        self.zone = ZoneInfo(options.get("timezone") or "Asia/Shanghai")
        self.columns = {h: i for i, h in enumerate(sheet.headers) if h}
        self.header_of = {key: header for header, key in self.mapping.items()}
        self._found: dict[str, dict[str, Any]] = {}

    # -- pass 1: convert and validate -------------------------------------------------------

    def row_number(self, index: int) -> int:
        return self.sheet.first_row + index

    def _problem(self, index: int, key: str, message: str) -> RowProblem:
        header = self.header_of.get(key, "")
        letter = column_letter(self.columns[header]) if header in self.columns else ""
        return RowProblem(self.row_number(index), header or (field_title(self.store, key)
                                                              if key else ""),
                          letter, key, message)

    def _prefetch(self, rows: list[list[Any]]) -> None:
        """Look up related records and users for every referenced cell, in batches."""
        for header, key in self.mapping.items():
            field_def = self.store.fields[key]
            index = self.columns[header]
            values = [r[index] for r in rows if index < len(r) and r[index] is not None]
            if field_def["type"] == "relation":
                target = self.service.stores[str(field_def["entity"])]
                key_field = self.match.get(key) or lookups.title_field(target) or "id"
                self._found[key] = lookups.records_by_key(target, key_field, values)
            elif field_def["type"] == "user":
                self._found[key] = lookups.users_by_name(self.store.tenant_id, values)

    def convert(self, index: int, row: list[Any]) -> tuple[dict[str, Any], list[RowProblem]]:
        """One row's cells → API input, and the cells that could not be read."""
        data: dict[str, Any] = {}
        problems: list[RowProblem] = []
        for header, key in self.mapping.items():
            column = self.columns[header]
            raw = row[column] if column < len(row) else None
            if raw is None:
                continue
            field_def = self.store.fields[key]
            kind = field_def["type"]
            if kind in ("relation", "user"):
                found = lookups.lookup(self._found.get(key, {}), raw)
                if found is lookups.AMBIGUOUS:
                    problems.append(self._problem(index, key, gettext(
                        "documents.error.ambiguous", value=str(raw))))
                elif found is None:
                    problems.append(self._problem(index, key, gettext(
                        "documents.error.no_match" if kind == "relation"
                        else "documents.error.no_user", value=str(raw))))
                else:
                    data[key] = found
                continue
            if isinstance(raw, datetime) and raw.tzinfo is None and kind == "datetime":
                raw = raw.replace(tzinfo=self.zone)
            field_type = field_type_registry.get(kind)
            try:
                data[key] = field_type.parse(field_type.from_cell(raw, field_def), field_def)
            except FieldValueError as exc:
                problems.append(self._problem(index, key, exc.message()))
            if hasattr(data.get(key), "isoformat"):
                data[key] = data[key].isoformat()
            elif kind in ("number", "money", "percent") and data.get(key) is not None:
                data[key] = str(data[key])
        return data, problems

    def check(self, progress: Progress | None = None) -> tuple[
            dict[int, dict[str, Any]], list[RowProblem]]:
        """Pass 1 over the whole sheet: the input of each good row by index, and every
        problem of the bad ones."""
        rows = self.sheet.rows
        self._prefetch(rows)
        validator = self.service.validator(utcnow())
        good: dict[int, dict[str, Any]] = {}
        problems: list[RowProblem] = []
        for index, row in enumerate(rows):
            if not any(v is not None for v in row):
                continue
            data, cell_problems = self.convert(index, row)
            before = len(validator.problems)
            validator.prepare(self.store, data, path=f"rows[{index}].")
            checked = [self._from_path(p.path, p.message) for p in validator.problems[before:]]
            # a cell that could not be read is reported once, not again as "required"
            reported = {p.field for p in cell_problems}
            row_problems = cell_problems + [p for p in checked if p.field not in reported]
            if row_problems:
                problems.extend(row_problems)
            else:
                good[index] = data
            if progress and (index + 1) % CHUNK == 0:
                progress("checking", index + 1, len(rows))
        return good, problems

    def _from_path(self, path: str, message: str) -> RowProblem:
        match = _ROW_PATH.match(path)
        index = int(match.group(1)) if match else 0
        key = match.group(2) if match else ""
        return self._problem(index, key if key in self.store.fields else "", message)

    # -- pass 2: write ----------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> ImportResult:
        """Check, then store according to the mode; the caller's session is committed."""
        good, problems = self.check(progress)
        total = sum(1 for row in self.sheet.rows if any(v is not None for v in row))
        result = ImportResult(total, 0, problems)
        if self.mode == "all_or_nothing" and problems:
            db.session.rollback()
            return result
        indexes = sorted(good)
        writer = RecordService(self.store, self.service.user, stores=self.service.stores,
                               commit=False)
        for start in range(0, len(indexes), CHUNK):
            chunk = indexes[start:start + CHUNK]
            try:
                created = self._write_chunk(writer, chunk, good, result)
            except ValidationFailed:
                if self.mode == "all_or_nothing":
                    result.imported = 0
                    result.record_ids = []
                    return result
                raise
            result.imported += len(created)
            result.record_ids.extend(int(r["id"]) for r in created)
            if self.mode == "skip_bad":
                db.session.commit()
            if progress:
                progress("writing", start + len(chunk), len(indexes))
        db.session.commit()
        result.problems.sort(key=lambda p: (p.row, p.letter))
        return result

    def _write_chunk(self, writer: RecordService, chunk: list[int],
                     good: Mapping[int, dict[str, Any]], result: ImportResult
                     ) -> list[dict[str, Any]]:
        """Write a chunk; in ``skip_bad`` mode, rows refused at write time (a value taken
        meanwhile, a guard) are reported and the rest written again."""
        pending = list(chunk)
        while pending:
            try:
                return writer.bulk_create([good[i] for i in pending])
            except ValidationFailed as exc:
                failed = {}
                for problem in exc.details:
                    match = _ROW_PATH.match(problem.path)
                    if match is None:
                        raise
                    index = pending[int(match.group(1))]
                    failed[index] = True
                    key = match.group(2)
                    result.problems.append(self._problem(
                        index, key if key in self.store.fields else "", problem.message))
                if self.mode == "all_or_nothing" or not failed:
                    raise
                pending = [i for i in pending if i not in failed]
        return []
