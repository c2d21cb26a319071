"""Contracts: the clause library, first-pass approvals, renewals and the rebate."""

from __future__ import annotations

from typing import Any

from tests.runtime.records.helpers import PNG
from tests.templates.sales.helpers import Sales, messages, problems


def customer(sales: Sales, name: str, industry: str = "manufacturing", who: str = "zhang.wei"
             ) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "industry": industry, "region": "east"}
    if industry == "hospital":
        data["decision_chain"] = [{"role": "procurement", "name": "王主任"},
                                  {"role": "clinical", "name": "刘护士长"}]
    return sales.create(who, "customer", data)


def test_a_forbidden_clause_cannot_be_chosen(sales: Sales) -> None:
    buyer = customer(sales, "宁波精密制造")
    clauses = [*sales.mandatory_clauses(), {"clause": sales.clause("操作培训")},
               {"clause": sales.clause("无限期免费升级"), "note": "客户坚持"}]
    refused = sales.post("zhang.wei", "contract", {"name": "设备采购", "customer": buyer["id"],
                                                   "amount": 300000, "clauses": clauses})
    assert problems(refused) == {"clauses[6].clause": "no_forbidden_clause"}
    assert "禁用条款不可选用" in messages(refused)["clauses[6].clause"]

    draft = sales.create("zhang.wei", "contract", {
        "name": "设备采购", "customer": buyer["id"], "amount": 300000,
        "clauses": [{"clause": sales.clause("付款方式与期限")},
                    {"clause": sales.clause("操作培训")}]})
    assert draft["mandatory_included"] == 1 and draft["mandatory_total"] == 5
    assert [c["kind"] for c in draft["clauses"]] == ["mandatory", "optional"]
    refused = sales.patch("zhang.wei", "contract", draft, {"status": "signed",
                                                           "signed_date": "2026-03-01"})
    assert problems(refused) == {"clauses": "mandatory_clauses"}
    signed = sales.update("zhang.wei", "contract", draft, {
        "status": "signed", "signed_date": "2026-03-01",
        "clauses": [*draft["clauses"], *sales.mandatory_clauses()[1:]]})
    assert signed["mandatory_included"] == 5

    # a clause the library adds as mandatory later counts for every contract at once
    sales.create("admin", "clause", {"title": "数据安全与个人信息保护", "kind": "mandatory"})
    assert sales.get("zhang.wei", "contract", signed["id"])["mandatory_total"] == 6


def test_contract_approval_records_whether_it_passed_the_first_time(sales: Sales) -> None:
    buyer = customer(sales, "宁波精密制造")
    data = {"customer": buyer["id"], "amount": 300000, "clauses": sales.mandatory_clauses()}
    first = sales.create("zhang.wei", "contract", dict(data, name="一期"))
    second = sales.create("zhang.wei", "contract", dict(data, name="二期"))
    for contract in (first, second):
        response = sales.client.post(sales.url("contract", contract["id"], "approvals"),
                                     json={"chain": "contract_review"},
                                     headers=sales.as_("zhang.wei"))
        assert response.status_code == 201, response.get_json()
    tasks = sales.inbox("chen.jing")
    assert [t["record"]["id"] for t in tasks] == [first["id"], second["id"]]
    for task, action in zip(tasks, ("approve", "reject"), strict=True):
        response = sales.client.post(f"/api/approvals/tasks/{task['task_id']}",
                                     json={"action": action, "comment": "缺少交付计划"},
                                     headers=sales.as_("chen.jing"))
        assert response.status_code == 200, response.get_json()
    sales.decide("zhou.min")
    assert sales.get("zhang.wei", "contract", first["id"])["first_pass"] is True
    second = sales.get("zhang.wei", "contract", second["id"])
    assert second["review_rejections"] == 1 and second["first_pass"] is False
    response = sales.client.post(sales.url("contract", second["id"], "approvals"),
                                 json={"chain": "contract_review"}, headers=sales.as_("zhang.wei"))
    assert response.status_code == 201
    sales.decide("chen.jing")
    sales.decide("zhou.min")
    second = sales.get("zhang.wei", "contract", second["id"])
    assert second["review_passed"] is True and second["first_pass"] is False


