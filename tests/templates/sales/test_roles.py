"""Roles: a rep works on their own records, a supervisor on their team's, finance and the
general manager read everything, and the cost of a product is theirs to change."""

from __future__ import annotations

from tests.templates.sales.helpers import Sales


def test_each_role_reaches_what_it_should(sales: Sales) -> None:
    mine = sales.customer("zhang.wei", "宁波精密制造")
    theirs = sales.customer("wang.fang", "东莞电子制造")
    url = sales.url("customer", theirs["id"])
    assert sales.client.get(url, headers=sales.as_("zhang.wei")).status_code == 404
    assert [c["id"] for c in sales.list("zhang.wei", "customer")] == [mine["id"]]
    # the East supervisor sees the East team's customers, not the South's
    assert [c["id"] for c in sales.list("chen.jing", "customer")] == [mine["id"]]
    assert [c["id"] for c in sales.list("liu.yang", "customer")] == [theirs["id"]]
    # finance and the general manager read everything
    for who in ("zhou.min", "sun.li"):
        assert {c["id"] for c in sales.list(who, "customer")} == {mine["id"], theirs["id"]}
    refused = sales.post("zhou.min", "customer", {"name": "财务建的客户", "industry": "other",
                                                  "region": "east"})
    assert refused.status_code == 403
    # reps read the catalogue but cannot change prices
    product = sales.create("admin", "product", {"model": "PM-12", "name": "监护仪",
                                                "list_price": 20000, "cost": 9000})
    assert sales.get("zhang.wei", "product", product["id"])["list_price"] == 20000
    assert sales.patch("zhang.wei", "product", product, {"list_price": 1}).status_code == 403
    assert sales.patch("sun.li", "product", product, {"list_price": 21000}).status_code == 200
    # the product team reads requirements, not customers
    assert sales.client.get(sales.url("customer"), headers=sales.as_("wu.hao")).status_code \
        == 403
