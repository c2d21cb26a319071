"""The records API driven as a user would: publish the CRM app over HTTP, then work with
records of every field type, with stale versions, history, bulk creates and tenants."""

from __future__ import annotations

from typing import Any

from tests.runtime.records.helpers import (
    PNG,
    create,
    make_chain,
    patch,
    problems,
    publish,
    records_url,
    upload,
)


def test_every_field_type_round_trips(client: Any, admin: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    logo = upload(client, admin_headers, PNG, "logo.png", "image/png").get_json()
    report = upload(client, admin_headers, b"%PDF-1.4 report", "现场报告.pdf",
                    "application/pdf").get_json()
    customer = create(client, admin_headers, "customer", {
        "name": "华东制造", "industry": "制造业", "tags": ["partner", "key_account"],
        "email": "Sales@Example.com", "phone": "+86 21 5555 0000",
        "website": "https://example.com", "account_manager": admin.id, "logo": [logo["id"]],
        "notes": "长文本\n第二行", "founded_on": "2001-05-04"})
    assert customer["code"].startswith("KH-") and customer["code"].endswith("-00001")
    assert customer["industry"] == "manufacturing"
    assert customer["tags"] == ["key_account", "partner"]
    assert customer["email"] == "sales@example.com"
    assert customer["active"] is True  # the default
    assert customer["logo"] == [logo]
    assert customer["founded_on"] == "2001-05-04"
    assert customer["created_by"] == admin.id and customer["owner"] == admin.id
    assert customer["version"] == 1 and customer["deleted"] is False

    opportunity = create(client, admin_headers, "opportunity", {
        "name": "一期", "customer": customer["id"], "amount": "12,345.678",
        "probability": 35, "expected_close": "2026-03-31",
        "last_contact": "2026-01-02T03:04:05+08:00", "site_survey_report": [report["id"]],
        "sales_rep": admin.id})
    assert opportunity["stage"] == "lead"  # the default
    assert opportunity["amount"] == 12345.68
    assert opportunity["last_contact"] == "2026-01-01T19:04:05Z"
    assert opportunity["site_survey_report"][0]["name"] == "现场报告.pdf"

    quote = create(client, admin_headers, "quote", {
        "opportunity": opportunity["id"], "list_price": 1000, "price": 800,
        "lines": [{"product": "服务器", "quantity": 2, "unit_price": 300},
                  {"product": "安装", "quantity": 1, "unit_price": 200}]})
    assert quote["price_ratio"] == 0.8
    assert [line["line_total"] for line in quote["lines"]] == [600, 200]
    assert all(line["parent_id"] == quote["id"] for line in quote["lines"])

    fetched = client.get(f"{records_url('quote')}/{quote['id']}", headers=admin_headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == quote

    changed = patch(client, admin_headers, "quote", quote, {
        "price": 900, "lines": [{"id": quote["lines"][0]["id"], "quantity": 3},
                                {"product": "培训", "quantity": 1, "unit_price": 50}]})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["version"] == 2 and body["price_ratio"] == 0.9
    assert [(line["product"], line["line_total"]) for line in body["lines"]] == [
        ("服务器", 900), ("培训", 50)]
    removed = client.get(f"{records_url('quote_line')}/{quote['lines'][1]['id']}",
                         headers=admin_headers).get_json()
    assert removed["deleted"] is True


def test_validation_reports_every_problem(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    customer, _ = make_chain(client, admin_headers)
    response = client.post(records_url("opportunity"), headers=admin_headers, json={"data": {
        "customer": 999999, "amount": -5, "probability": 101, "stage": "lost",
        "expected_close": "not a date", "sales_rep": 424242, "bogus": 1,
        "site_survey_report": ["0b7f6a53-1f0e-4a34-9f0e-7a1c9e5f0000"]}})
    assert response.status_code == 422
    found = problems(response)
    assert found["name"] == "required"
    assert found["customer"] == "not_found"
    assert found["lost_reason"] == "required"  # required_when stage == lost
    assert found["expected_close"] == "not_date"
    assert found["sales_rep"] == "not_found"
    assert found["bogus"] == "unknown"
    assert found["site_survey_report[0]"] == "not_found"
    assert found["probability"] == "max"
    assert "amount" in found  # min 0 and the entity rule amount_positive
    english = client.post(records_url("opportunity") + "?lang=en", headers=admin_headers,
                          json={"data": {"name": "x", "customer": customer["id"],
                                         "amount": -1}})
    messages = [d["message"] for d in english.get_json()["error"]["details"]]
    assert "Amount cannot be negative" in messages
    chinese = client.post(records_url("opportunity"), headers=admin_headers,
                          json={"data": {"name": "x", "customer": customer["id"],
                                         "amount": -1}})
    assert "金额不能为负" in [d["message"] for d in chinese.get_json()["error"]["details"]]

    duplicate = client.post(records_url("customer"), headers=admin_headers,
                            json={"data": {"name": customer["name"]}})
    assert duplicate.status_code == 422 and problems(duplicate) == {"name": "unique"}
    bad_line = client.post(records_url("quote"), headers=admin_headers, json={"data": {
        "opportunity": 1, "price": 1, "lines": [{"product": "a"}, {"quantity": 0}]}})
    assert problems(bad_line) == {"lines[1].product": "required", "lines[1].quantity": "min"}


def test_stale_patch_is_refused_and_changes_nothing(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    _, opportunity = make_chain(client, admin_headers)
    first = patch(client, admin_headers, "opportunity", opportunity, {"amount": 2000})
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = patch(client, admin_headers, "opportunity", opportunity, {"amount": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_version"] == 2
    stored = client.get(f"{records_url('opportunity')}/{opportunity['id']}",
                        headers=admin_headers).get_json()
    assert stored == first.get_json()
    missing_version = client.patch(f"{records_url('opportunity')}/{opportunity['id']}",
                                   json={"data": {"amount": 3}}, headers=admin_headers)
    assert missing_version.status_code == 422
    assert "version" in problems(missing_version)


def test_every_write_shows_in_history(client: Any, admin: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    customer = create(client, admin_headers, "customer", {"name": "甲"})
    url = f"{records_url('customer')}/{customer['id']}"
    updated = patch(client, admin_headers, "customer", customer, {"industry": "retail"})
    assert updated.status_code == 200
    assert client.delete(url, headers=admin_headers).get_json()["deleted"] is True
    assert client.post(f"{url}/restore", headers=admin_headers).get_json()["deleted"] is False
    items = client.get(f"{url}/history", headers=admin_headers).get_json()["items"]
    assert [i["action"] for i in items] == ["restore", "delete", "update", "create"]
    for item in items:
        assert item["user"] == {"id": admin.id, "username": "admin",
                                "name": admin.display_name or "admin"}
        assert item["at"].endswith("Z")
    assert items[3]["before"] is None and items[3]["after"]["name"] == "甲"
    assert items[2]["changes"] == {"industry": [None, "retail"]}
    assert items[2]["before"]["industry"] is None and items[2]["after"]["industry"] == "retail"
    assert items[1]["after"]["deleted"] is True and items[0]["after"]["deleted"] is False


def test_bulk_create_is_all_or_nothing(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    url = records_url("customer") + "/bulk"
    bad = client.post(url, headers=admin_headers, json={"rows": [
        {"name": "一"}, {"industry": "finance"}, {"name": "一"}, {"name": "四", "email": "x"}]})
    assert bad.status_code == 422
    assert problems(bad) == {"rows[1].name": "required", "rows[2].name": "unique",
                             "rows[3].email": "email"}
    listed = client.get(records_url("customer") + "?count=true", headers=admin_headers)
    assert listed.get_json()["total"] == 0
    good = client.post(url, headers=admin_headers,
                       json={"rows": [{"name": f"客户{i}"} for i in range(5)]})
    assert good.status_code == 201
    codes = [r["code"] for r in good.get_json()["items"]]
    assert len(set(codes)) == 5 and codes == sorted(codes)


def test_soft_delete_and_restore_take_lines_along(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    _, opportunity = make_chain(client, admin_headers)
    quote = create(client, admin_headers, "quote", {
        "opportunity": opportunity["id"], "price": 10,
        "lines": [{"product": "a"}, {"product": "b"}, {"product": "c"}]})
    dropped = patch(client, admin_headers, "quote", quote,
                    {"lines": [{"id": line["id"]} for line in quote["lines"][:2]]})
    assert len(dropped.get_json()["lines"]) == 2
    url = f"{records_url('quote')}/{quote['id']}"
    assert client.delete(url, headers=admin_headers).status_code == 200
    lines = client.get(records_url("quote_line") + "?deleted=include&sort=id",
                       headers=admin_headers).get_json()["items"]
    assert [line["deleted"] for line in lines] == [True, True, True]
    assert client.get(records_url("quote"), headers=admin_headers).get_json()["items"] == []
    only = client.get(records_url("quote") + "?deleted=only", headers=admin_headers)
    assert [r["id"] for r in only.get_json()["items"]] == [quote["id"]]
    stale = patch(client, admin_headers, "quote", dropped.get_json(), {"price": 1})
    assert stale.status_code == 409
    restored = client.post(f"{url}/restore", headers=admin_headers).get_json()
    assert restored["deleted"] is False
    assert [line["product"] for line in restored["lines"]] == ["a", "b"]  # not c


def test_tenants_cannot_see_each_other(client: Any, admin_headers: Any, make_tenant: Any,
                                       make_user: Any, auth_headers: Any) -> None:
    publish(client, admin_headers)
    logo = upload(client, admin_headers, PNG, "a.png").get_json()
    customer = create(client, admin_headers, "customer", {"name": "甲", "logo": [logo["id"]]})
    other = make_tenant("beta")
    outsider = auth_headers(make_user(other, "bob", is_tenant_admin=True))
    url = f"{records_url('customer')}/{customer['id']}"
    assert client.get("/api/apps", headers=outsider).get_json() == []
    for response in (
        client.get("/api/apps/crm", headers=outsider),
        client.get(records_url("customer"), headers=outsider),
        client.post(records_url("customer"), json={"data": {"name": "x"}}, headers=outsider),
        client.get(url, headers=outsider),
        client.patch(url, json={"version": 1, "data": {"name": "x"}}, headers=outsider),
        client.delete(url, headers=outsider),
        client.post(f"{url}/restore", headers=outsider),
        client.get(f"{url}/history", headers=outsider),
        client.get(f"/api/files/{logo['id']}", headers=outsider),
    ):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["error"]["code"] == "not_found"
    # a record that exists elsewhere looks exactly like one that exists nowhere
    assert client.get(url, headers=outsider).get_json() == client.get(
        f"{records_url('customer')}/987654", headers=outsider).get_json()
    # the same app key in the other tenant is a different app with different records
    publish(client, outsider)
    assert client.get(url, headers=outsider).status_code == 404
    assert client.get(url, headers=admin_headers).get_json()["name"] == "甲"


def test_bad_input_is_never_a_server_error(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    make_chain(client, admin_headers)
    base = records_url("customer")
    cases = {
        f"{base}?filter={{not json": (422, "filter"),
        f"{base}?filter=" + '{"frobnicate":[1]}': (422, None),
        f"{base}?filter=" + '{"==":[{"var":"nope"},1]}': (422, None),
        f"{base}?sort=nope": (422, "sort"),
        f"{base}?sort=tags": (422, "sort"),
        f"{base}?cursor=garbage": (400, "cursor"),
        f"{base}?limit=501": (422, None),
        f"{base}?fields=name,nope": (422, "fields"),
        f"{base}?deleted=maybe": (422, None),
        f"{base}/99999999999999999999999": (404, None),
        "/api/apps/nope/customer/records": (404, None),
        "/api/apps/crm/nope/records": (404, None),
        "/api/files/../../etc/passwd": (404, None),
        "/api/files/not-a-uuid": (404, None),
    }
    for url, (status, path) in cases.items():
        response = client.get(url, headers=admin_headers)
        assert response.status_code == status, (url, response.get_json())
        if path:
            assert path in problems(response), (url, response.get_json())
    posts = [
        {"data": "nope"}, {"data": {"name": ["a"]}}, {}, {"data": {"account_manager": 2**70}},
        {"data": {"name": "x", "founded_on": "1800-01-01"}},
        {"data": {"name": "y", "logo": "x" * 300}},
    ]
    for body in posts:
        response = client.post(base, json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.get_json())
    response = client.post(base, data="not json", headers=admin_headers,
                           content_type="application/json")
    assert response.status_code in (400, 422)
    opp = records_url("opportunity")
    response = client.post(opp, json={"data": {"name": "x", "customer": 2**80}},
                           headers=admin_headers)
    assert problems(response) == {"customer": "not_found"}
    assert client.get(base, headers={}).status_code == 401


def test_records_and_files_are_documented(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/api/apps/{app_key}/{entity_key}/records",
                 "/api/apps/{app_key}/{entity_key}/records/bulk",
                 "/api/apps/{app_key}/{entity_key}/records/{record_id}",
                 "/api/apps/{app_key}/{entity_key}/records/{record_id}/restore",
                 "/api/apps/{app_key}/{entity_key}/records/{record_id}/history",
                 "/api/files", "/api/files/{file_id}"):
        assert path in paths, path
    listed = paths["/api/apps/{app_key}/{entity_key}/records"]["get"]
    assert {"filter", "sort", "limit", "cursor", "fields", "q", "deleted", "count"} <= {
        p["name"] for p in listed["parameters"]}
