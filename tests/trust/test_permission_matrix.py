"""The permission matrix of each market package: every role its definition declares, over
every entity and the records routes (list, count, read, history, update, delete, create,
export, search), import, print and approval decisions, checked against what the
definition allows: no hidden field in any answer, export or PDF, no write to a read-only
field, rows outside the scope 404 everywhere, no import, print or approval decision
without the permission (see ``matrix_actions``)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from builder.i18n import localized
from builder.platform import service
from tests.trust import matrix_actions as actions
from tests.trust.figures import record
from tests.trust.matrix import Expected, expected, team_fields

MARKET = Path(__file__).resolve().parents[2] / "templates_market"
SAMPLE = 3


def _definition(package: str) -> dict[str, Any]:
    manifest = json.loads((MARKET / package / "manifest.json").read_text(encoding="utf-8"))
    [app] = manifest["apps"]
    return json.loads((MARKET / package / app).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _all(client: Any, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 500}
    while True:
        page = client.get(url, headers=headers, query_string=query).get_json()
        found += page["items"]
        if not page.get("next_cursor"):
            return found
        query["cursor"] = page["next_cursor"]


class Matrix:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.checks = 0
        self.fields_checked = 0
        self.violations: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        self.checks += 1
        if not ok:
            self.violations.append(what)

    def no_hidden(self, payload: Any, hidden: frozenset[str], what: str) -> None:
        """No hidden key anywhere in a record answer (sub-table rows aside: their own
        entity's rights decide)."""
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            if isinstance(item, dict):
                self.fields_checked += len(hidden)
                self.expect(not hidden & set(item), f"{what}: shows {sorted(hidden & set(item))}")

    def status(self, answer: Any, wanted: tuple[int, ...], what: str) -> None:
        self.expect(answer.status_code in wanted,
                    f"{what}: {answer.status_code} not {wanted} {answer.get_data()[:160]!r}")


def _check_entity(m: Matrix, app: str, entity: dict[str, Any], rights: Expected,
                  headers: dict[str, str], admin: dict[str, str], context: dict[str, Any],
                  label: str) -> None:
    client = m.client
    base = f"/api/apps/{app}/{entity['key']}"
    everything = _all(client, admin, f"{base}/records")
    inside = [r for r in everything if rights.reaches(r, context)]
    outside = [r for r in everything if not rights.reaches(r, context)]
    listed = client.get(f"{base}/records", headers=headers,
                        query_string={"limit": 500, "count": 1})
    if "read" not in rights.actions:
        m.status(listed, (403,), f"{label} list")
    else:
        m.status(listed, (200,), f"{label} list")
        page = listed.get_json()
        m.no_hidden(page["items"], rights.hidden, f"{label} list")
        if len(inside) <= 500:
            m.expect({r["id"] for r in page["items"]} == {r["id"] for r in inside},
                     f"{label} list rows differ from the scope")
        m.expect(page.get("total") == len(inside), f"{label} count {page.get('total')} "
                 f"!= {len(inside)}")
    for row in outside[:SAMPLE]:
        url = f"{base}/records/{row['id']}"
        for method, tail, action in (("GET", "", "read"), ("GET", "/history", "read"),
                                     ("PATCH", "", "update"), ("DELETE", "", "delete")):
            # an action the role lacks is refused for every id alike; else "not found"
            wanted = (404,) if action in rights.actions else (403,)
            answer = client.open(url + tail, method=method, headers=headers,
                                 json={"version": row["version"], "data": {}}
                                 if method == "PATCH" else None)
            m.status(answer, wanted, f"{label} {method} {tail or 'record'} outside scope")
    for row in inside[:SAMPLE]:
        url = f"{base}/records/{row['id']}"
        got = client.get(url, headers=headers)
        m.status(got, (200,), f"{label} read inside scope")
        if got.status_code == 200:
            m.no_hidden(got.get_json(), rights.hidden, f"{label} read")
        history = client.get(f"{url}/history", headers=headers)
        m.status(history, (200,), f"{label} history")
        for entry in (history.get_json() or {}).get("items", []) \
                if history.status_code == 200 else []:
            m.no_hidden([entry.get("before"), entry.get("after"), entry.get("changes")],
                        rights.hidden, f"{label} history")
        locked = sorted(rights.locked - rights.hidden)
        if "update" in rights.actions and locked:
            answer = client.patch(url, headers=headers, json={
                "version": row["version"], "data": {locked[0]: row.get(locked[0])}})
            m.status(answer, (403, 404), f"{label} writes read-only {locked[0]}")
        if "delete" not in rights.actions:
            m.status(client.delete(url, headers=headers), (403,), f"{label} delete")
    created = client.post(f"{base}/records", headers=headers, json={"data": {}})
    m.status(created, (400, 409, 422) if "create" in rights.actions else (403,),
             f"{label} create")
    locked = sorted(rights.locked)
    if "create" in rights.actions and locked:
        answer = client.post(f"{base}/records", headers=headers,
                             json={"data": {locked[0]: None}})
        m.status(answer, (403,), f"{label} creates with locked {locked[0]}")
    export = client.get(f"{base}/export", headers=headers)
    if "export" not in rights.actions:
        m.status(export, (403,), f"{label} export")
    else:
        m.status(export, (200,), f"{label} export")
        if export.status_code == 200:
            book = load_workbook(io.BytesIO(export.data), read_only=True)
            header = [str(c) for row in book.active.iter_rows(max_row=1, values_only=True)
                      for c in row]
            titles = {localized(f.get("title")) for f in entity["fields"]
                      if f["key"] in rights.hidden}
            m.fields_checked += len(titles)
            m.expect(not titles & set(header), f"{label} export shows {titles & set(header)}")


def _check_drills(m: Matrix, app: str, definition: dict[str, Any], role: str,
                  headers: dict[str, str], admin: dict[str, str], context: dict[str, Any],
                  label: str) -> None:
    """Each dashboard widget's drill-down lists only rows in the role's scope, without
    its hidden fields."""
    metrics = {x["key"]: x for x in definition.get("metrics") or ()}
    entities = {e["key"]: e for e in definition["entities"]}
    for board in definition.get("dashboards") or ():
        for widget in board.get("widgets") or ():
            names = [k for k in widget.get("metrics") or () if k in metrics]
            if not names or metrics[names[0]].get("entity") not in entities:
                continue
            entity = entities[metrics[names[0]]["entity"]]
            rights = expected(definition, role, entity)
            url = f"/api/apps/{app}/dashboards/{board['key']}/widgets/{widget['key']}/records"
            answer = m.client.get(url, headers=headers, query_string={"limit": 200})
            m.status(answer, (200, 403, 422), f"{label} drill {widget['key']}")
            if answer.status_code != 200:
                continue
            items = answer.get_json().get("items") or []
            m.no_hidden(items, rights.hidden, f"{label} drill {widget['key']}")
            for item in items[:SAMPLE]:
                full = m.client.get(f"/api/apps/{app}/{entity['key']}/records/{item['id']}",
                                    headers=admin).get_json()
                m.expect(rights.reaches(full, context),
                         f"{label} drill {widget['key']} shows row {item['id']} out of scope")


@pytest.mark.parametrize("package", sorted(p.name for p in MARKET.iterdir()
                                           if (p / "manifest.json").is_file()))
def test_every_role_gets_exactly_what_its_definition_grants(
        package: str, client: Any, tenant: Any, admin_headers: dict[str, str],
        make_user: Any, auth_headers: Any, run_jobs: Any) -> None:
    definition = _definition(package)
    response = client.post(f"/api/market/{package}/install", headers=admin_headers,
                           json={"demo_data": True})
    assert response.status_code == 200, response.get_json()
    app = definition["key"]
    children = {f.get("entity") for e in definition["entities"] for f in e["fields"]
                if f["type"] == "subtable"}
    entities = [e for e in definition["entities"] if e["key"] not in children]
    # each role's user joins a team that rows of the package name
    teams = []
    for name in sorted(team_fields(definition)):
        for entity in entities:
            if name in {f["key"] for f in entity["fields"]}:
                values = [r.get(name) for r in _all(client, admin_headers,
                                                    f"/api/apps/{app}/{entity['key']}/records")]
                teams += [v for v in values if isinstance(v, str)][:1]
    roles = [r["key"] for r in definition.get("roles") or ()] or ["member"]
    m = Matrix(client)
    imports = {e["key"]: actions.admin_import(client, admin_headers, app, e) for e in entities}
    prints = [(t, row) for t in definition.get("print_templates") or ()
              for row in [actions.printable(client, admin_headers, app, t, _all(
                  client, admin_headers, f"/api/apps/{app}/{t['entity']}/records"))]
              if row is not None]
    decided = 0
    for role in roles:
        user = make_user(tenant, f"as_{role}", roles=() if role == "member" else (role,),
                         team=teams[0] if teams else None)
        context = service.user_context(user)
        for entity in entities:
            rights = expected(definition, role, entity)
            _check_entity(m, app, entity, rights, auth_headers(user), admin_headers, context,
                          f"{package}/{role}/{entity['key']}")
            actions.check_import(m, app, entity, rights, auth_headers(user),
                                 imports[entity["key"]], run_jobs,
                                 f"{package}/{role}/{entity['key']}")
        by_key = {e["key"]: e for e in definition["entities"]}
        for template, row in prints:
            rights = expected(definition, role, by_key[template["entity"]])
            actions.check_print(m, app, template, row, rights, rights.reaches(row, context),
                                auth_headers(user), f"{package}/{role}")
        for chain in definition.get("approval_chains") or ():
            rights = expected(definition, role, by_key[chain["entity"]])
            decided += actions.check_approval(
                m, app, chain, rights, user, auth_headers(user), admin_headers, make_user,
                auth_headers, tenant, f"{package}/{role}")
        _check_drills(m, app, definition, role, auth_headers(user), admin_headers, context,
                      f"{package}/{role}")
    record(f"permission_matrix_{package}", probes_sent=m.checks, violations=len(m.violations))
    assert m.checks > len(roles) * len(entities) * 4
    assert len(prints) == len(definition.get("print_templates") or ())
    if definition.get("approval_chains"):
        assert decided >= len(roles), "too few approval decisions were tried"
    assert not m.violations, "\n".join(m.violations)