def test_a_renewal_counts_only_when_signed_paid_and_its_technical_agreement_filed(
        sales: Sales) -> None:
    buyer = customer(sales, "宁波精密制造")
    old = sales.signed_contract("zhang.wei", buyer, 200000, "2025-03-01")
    renewal = sales.create("zhang.wei", "contract", {
        "name": "续约", "customer": buyer["id"], "amount": 220000, "is_renewal": True,
        "previous_contract": old["id"], "clauses": sales.mandatory_clauses()})
    assert renewal["renewal_counted"] is False
    renewal = sales.update("zhang.wei", "contract", renewal, {"status": "signed",
                                                              "signed_date": "2026-03-01"})
    assert renewal["renewal_counted"] is False  # signed, not paid, no agreement
    sales.create("zhou.min", "payment", {"contract": renewal["id"], "amount": 66000,
                                         "received_date": "2026-03-08", "kind": "first",
                                         "voucher": "ICBC-20260308-001"})
    renewal = sales.get("zhang.wei", "contract", renewal["id"])
    assert renewal["payments_received"] == 1 and renewal["paid_amount"] == 66000
    assert renewal["renewal_counted"] is False  # the technical agreement is not filed
    agreement = sales.upload("zhang.wei", PNG, "技术协议.png", "image/png")
    renewal = sales.update("zhang.wei", "contract", renewal, {"tech_agreement": [agreement]})
    assert renewal["renewal_counted"] is True
    counted = sales.list("sun.li", "contract", filter={"==": [{"var": "renewal_counted"}, True]})
    assert [c["id"] for c in counted] == [renewal["id"]]


def test_the_rebate_of_a_quarter(sales: Sales) -> None:
    """3% x contract amount + 0.8% x quarterly increment over target + 5,000 per new
    hospital account."""
    target = sales.create("sun.li", "target", {"rep": sales.ids["zhang.wei"], "region": "east",
                                               "quarter_start": "2026-01-01",
                                               "target_amount": 1000000})
    assert target["quarter_end"] == "2026-03-31" and target["rebate"] == 0
    refused = sales.post("sun.li", "target", {"rep": sales.ids["li.na"],
                                              "quarter_start": "2026-02-01", "target_amount": 1})
    assert problems(refused) == {"quarter_start": "quarter_start"}

    new_hospital = customer(sales, "苏州市立医院", "hospital")
    old_hospital = customer(sales, "无锡人民医院", "hospital")
    factory = customer(sales, "宁波精密制造")
    sales.signed_contract("zhang.wei", old_hospital, 150000, "2025-12-20")  # Q4: not in it
    sales.signed_contract("zhang.wei", new_hospital, 600000, "2026-02-10")
    sales.signed_contract("zhang.wei", old_hospital, 300000, "2026-03-31")
    sales.signed_contract("zhang.wei", factory, 400000, "2026-01-05")
    sales.signed_contract("zhang.wei", factory, 900000, "2026-04-01")  # next quarter
    sales.create("zhang.wei", "contract", {"name": "草稿", "customer": factory["id"],
                                           "amount": 500000})  # not signed
    other = customer(sales, "广州妇幼医院", "hospital", who="li.na")
    sales.signed_contract("li.na", other, 800000, "2026-02-01")  # someone else's

    target = sales.get("sun.li", "target", target["id"])
    assert target["signed_amount"] == 1300000 and target["new_hospitals"] == 1
    assert target["achievement"] == 1.3 and target["increment"] == 300000
    assert target["rebate_contracts"] == 39000  # 3% x 1,300,000
    assert target["rebate_increment"] == 2400  # 0.8% x 300,000
    assert target["rebate_hospitals"] == 5000  # one new hospital account
    assert target["rebate"] == 46400
