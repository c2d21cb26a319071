"""Tenants never see each other: as a user and as the admin of tenant A, every route of the
app (read from the URL map, so later routes are covered too) is called with every method
and with the ids, keys and files of tenant B, then with values that exist nowhere.

A leak is B's data in an answer, or an answer that differs between "B's id" and "an id of
nowhere" (status or body shape), which would tell A that the object exists. B's objects
are checked untouched afterwards."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from builder.extensions import db
from builder.platform import service
from tests.definitions import full_app, title
from tests.runtime.records.helpers import create, publish, upload
from tests.templates.store_sales import package as store
from tests.trust.figures import record
from tests.trust.probe import WRITE_METHODS, Victim, fills, harvest, routes, shape, text_of

SECRET = "BETA-SECRET"
CRM = "deals"


def _headers(user: Any) -> dict[str, str]:
    _token, plaintext = service.issue_token(user, "probe")
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def _install(client: Any, headers: dict[str, str], key: str, demo: bool,
             background: bool = False) -> None:
    response = client.post(f"/api/market/{key}/install", headers=headers,
                           json={"demo_data": demo, "background": background})
    assert response.status_code == (202 if background else 200), response.get_json()


def _items(client: Any, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers, query_string={"limit": 500})
    assert response.status_code == 200, (url, response.get_json())
    payload = response.get_json()
    return payload["items"] if isinstance(payload, dict) else payload  # type: ignore[no-any-return]


def _beta(client: Any, make_tenant: Any, make_user: Any, run_jobs: Any
          ) -> tuple[Victim, dict[str, Any]]:
    """Tenant B with two market apps, a published app and objects of every kind."""
    beta = make_tenant("beta", f"{SECRET} Co")
    admin = make_user(beta, "beta_admin", is_tenant_admin=True)
    boss = make_user(beta, "beta_boss", roles=("finance", "general_manager"))
    service.create_team(beta, "beta_team", f"{SECRET} team", manager=boss, members=[admin])
    db.session.commit()
    headers, boss_headers = _headers(admin), _headers(boss)
    victim = Victim()
    _install(client, headers, "store_sales", True)
    _install(client, headers, "crm_starter", True, background=True)
    run_jobs()
    definition = full_app()
    definition["key"] = CRM
    definition["print_templates"] = [{"key": "sheet", "title": title("报价单", "Quote"),
                                      "entity": "quote", "template": "{{ record.code }}"}]
    publish(client, headers, definition)
    customer = create(client, headers, "customer", {"name": f"{SECRET} customer"}, CRM)
    deal = create(client, headers, "opportunity", {"name": f"{SECRET} deal",
                                                   "customer": customer["id"], "amount": 10}, CRM)
    quote = create(client, headers, "quote", {"opportunity": deal["id"], "list_price": 100,
                                              "price": 50}, CRM)
    submitted = client.post(f"/api/apps/{CRM}/quote/records/{quote['id']}/approvals",
                            headers=headers, json={"chain": "low_price"})
    assert submitted.status_code in (200, 201), submitted.get_json()
    moved = client.post(f"/api/apps/{CRM}/opportunity/records/{deal['id']}/transition",
                        headers=headers, json={"to": "tech_exchange",
                                               "version": deal["version"]})
    assert moved.status_code == 200, moved.get_json()
    pdf = upload(client, headers, b"%PDF-1.4 " + SECRET.encode(), f"{SECRET}.pdf").get_json()
    book = Workbook()
    book.active.append(["客户名称"])
    book.active.append([f"{SECRET} imported"])
    data = io.BytesIO()
    book.save(data)
    sheet = upload(client, headers, data.getvalue(), "beta.xlsx").get_json()
    started = client.post(f"/api/apps/{CRM}/customer/imports", headers=headers,
                          json={"file": sheet["id"]})
    assert started.status_code == 201, started.get_json()
    launched = client.post(f"/api/imports/{started.get_json()['id']}/run", headers=headers,
                           json={"mapping": {"客户名称": "name"}})
    assert launched.status_code == 202, launched.get_json()
    token = client.post("/api/auth/tokens", headers=headers, json={"name": f"{SECRET} key"})
    assert token.status_code in (200, 201), token.get_json()

    # what B owns, by the URL segment that names it
    for rule in routes(client.application):
        if rule.params or "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        segment = rule.rule.rstrip("/").rsplit("/", 1)[-1]
        for who in (headers, boss_headers):
            answer = client.get(rule.rule, headers=who)
            if answer.status_code == 200 and answer.is_json:
                for found in harvest(answer.get_json()):
                    victim.remember(segment, found)
    inbox = _items(client, boss_headers, "/api/approvals/inbox")
    assert inbox, "B's approval reached nobody"
    victim.remember("tasks", inbox[0]["task_id"])
    victim.remember("approvals", inbox[0]["instance_id"])
    victim.remember("imports", started.get_json()["id"])
    victim.remember("files", pdf["id"])
    victim.remember("tokens", token.get_json()["id"])
    victim.remember("records", quote["id"])
    victim.remember("versions", 1)
    victim.by_name.update(app_key=CRM, entity_key="quote", key="sales", widget="won_trend",
                          template_key="sheet", flow_key="funnel")
    for needed in ("jobs", "users", "teams", "tokens", "notifications", "timers", "intake"):
        assert needed in victim.by_segment, f"B has no {needed}: {victim.by_segment}"
    counts = {url: len(_items(client, headers, url)) for url in (
        f"/api/apps/{CRM}/customer/records", f"/api/apps/{CRM}/quote/records",
        store.url("sales_order"), "/api/admin/users", "/api/auth/tokens")}
    orders = _items(client, headers, store.url("sales_order"))
    secrets = {SECRET, pdf["id"]} | {str(o["order_no"]) for o in orders[:3] if o.get("order_no")}
    return victim, {"headers": headers, "counts": counts, "secrets": secrets,
                    "order": max(o["id"] for o in orders), "file": pdf["id"]}


def _send(client: Any, method: str, url: str, headers: dict[str, str]) -> Any:
    body = {} if method in WRITE_METHODS else None
    response = client.open(url, method=method, headers=headers, json=body)
    response.get_data()  # read, then let go of any file behind it
    response.close()
    return response


def _answer(response: Any) -> tuple[int, Any]:
    if response.is_json:
        return response.status_code, shape(response.get_json(silent=True))
    return response.status_code, response.mimetype


def test_tenant_a_reaches_nothing_of_tenant_b(client: Any, make_tenant: Any, make_user: Any,
                                              run_jobs: Any) -> None:
    victim, beta = _beta(client, make_tenant, make_user, run_jobs)
    alpha = make_tenant("alpha", "Alpha")
    alpha_admin = make_user(alpha, "alpha_admin", is_tenant_admin=True)
    alpha_user = make_user(alpha, "alpha_user")
    _install(client, _headers(alpha_admin), "store_sales", False)
    shared_app = {"app_key": "store_sales", "entity_key": "sales_order", "key": "store_sales",
                  "package": "store_sales", "page": "apps", "name": "missing.png"}

    leaks: list[str] = []
    probed, sent, reached = 0, 0, 0
    for route in routes(client.application):
        probed += 1
        in_app = any(name == "app_key" for _b, name, _c in route.params)
        for method in route.methods:
            for same_keys in (False, True) if in_app else (False,):
                theirs, none = fills(route, victim, shared_app, same_keys)
                if same_keys:  # A's own app, B's record ids
                    theirs.update({k: beta["order"] for _b, k, _c in route.params
                                   if k == "record_id"})
                if method == "GET" and not same_keys:  # the values are B's real objects
                    owner = _send(client, method, route.fill(theirs), beta["headers"])
                    reached += owner.status_code == 200 and bool(route.params)
                for user in (alpha_admin, alpha_user):
                    headers = _headers(user)
                    got = _send(client, method, route.fill(theirs), headers)
                    other = _send(client, method, route.fill(none), headers)
                    sent += 2
                    label = f"{method} {route.fill(theirs)} as {user.username}"
                    text = text_of(got)
                    leaks += [f"{label}: shows {s!r}" for s in beta["secrets"] if s in text]
                    compared = any(theirs[name] != none[name] for _b, name, _c in route.params)
                    if compared and _answer(got) != _answer(other):
                        leaks.append(f"{label}: {got.status_code} {text[:200]} but "
                                     f"{other.status_code} for nowhere")
    record("isolation", routes_probed=probed, probes_sent=sent, leaks=len(leaks))
    assert not leaks, "\n".join(leaks)
    assert reached >= 25, f"only {reached} of B's objects were reachable by B"

    # B's objects are all still there
    headers = beta["headers"]
    for url, count in beta["counts"].items():
        assert len(_items(client, headers, url)) == count, url
    assert _send(client, "GET", f"/api/files/{beta['file']}", headers).status_code == 200
