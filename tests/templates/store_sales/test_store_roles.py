"""Who sees what in the store-sales app: a shop assistant their own sales and their
store's stock (not the cost price), a store manager the store, a regional manager the
stores of the region, the retail admin everything; dashboards count what each may see."""

from __future__ import annotations

import json
from typing import Any

from builder.extensions import db
from builder.platform import service
from tests.templates.store_sales.package import APP, install, url


def _items(client: Any, headers: dict[str, str], entity: str, where: Any = None
           ) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"limit": 500}
    if where is not None:
        query["filter"] = json.dumps(where)
    response = client.get(url(entity), headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


def test_each_role_reaches_its_part(client: Any, tenant: Any, admin_headers: dict[str, str],
                                    make_user: Any, auth_headers: Any) -> None:
    installed = install(client, admin_headers)
    east = service.create_team(tenant, "east", "华东区")
    for key, parent in (("store_sh01", east), ("store_hz01", east), ("store_gz01", None)):
        service.create_team(tenant, key, parent=parent)
    db.session.commit()
    li_na = make_user(tenant, "lina", roles=["shop_assistant"], team="store_sh01")
    wang = make_user(tenant, "wangqiang", roles=["shop_assistant"], team="store_sh01")
    manager = make_user(tenant, "sh_manager", roles=["store_manager"], team="store_sh01")
    regional = make_user(tenant, "east_manager", roles=["regional_manager"], team="east")
    retail = make_user(tenant, "retail", roles=["store_admin"])
    nobody = make_user(tenant, "visitor")
    for assistant, user in (("a_sh_1", li_na), ("a_sh_2", wang)):
        record = client.get(f"{url('assistant')}/{installed.id(f'assistant:{assistant}')}",
                            headers=admin_headers).get_json()
        response = client.patch(f"{url('assistant')}/{record['id']}", headers=admin_headers,
                                json={"version": record["version"], "data": {"user": user.id}})
        assert response.status_code == 200, response.get_json()

    sh01, gz01 = installed.id("store:sh01"), installed.id("store:gz01")
    all_orders = _items(client, admin_headers, "sales_order", {"==": [{"var": "store"}, sh01]})
    lina_headers, wang_headers = auth_headers(li_na), auth_headers(wang)
    sale = {"store_code": "SH01", "assistant_code": "D1001",
            "lines": [{"barcode": "6921168509256", "qty": 2}]}
    mine = client.post(url("sales_order"), json={"data": sale}, headers=lina_headers)
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["assistant_user"] == li_na.id
    theirs = client.post(url("sales_order"), headers=wang_headers,
                         json={"data": dict(sale, assistant_code="D1002")})
    assert theirs.status_code == 201, theirs.get_json()

    # the shop assistant: own sales, own store's stock, no cost price
    assert [o["id"] for o in _items(client, lina_headers, "sales_order")] == [
        mine.get_json()["id"]]
    assert client.get(f"{url('sales_order')}/{theirs.get_json()['id']}",
                      headers=lina_headers).status_code == 404
    stock = _items(client, lina_headers, "stock")
    assert len(stock) == 12 and {s["store"] for s in stock} == {sh01}
    assert all("cost" not in sku for sku in _items(client, lina_headers, "sku"))
    assert client.patch(f"{url('stock')}/{stock[0]['id']}", headers=lina_headers,
                        json={"version": stock[0]["version"], "data": {"qty": 1}}
                        ).status_code == 403
    card = client.get(f"/api/apps/{APP}/dashboards/store_sales/widgets/month_orders",
                      headers=lina_headers).get_json()
    assert card["data"]["value"] == 1
    # her sale crossing the safety stock raises the alert she may not write herself
    tee = client.get(f"{url('stock')}/{installed.id('stock:sh01_tee_l')}",
                     headers=admin_headers).get_json()
    client.patch(f"{url('stock')}/{tee['id']}", headers=admin_headers,
                 json={"version": tee["version"], "data": {"qty": 5, "safety_stock": 5}})
    alerts = len(_items(client, admin_headers, "stock_alert"))
    crossing = client.post(url("sales_order"), headers=lina_headers, json={"data": dict(
        sale, lines=[{"barcode": "6975001230029"}])})
    assert crossing.status_code == 201, crossing.get_json()
    assert len(_items(client, admin_headers, "stock_alert")) == alerts + 1
    assert client.get(f"{url('stock')}/{tee['id']}", headers=lina_headers
                      ).get_json()["low_stock"] is True

    # the store manager: the whole store, stock included, nothing of the other stores
    manager_headers = auth_headers(manager)
    seen = {o["id"] for o in _items(client, manager_headers, "sales_order")}
    assert seen == {o["id"] for o in all_orders} | {mine.get_json()["id"],
                                                    theirs.get_json()["id"],
                                                    crossing.get_json()["id"]}
    gz_order = _items(client, admin_headers, "sales_order", {"==": [{"var": "store"}, gz01]})[0]
    assert client.get(f"{url('sales_order')}/{gz_order['id']}",
                      headers=manager_headers).status_code == 404
    record = _items(client, manager_headers, "stock")[0]
    assert client.patch(f"{url('stock')}/{record['id']}", headers=manager_headers,
                        json={"version": record["version"], "data": {"qty": 99}}
                        ).status_code == 200

    # the regional manager: the stores of the region (Shanghai and Hangzhou), read only
    regional_headers = auth_headers(regional)
    stores = {o["store"] for o in _items(client, regional_headers, "sales_order")}
    assert stores == {sh01, installed.id("store:hz01")}
    assert len(_items(client, regional_headers, "stock")) == 24
    assert client.patch(f"{url('stock')}/{record['id']}", headers=regional_headers,
                        json={"version": record["version"] + 1, "data": {"qty": 1}}
                        ).status_code == 403
    alerts = _items(client, regional_headers, "stock_alert")
    assert alerts and {a["store"] for a in alerts} <= stores

    # the retail admin: everything; someone without a role: nothing
    assert len(_items(client, auth_headers(retail), "stock")) == 36
    assert client.get(url("sales_order"), headers=auth_headers(nobody)).status_code == 403
