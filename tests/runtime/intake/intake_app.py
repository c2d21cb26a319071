"""A lead app with a public website form and two inbound webhooks, and helpers to reach
them over HTTP as the admin sets them up."""

from __future__ import annotations

import copy
from typing import Any

from tests.definitions import entity, field, option, title
from tests.runtime.records.helpers import publish

LEAD_APP: dict[str, Any] = {
    "format": 1, "key": "leads", "version": "1.0.0", "title": title("线索", "Leads"),
    "entities": [entity("lead", "线索", "Lead", [
        field("name", "text", "姓名", "Name", required=True, max_length=50),
        field("company", "text", "公司", "Company"),
        field("phone", "phone", "电话", "Phone"),
        field("email", "email", "邮箱", "Email"),
        field("region", "select", "区域", "Region", options=[
            option("east", "华东", "East"), option("south", "华南", "South")]),
        field("budget", "money", "预算", "Budget", min=0),
        field("notes", "long_text", "留言", "Message"),
        field("source", "select", "来源", "Source", options=[
            option("website", "官网", "Website"), option("phone400", "400电话", "400 line"),
            option("wechat", "公众号", "Official account")]),
        field("code", "autonumber", "线索编号", "Lead No.", template="XS-{seq:4}"),
        field("owner_rep", "user", "负责人", "Owner"),
    ], title_field="name", validations=[
        {"key": "contact", "rule": {"or": [{"!!": {"var": "phone"}}, {"!!": {"var": "email"}}]},
         "message": title("请留下电话或邮箱", "Leave a phone or an email"),
         "fields": ["phone", "email"]},
        {"key": "owner_set", "rule": {"!!": [True]}, "message": title("负责人", "Owner"),
         "fields": ["owner_rep"]}],
        forms=[{"key": "website", "title": title("官网留资", "Website enquiry"), "sections": [
            {"title": title("联系方式", "Contact"), "columns": 2,
             "fields": ["name", "company", "phone", "email"]},
            {"title": title("需求", "Needs"), "fields": ["region", "budget", "notes", "code"]}]},
               {"key": "internal", "title": title("内部", "Internal"), "sections": [
                   {"fields": ["name", "owner_rep"]}]}])],
    "public_forms": [{
        "key": "website_lead", "title": title("官网留资", "Contact us"),
        "description": title("留下联系方式,我们会在 2 小时内联系您", "We call back within 2 hours"),
        "entity": "lead", "form": "website",
        "success_message": title("提交成功,顾问将尽快联系您", "Thanks, we will call you soon"),
        "defaults": {"source": "website"}, "min_fill_seconds": 0,
        "rate_limit": {"per_ip": 20, "per_form": 50, "window_minutes": 60}}],
    "inbound_webhooks": [
        {"key": "call_center", "title": title("400电话", "400 line"), "entity": "lead",
         "mapping": {"name": "$.caller.name", "phone": "$.caller.number",
                     "notes": "$.transcript", "region": "$.meta['region']",
                     "budget": "$.offers[0].amount"},
         "external_id": "$.call_id", "defaults": {"source": "phone400"}},
        {"key": "official_account", "title": title("公众号留言", "Official account"),
         "entity": "lead", "mapping": {"name": "$.user.nickname", "notes": "$.content",
                                       "email": "$.user.email"},
         "external_id": "$.msg_id", "defaults": {"source": "wechat"}, "signature": True}],
}


def lead_app(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(LEAD_APP)
    definition["public_forms"][0].update(changes)
    return definition


def setup(client: Any, headers: dict[str, str], definition: dict[str, Any] | None = None
          ) -> dict[str, dict[str, Any]]:
    """Publish the app and return its intake endpoints by key, as the admin lists them."""
    publish(client, headers, definition or lead_app())
    response = client.get("/api/admin/intake", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {item["key"]: item for item in response.get_json()}


def leads(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/apps/leads/lead/records", query_string={"sort": "id"},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]
