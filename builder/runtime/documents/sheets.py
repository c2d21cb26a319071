"""Reading and writing spreadsheets: .xlsx through openpyxl, .csv in UTF-8 or GB18030.

``read_sheet`` gives the header titles and the data rows of the first worksheet (or a CSV
file) as plain Python values; ``write_xlsx`` writes titled columns. Both stream, so 20,000
rows stay well under a second and a few megabytes of memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext

#: encodings tried in order for CSV: Excel on a Chinese Windows saves GB18030 (GBK)
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
MAX_COLUMNS = 200
ILLEGAL_CHARS = {i for i in range(32)} - {9, 10, 13}


@dataclass
class Sheet:
    """The header titles and data rows of a table; ``first_row`` is the spreadsheet row
    number of ``rows[0]`` (the header is on the row before)."""

    headers: list[str]
    rows: list[list[Any]]
    first_row: int = 2


def _bad_file(reason_key: str, **params: Any) -> ValidationFailed:
    message = gettext(reason_key, **params)
    return ValidationFailed(gettext("documents.error.bad_file"), [Problem("file", message,
                                                                          "bad_file")])


def _trimmed(row: Sequence[Any]) -> list[Any]:
    values = [None if (isinstance(v, str) and not v.strip()) else v for v in row]
    while values and values[-1] is None:
        values.pop()
    return values


def _headers(raw: Sequence[Any]) -> list[str]:
    headers = ["" if v is None else str(v).strip() for v in raw]
    if not any(headers):
        raise _bad_file("documents.error.no_header")
    if len(headers) > MAX_COLUMNS:
        raise _bad_file("documents.error.too_many_columns", max=MAX_COLUMNS)
    return headers


def _sheet(rows: Iterator[Sequence[Any]], max_rows: int) -> Sheet:
    header: list[str] | None = None
    data: list[list[Any]] = []
    first_row = 2
    number = 0
    for number, raw in enumerate(rows, start=1):
        values = _trimmed(raw)
        if header is None:
            if not values:
                continue
            header = _headers(values)
            first_row = number + 1
            continue
        data.append(values)
        if len(data) > max_rows:
            raise _bad_file("documents.error.too_many_rows", max=max_rows)
    if header is None:
        raise _bad_file("documents.error.no_header")
    while data and not data[-1]:
        data.pop()
    return Sheet(header, data, first_row)


def read_sheet(path: Path, name: str, max_rows: int) -> Sheet:
    """The first worksheet of an .xlsx file, or a .csv file (chosen by content, then name).

    A file that is neither is a 422 at ``file`` saying so; formulas give their cached value.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK"):
        return _read_xlsx(path, max_rows)
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise _bad_file("documents.error.not_a_spreadsheet")
    return _read_csv(path, max_rows)


def _read_xlsx(path: Path, max_rows: int) -> Sheet:
    # a file object: stored uploads have no extension, which openpyxl would refuse
    with open(path, "rb") as handle:
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise _bad_file("documents.error.not_a_spreadsheet") from None
        try:
            sheet = book.worksheets[0] if book.worksheets else None
            if sheet is None:
                raise _bad_file("documents.error.no_header")
            return _sheet(sheet.iter_rows(values_only=True), max_rows)
        finally:
            book.close()


def _read_csv(path: Path, max_rows: int) -> Sheet:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise _bad_file("documents.error.not_a_spreadsheet")
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _bad_file("documents.error.encoding")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return _sheet(csv.reader(io.StringIO(text, newline=""), dialect), max_rows)
    except csv.Error as exc:  # e.g. a cell over the reader's field limit (128 KB)
        raise _bad_file("documents.error.csv_unreadable", reason=str(exc)) from exc


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 → A, 27 → AB."""
    return get_column_letter(index + 1)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = "、".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = str(value.get("name") or value.get("id") or "")
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, str):
        if any(ord(ch) in ILLEGAL_CHARS for ch in value):
            value = "".join(ch for ch in value if ord(ch) not in ILLEGAL_CHARS)
        if value[:1] in ("=", "+", "-", "@") and not _is_number(value):
            value = "'" + value  # never let a cell become a formula (CSV/formula injection)
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def sheet_title(title: str | None) -> str:
    """A worksheet name from any title: without the characters Excel forbids in one
    (``[]:*?/\\``), not starting or ending with an apostrophe, 31 characters at most."""
    text = "".join(ch for ch in title or "" if ord(ch) not in ILLEGAL_CHARS)
    text = re.sub(r"[\[\]:*?/\\]", "_", text)
    return text[:31].strip("'").strip() or "Sheet1"


def write_xlsx(out: IO[bytes], title: str, headers: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> int:
    """Write one worksheet with a bold header row; returns the number of data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append([_cell(v) for v in row])
        count += 1
    book.save(out)
    return count


def is_temporal(value: Any) -> bool:
    return isinstance(value, (date, datetime))
