"""Generated spreadsheets and uploads against the importer and the file store, over HTTP.

Broken zips, random bytes, workbooks with formulas and 1 MB cells, CSV in GBK, UTF-16 and
with bad bytes, empty sheets and too many rows: every file is refused with a clear error or
imported; an import reports each bad row with its row, column and reason, and stores all
its rows or (all or nothing) none. Uploads with path traversal names, NUL bytes, very long
names, a content type that contradicts the bytes or a size over the limit are refused or
stored under a generated name inside the tenant's folder, and served as an attachment.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.runtime.records.helpers import records_url
from tests.trust.figures import record

EXAMPLES = int(os.environ.get("TRUST_EXAMPLES", "4")) * 6
SEED = 20261122
HEADERS = ["客户名称", "客户等级", "预算", "下次跟进日期", "备注"]
CELLS = st.one_of(
    st.none(), st.integers(-10**30, 10**30), st.floats(), st.text(max_size=30),
    st.sampled_from(["=1+1", "=cmd|' /C calc'!A0", "=HYPERLINK(\"http://x\",\"y\")", "+1-2",
                     "@SUM(A1)", "A类", "2026-13-45", "十万", "\x00\x01", "'; DROP TABLE x --",
                     "<script>alert(1)</script>", "{{7*7}}"]))
FIGURES = {"files": 0}


def _xlsx(rows: list[list[Any]], headers: list[str] | None = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    if headers is not None:
        sheet.append(headers)
    for row in rows:  # a workbook cannot hold control characters at all
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                      for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[list[Any]], encoding: str) -> bytes:
    lines = [",".join(HEADERS)] + [",".join("" if v is None else str(v).replace(",", " ")
                                            for v in row) for row in rows]
    return "\r\n".join(lines).encode(encoding, errors="replace")


@st.composite
def spreadsheets(draw: Any) -> tuple[bytes, str]:
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=8))
    kind = draw(st.sampled_from(["xlsx", "csv", "broken", "bytes", "big_cell", "empty",
                                 "headerless"]))
    if kind == "xlsx":
        return _xlsx(rows), "客户.xlsx"
    if kind == "csv":
        encoding = draw(st.sampled_from(["utf-8-sig", "gbk", "utf-16", "latin-1", "utf-8"]))
        return _csv(rows, encoding), "客户.csv"
    if kind == "broken":
        content = _xlsx(rows)
        cut = draw(st.integers(1, len(content) - 1))
        return content[:cut] + draw(st.binary(max_size=40)), "客户.xlsx"
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=300)), draw(
            st.sampled_from(["x.xlsx", "x.csv", "x.xls", "x"]))
    if kind == "big_cell":
        return _csv([["大客户", "A类", 1, None, "备" * 1_000_000]], "utf-8"), "大.csv"
    if kind == "empty":
        return _xlsx([], headers=None), "空.xlsx"
    return _xlsx(rows, headers=[None, None]), "无表头.xlsx"  # type: ignore[list-item]


def upload(client: Any, headers: dict[str, str], content: bytes, name: str,
           content_type: str = "application/octet-stream") -> Any:
    """Upload as a browser does, the body built in memory (the test client would spool a
    large one to a temporary file it never closes)."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), name,
                                                           content_type=content_type)})
    return client.post("/api/files", headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _count(client: Any, headers: dict[str, str]) -> int:
    response = client.get(records_url("customer"), headers=headers,
                          query_string={"count": "true", "limit": 1})
    return int(response.get_json()["total"])


def _refused(response: Any) -> bool:
    if response.status_code < 400:
        return False
    assert response.status_code < 500, response.get_json()
    error = response.get_json()["error"]
    assert error["message"] and all(d["path"] and d["message"] for d in error["details"])
    return True


def _import(client: Any, headers: dict[str, str], content: bytes, name: str, mode: str,
            run_jobs: Any) -> None:
    FIGURES["files"] += 1
    before = _count(client, headers)
    uploaded = upload(client, headers, content, name)
    if _refused(uploaded):
        return
    started = client.post("/api/apps/crm/customer/imports",
                          json={"file": uploaded.get_json()["id"]}, headers=headers)
    if _refused(started):
        assert _count(client, headers) == before
        return
    run = started.get_json()
    response = client.post(f"/api/imports/{run['id']}/run",
                           json={"mapping": run["suggested"], "mode": mode}, headers=headers)
    if _refused(response):
        assert _count(client, headers) == before
        return
    run_jobs()
    result = client.get(f"/api/imports/{run['id']}", headers=headers).get_json()
    assert result["status"] == "done", result
    total = result["progress"]["total"]
    assert result["imported"] + result["failed"] == total, result
    for problem in result["problems"]:
        assert problem["row"] >= 2 and problem["message"], problem
        assert "column" in problem, problem
    if mode == "all_or_nothing" and result["failed"]:
        assert result["imported"] == 0
    assert _count(client, headers) == before + result["imported"]


@settings(max_examples=EXAMPLES, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@seed(SEED)
@given(sheet=spreadsheets(), mode=st.sampled_from(["all_or_nothing", "skip_bad"]))
def test_generated_spreadsheets_import_cleanly(client: Any, crm: dict[str, str], run_jobs: Any,
                                               sheet: tuple[bytes, str], mode: str) -> None:
    _import(client, crm, sheet[0], sheet[1], mode, run_jobs)


def test_too_many_rows_are_refused_before_anything_is_stored(client: Any, crm: dict[str, str],
                                                             run_jobs: Any) -> None:
    rows = "\n".join(f"客户{i},A类,{i},," for i in range(100_001))
    content = (",".join(HEADERS) + "\n" + rows).encode("utf-8")
    uploaded = upload(client, crm, content, "很多.csv")
    assert uploaded.status_code == 201
    started = client.post("/api/apps/crm/customer/imports",
                          json={"file": uploaded.get_json()["id"]}, headers=crm)
    assert started.status_code == 422
    assert started.get_json()["error"]["details"][0]["path"] == "file"
    assert _count(client, crm) == 0
    record("importer", examples_tried=FIGURES["files"] + 1, server_errors=0)


NAMES = ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "a\x00b.txt",
         "x" * 5000 + ".txt", "<img src=x onerror=alert(1)>.html", "CON", ".", "..", "",
         "报告\u202egnp.exe", "a/b/c/../../d.png", "%2e%2e%2fetc%2fpasswd"]


@settings(max_examples=EXAMPLES, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@seed(SEED)
@given(name=st.one_of(st.sampled_from(NAMES), st.text(min_size=0, max_size=300)),
       declared=st.sampled_from(["image/png", "text/html", "application/pdf", "",
                                 "application/x-msdownload", "text/plain; charset=gbk"]),
       content=st.one_of(st.binary(min_size=0, max_size=200),
                         st.just(b"<html><script>alert(1)</script></html>")))
def test_uploads_are_refused_or_stored_safely(app: Any, client: Any, crm: dict[str, str],
                                             name: str, declared: str, content: bytes) -> None:
    root = Path(app.config["BUILDER"].files_dir).resolve()
    FIGURES["files"] += 1
    response = upload(client, crm, content, name, declared or "application/octet-stream")
    if _refused(response):
        assert not content or response.status_code in (400, 413, 422)
        return
    stored = response.get_json()
    assert "/" not in stored["name"] and "\\" not in stored["name"]
    assert "\x00" not in stored["name"] and len(stored["name"]) <= 200
    assert stored["content_type"] not in ("text/html", "image/png") or \
        content.startswith(b"\x89PNG")
    files = [p.resolve() for p in root.rglob("*") if p.is_file()]
    assert all(p.is_relative_to(root) and p.name != "passwd" for p in files)
    served = client.get(f"/api/files/{stored['id']}", headers=crm)
    assert served.status_code == 200 and served.data == content
    assert "attachment" in served.headers["Content-Disposition"] or \
        served.mimetype.startswith("image/")
    assert served.headers.get("X-Content-Type-Options") == "nosniff"
    assert not served.mimetype.startswith("text/html")
    served.close()


def test_an_oversized_upload_is_refused_and_leaves_no_file(app: Any, client: Any,
                                                            crm: dict[str, str]) -> None:
    app.config["BUILDER"].extra["max_upload_bytes"] = 100 * 1024
    root = Path(app.config["BUILDER"].files_dir)
    response = upload(client, crm, b"x" * (100 * 1024 + 1), "big.bin")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["code"] == "too_large"
    assert not [p for p in root.rglob("*") if p.is_file()]
    assert zipfile.is_zipfile(io.BytesIO(_xlsx([])))
    record("attachments", examples_tried=FIGURES["files"] + 1, server_errors=0)
