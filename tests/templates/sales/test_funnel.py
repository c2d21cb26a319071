"""The six-stage funnel: a rep moves an opportunity through its entry and exit criteria."""

from __future__ import annotations

from tests.runtime.records.helpers import PNG
from tests.templates.sales.helpers import Sales, messages, ok, problems


def hospital(sales: Sales, who: str = "zhang.wei", name: str = "苏州市立医院") -> dict:
    return sales.create(who, "customer", {
        "name": name, "industry": "hospital", "region": "east", "tier": "key",
        "budget": 800000, "purchase_timeline": "2026-06-30",
        "decision_chain": [
            {"role": "procurement", "name": "王主任", "title": "采购科主任",
             "last_contact_date": "2026-03-02"},
            {"role": "equipment", "name": "李工", "title": "设备科工程师"}]})


def test_a_new_hospital_customer_needs_two_people_in_its_decision_chain(sales: Sales) -> None:
    response = sales.post("zhang.wei", "customer", {
        "name": "杭州骨科医院", "industry": "hospital", "region": "east",
        "decision_chain": [{"role": "procurement", "name": "王主任"}]})
    assert problems(response) == {"decision_chain": "hospital_decision_chain"}
    assert "至少需要 2 名关键人" in messages(response)["decision_chain"]
    response = sales.post("zhang.wei", "customer", {
        "name": "杭州骨科医院", "industry": "hospital", "region": "east",
        "decision_chain": [{"role": "procurement", "name": "王主任"}, {"role": "clinical"}],
        "personality": [{"tag": "afraid_of_blame"}]})
    assert problems(response) == {"decision_chain[1].name": "required",
                                  "personality[0].reason": "required"}
    customer = hospital(sales)
    assert customer["code"].startswith("KH-") and len(customer["decision_chain"]) == 2
    assert customer["info_complete"] is True
    # a factory needs no decision chain up front; an existing hospital may lose a member
    factory = sales.create("zhang.wei", "customer", {
        "name": "宁波精密制造", "industry": "manufacturing", "region": "east"})
    assert factory["info_complete"] is False
    chain = [dict(customer["decision_chain"][0])]
    response = sales.patch("zhang.wei", "customer", customer, {"decision_chain": chain})
    assert response.status_code == 200


def test_the_funnel_refuses_each_move_whose_criteria_are_not_met(sales: Sales) -> None:
    customer = hospital(sales)
    report = sales.upload("zhang.wei", b"%PDF-1.4 parameter match", "参数匹配报告.pdf",
                          "application/pdf")
    product = sales.create("admin", "product", {"model": "VX-300", "name": "呼吸机 VX-300",
                                                "list_price": 150000, "cost": 90000})
    opportunity = sales.create("zhang.wei", "opportunity", {
        "name": "ICU 呼吸机采购", "customer": customer["id"], "amount": 600000})
    assert opportunity["stage"] == "lead" and opportunity["stage_probability"] == 10

    refused = sales.move("zhang.wei", opportunity, "needs")
    assert set(problems(refused).values()) >= {"deliverable"}
    sales.create("zhang.wei", "follow_up", {
        "opportunity": opportunity["id"], "customer": customer["id"], "channel": "call",
        "talk_tag": "confirm_chain", "summary": "确认采购科与设备科的分工",
        "next_action": "预约设备科现场交流", "next_action_date": "2099-03-20"})
    refused = sales.move("zhang.wei", opportunity, "needs")
    assert "entry_criteria" in problems(refused).values()
    assert "预算" in " ".join(messages(refused).values())
    ok(sales.move("zhang.wei", opportunity, "needs", {"budget_confirmed": 700000}))

    refused = sales.move("zhang.wei", opportunity, "tech_exchange")
    assert "需求确认单" in " ".join(messages(refused).values())
    sales.create("zhang.wei", "requirement", {
        "customer": customer["id"], "opportunity": opportunity["id"], "scenario": "delivery",
        "customer_words": "现在的呼吸机坏了要等两周才有人来修", "tried_before": "找过原厂维保"})
    refused = sales.move("zhang.wei", opportunity, "tech_exchange")
    assert "技术负责人" in " ".join(messages(refused).values())
    ok(sales.move("zhang.wei", opportunity, "tech_exchange", {"tech_lead_involved": True}))

    # the seed's rule: technical exchange needs a site survey and a parameter-match report
    refused = sales.move("zhang.wei", opportunity, "proposal")
    found = messages(refused)
    assert problems(refused)["site_survey"] == "deliverable"
    assert problems(refused)["param_match_report"] == "deliverable"
    assert found["site_survey"] == "离开「技术交流」前，至少需要完成 1 次现场勘测（上传勘测照片）"
    plain = sales.upload("zhang.wei", PNG, "现场.png", "image/png")
    refused = sales.patch("zhang.wei", "opportunity", opportunity, {"site_survey": [plain]})
    assert problems(refused) == {"site_survey[0]": "not_stamped"}
    photo = sales.photo("zhang.wei", "苏州市立医院 ICU")
    opportunity = sales.update("zhang.wei", "opportunity", opportunity, {
        "site_survey": [photo]})
    refused = sales.move("zhang.wei", opportunity, "proposal")
    assert "site_survey" not in problems(refused)
    assert problems(refused)["param_match_report"] == "deliverable"
    sales.update("zhang.wei", "opportunity", opportunity, {"param_match_report": [report]})

    # proposal needs a standard model, a margin estimate and the customer's budget range
    refused = sales.move("zhang.wei", opportunity, "proposal")
    assert "entry_criteria" in problems(refused).values()
    evidence = sales.upload("zhang.wei", PNG, "预算区间.png", "image/png")
    moved = ok(sales.move("zhang.wei", opportunity, "proposal", {
        "product": product["id"], "quantity": 4, "budget_low": 550000, "budget_high": 650000,
        "budget_evidence": [evidence]}))
    record = sales.get("zhang.wei", "opportunity", opportunity["id"])
    assert record["stage"] == "proposal" and moved
    assert record["margin_estimate"] == 0.4  # (600000 - 4 x 90000) / 600000
    assert record["stage_probability"] == 60 and record["weighted_amount"] == 360000
    assert record["effective"] is False  # no proposal submitted yet

    refused = sales.move("zhang.wei", opportunity, "negotiation")
    assert "报价单" in " ".join(messages(refused).values())
    history = ok(sales.client.get(sales.url("opportunity", opportunity["id"], "stages"),
                                  headers=sales.as_("zhang.wei")))
    assert [v["to"] for v in history["items"]] == ["lead", "needs", "tech_exchange", "proposal"]
    assert history["items"][1]["to_title"] == "需求确认" and history["items"][-1]["current"]
