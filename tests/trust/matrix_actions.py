"""The permission matrix's checks of import, print and approval decisions, per role.

- import: a role without ``import`` is refused at the start and when running someone
  else's import; a role with it uploads a sheet, is offered only fields it may write, runs
  the import and sees it done;
- print: refused without ``print`` or ``read`` (403), 404 outside the read scope, else a
  PDF whose text shows no value of a field the role may not read;
- approve: a run is routed to the role's user (the manager of a tenant admin who submits
  it); their decision is refused without ``approve`` on the entity, the run left as it was,
  and accepted with it.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from typing import Any, Protocol

from openpyxl import Workbook

from builder.extensions import db
from builder.i18n import localized
from builder.platform.models import Team, User
from tests.trust.matrix import Expected

TRIES = 15  # records tried before a chain is skipped as never entered


class Checker(Protocol):
    client: Any
    fields_checked: int

    def expect(self, ok: bool, what: str) -> None: ...

    def status(self, answer: Any, wanted: tuple[int, ...], what: str) -> None: ...


def _sheet(entity: dict[str, Any], label: str) -> bytes:
    fields = {f["key"]: f for f in entity["fields"]}
    key = entity.get("title_field") if entity.get("title_field") in fields else \
        next((k for k, f in fields.items() if f["type"] == "text"), next(iter(fields)))
    book = Workbook()
    book.active.append([localized(fields[key].get("title"), "zh-CN") or key])
    book.active.append([f"matrix {label}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: Any, headers: dict[str, str], content: bytes) -> Any:
    return client.post("/api/files", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), "matrix.xlsx",
                                      "application/octet-stream")})


def admin_import(client: Any, admin: dict[str, str], app: str, entity: dict[str, Any]
                 ) -> dict[str, Any]:
    """An import of the entity started by the tenant admin, for others to try to run."""
    uploaded = _upload(client, admin, _sheet(entity, "admin")).get_json()
    started = client.post(f"/api/apps/{app}/{entity['key']}/imports", headers=admin,
                          json={"file": uploaded["id"]})
    assert started.status_code == 201, started.get_json()
    return started.get_json()  # type: ignore[no-any-return]


def check_import(m: Checker, app: str, entity: dict[str, Any], rights: Expected,
                 headers: dict[str, str], admin_run: dict[str, Any],
                 run_jobs: Callable[[], None], label: str) -> None:
    client = m.client
    url = f"/api/apps/{app}/{entity['key']}/imports"
    if "import" not in rights.actions:
        m.status(client.post(url, headers=headers, json={"file": "none"}), (403,),
                 f"{label} import start")
        m.status(client.post(f"/api/imports/{admin_run['id']}/run", headers=headers,
                             json={"mapping": admin_run["suggested"], "mode": "skip_bad"}),
                 (403,), f"{label} runs another's import")
        return
    uploaded = _upload(client, headers, _sheet(entity, label))
    m.status(uploaded, (201,), f"{label} upload for import")
    started = client.post(url, headers=headers, json={"file": uploaded.get_json()["id"]})
    m.status(started, (201,), f"{label} import start")
    if started.status_code != 201:
        return
    run = started.get_json()
    offered = {f["key"] for f in run["fields"]}
    m.fields_checked += len(rights.locked)
    m.expect(not offered & rights.locked, f"{label} import offers {offered & rights.locked}")
    ran = client.post(f"/api/imports/{run['id']}/run", headers=headers,
                      json={"mapping": run["suggested"], "mode": "skip_bad"})
    m.status(ran, (202,), f"{label} import run")
    run_jobs()
    done = client.get(f"/api/imports/{run['id']}", headers=headers).get_json()
    m.expect(done.get("status") == "done", f"{label} import ends {done.get('status')}")


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def printable(client: Any, admin: dict[str, str], app: str, template: dict[str, Any],
              records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A record the template prints (its ``when`` holds), as the admin reads it."""
    for row in records[:TRIES]:
        url = f"/api/apps/{app}/{template['entity']}/records/{row['id']}/print/{template['key']}"
        if client.get(url, headers=admin, query_string={"format": "html"}).status_code == 200:
            return row
    return None


def check_print(m: Checker, app: str, template: dict[str, Any], row: dict[str, Any],
                rights: Expected, reached: bool, headers: dict[str, str], label: str) -> None:
    url = f"/api/apps/{app}/{template['entity']}/records/{row['id']}/print/{template['key']}"
    answer = m.client.get(url, headers=headers)
    what = f"{label} print {template['key']}"
    if not {"print", "read"} <= rights.actions:
        m.status(answer, (403,), what)
    elif not reached:
        m.status(answer, (404,), f"{what} outside scope")
    else:
        m.status(answer, (200,), what)
        if answer.status_code == 200:
            text = _pdf_text(answer.data)
            values = {k: str(row[k]) for k in rights.hidden
                      if isinstance(row.get(k), str | int | float)
                      and not isinstance(row.get(k), bool) and len(str(row[k])) >= 4}
            m.fields_checked += len(values)
            shown = sorted(k for k, v in values.items() if v in text)
            m.expect(not shown, f"{what} shows hidden {shown}")
        answer.close()


def check_approval(m: Checker, app: str, chain: dict[str, Any], rights: Expected,
                   approver: User, headers: dict[str, str], admin: dict[str, str],
                   make_user: Any, auth_headers: Any, tenant: Any, label: str) -> bool:
    """Route a run of ``chain`` to ``approver`` and have them approve it; False when no
    record enters the chain or its first step is not theirs."""
    client = m.client
    team_key = f"approvers_{approver.id}_{chain['key']}"
    submitter = make_user(tenant, f"submits_{approver.id}_{chain['key']}",
                          is_tenant_admin=True, team=team_key)
    team = db.session.query(Team).filter_by(tenant_id=tenant.id, key=team_key).one()
    team.manager_id = approver.id
    db.session.commit()
    as_submitter = auth_headers(submitter)
    base = f"/api/apps/{app}/{chain['entity']}/records"
    page = client.get(base, headers=admin, query_string={"limit": 200}).get_json()
    run = None
    for row in page["items"][:TRIES]:
        submitted = client.post(f"{base}/{row['id']}/approvals", headers=as_submitter,
                                json={"chain": chain["key"]})
        if submitted.status_code == 201:
            run = submitted.get_json()
            break
    if run is None:
        return False
    tasks = [t for t in client.get("/api/approvals/inbox", headers=headers).get_json()["items"]
             if t["instance_id"] == run["id"]]
    if not tasks:
        client.post(f"/api/approvals/{run['id']}/withdraw", headers=as_submitter, json={})
        return False
    decided = client.post(f"/api/approvals/tasks/{tasks[0]['task_id']}", headers=headers,
                          json={"action": "approve", "comment": "matrix"})
    what = f"{label} approves {chain['key']}"
    if "approve" in rights.actions:
        m.status(decided, (200,), what)
        return True
    m.status(decided, (403,), what)
    after = client.get(f"/api/approvals/{run['id']}", headers=admin).get_json()
    m.expect(after["status"] == "pending" and after["actions"] == run["actions"]
             and after["steps"] == run["steps"],
             f"{what}: refused decision changed the run")
    withdrawn = client.post(f"/api/approvals/{run['id']}/withdraw", headers=as_submitter,
                            json={})
    m.status(withdrawn, (200,), f"{what}: withdraw after refusal")
    return True
