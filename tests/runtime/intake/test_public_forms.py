"""Public forms over HTTP: render without a login, submit through the records service,
with rate limits, spam checks, double-submission checks and tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from builder.database import utcnow
from builder.extensions import db
from builder.runtime.intake.forms import issue_submit_token
from builder.runtime.intake.models import IntakeEndpoint
from tests.runtime.intake.intake_app import lead_app, leads, setup
from tests.runtime.records.helpers import problems

GOOD = {"name": "王先生", "company": "华东制造", "phone": "13800001111", "region": "east",
        "budget": 500000, "notes": "想了解报价,明天能签"}


def form_url(item):
    return item["path"]


def load(client, item, lang="zh-CN"):
    response = client.get(form_url(item), headers={"Accept-Language": lang})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def submit(client, item, data, *, token=None, ip="203.0.113.7", **extra):
    token = token or load(client, item)["submit_token"]
    return client.post(form_url(item), json={"data": data, "submit_token": token, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def test_a_visitor_sees_the_form_and_submits_a_lead(client, admin_headers):
    endpoints = setup(client, admin_headers)
    form = endpoints["website_lead"]
    assert form["kind"] == "form" and form["path"].startswith("/api/public/forms/")

    shown = load(client, form)
    assert shown["title"] == "官网留资" and shown["description"].startswith("留下联系方式")
    assert [f["key"] for f in shown["fields"]] == [
        "name", "company", "phone", "email", "region", "budget", "notes"]  # no autonumber
    name = shown["fields"][0]
    assert name == {"key": "name", "type": "text", "title": "姓名", "required": True,
                    "max_length": 50}
    region = shown["fields"][4]
    assert region["options"] == [{"key": "east", "title": "华东"},
                                 {"key": "south", "title": "华南"}]
    assert shown["sections"][0] == {"title": "联系方式", "columns": 2,
                                    "fields": ["name", "company", "phone", "email"]}
    assert [r["key"] for r in shown["rules"]] == ["contact"]
    assert shown["rules"][0]["message"] == "请留下电话或邮箱"
    assert shown["honeypot"] == "homepage" and shown["submit_token"]
    english = load(client, form, "en")
    assert english["title"] == "Contact us" and english["fields"][0]["title"] == "Name"

    response = submit(client, form, GOOD, homepage="")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"message": "提交成功,顾问将尽快联系您", "duplicate": False}
    [lead] = leads(client, admin_headers)
    assert {k: lead[k] for k in GOOD} == GOOD
    assert lead["source"] == "website" and lead["code"] == "XS-0001"
    assert lead["created_by"] is None


def test_submissions_are_validated_like_any_write(client, admin_headers):
    form = setup(client, admin_headers)["website_lead"]
    response = submit(client, form, {"company": "无名", "email": "not-an-email",
                                     "budget": -5}, homepage="")
    assert response.status_code == 422
    found = problems(response)
    assert found["name"] == "required" and "email" in found and "budget" in found
    response = submit(client, form, {"name": "张三"})  # neither phone nor email
    assert response.status_code == 422 and "phone" in problems(response)
    response = submit(client, form, {**GOOD, "owner_rep": 1, "source": "wechat"})
    assert response.status_code == 422
    assert problems(response) == {"owner_rep": "unknown_field", "source": "unknown_field"}
    response = client.post(form_url(form), json={"data": "x", "submit_token": "y"})
    assert response.status_code == 422
    assert leads(client, admin_headers) == []


def test_spam_is_refused(client, admin_headers):
    form = setup(client, admin_headers, lead_app(min_fill_seconds=5))["website_lead"]
    endpoint = db.session.get(IntakeEndpoint, form["id"])

    response = submit(client, form, GOOD, homepage="http://cheap-pills.example")
    assert response.status_code == 422 and problems(response) == {"homepage": "spam"}
    response = submit(client, form, GOOD)  # the token was issued just now: too fast
    assert response.status_code == 422 and problems(response) == {"submit_token": "too_fast"}
    response = submit(client, form, GOOD, token="forged.token")
    assert problems(response) == {"submit_token": "invalid"}
    stale = issue_submit_token(endpoint, utcnow() - timedelta(days=2))
    assert problems(submit(client, form, GOOD, token=stale)) == {"submit_token": "expired"}
    assert leads(client, admin_headers) == []

    token = issue_submit_token(endpoint, utcnow() - timedelta(seconds=30))  # a person's pace
    assert submit(client, form, GOOD, token=token).status_code == 201
    response = submit(client, form, {**GOOD, "name": "李四"}, token=token)  # same token again
    assert response.status_code == 409 and problems(response) == {"submit_token": "used"}
    assert len(leads(client, admin_headers)) == 1


def test_the_same_answers_again_create_no_second_lead(client, admin_headers):
    form = setup(client, admin_headers)["website_lead"]
    assert submit(client, form, GOOD).status_code == 201
    response = submit(client, form, dict(reversed(list(GOOD.items()))))
    assert response.status_code == 200
    assert response.get_json()["duplicate"] is True
    assert submit(client, form, {**GOOD, "notes": "再补充一点"}).get_json()["duplicate"] is False
    assert len(leads(client, admin_headers)) == 2


def test_rate_limits_per_client_ip_and_per_form(client, admin_headers):
    limits = {"per_ip": 3, "per_form": 5, "window_minutes": 60}
    form = setup(client, admin_headers, lead_app(rate_limit=limits))["website_lead"]
    for n in range(3):
        response = submit(client, form, {**GOOD, "name": f"访客{n}"}, ip="198.51.100.1")
        assert response.status_code == 201, response.get_json()
    response = submit(client, form, {**GOOD, "name": "访客3"}, ip="198.51.100.1")
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 3600
    for n in range(2):
        response = submit(client, form, {**GOOD, "name": f"他人{n}"}, ip=f"198.51.100.{10 + n}")
        assert response.status_code == 201, response.get_json()
    response = submit(client, form, {**GOOD, "name": "第六位"}, ip="198.51.100.99")
    assert response.status_code == 429  # the form's own limit
    assert len(leads(client, admin_headers)) == 5


def test_a_token_writes_only_into_its_own_tenant(client, admin_headers, make_tenant, make_user,
                                                 auth_headers):
    ours = setup(client, admin_headers)["website_lead"]
    other_admin = make_user(make_tenant("other"), "admin", is_tenant_admin=True)
    other_headers = auth_headers(other_admin)
    theirs = setup(client, other_headers)["website_lead"]
    assert theirs["path"] != ours["path"]

    assert submit(client, theirs, {**GOOD, "name": "他们的客户"}).status_code == 201
    assert leads(client, admin_headers) == []
    assert [lead["name"] for lead in leads(client, other_headers)] == ["他们的客户"]
    # a submit token of one tenant's form does not open another's
    token = load(client, ours)["submit_token"]
    response = submit(client, theirs, GOOD, token=token)
    assert response.status_code == 422 and problems(response) == {"submit_token": "invalid"}


def test_rotating_the_token_closes_the_old_link(client, admin_headers, make_user, tenant,
                                               auth_headers):
    form = setup(client, admin_headers)["website_lead"]
    rep = make_user(tenant, "rep")
    assert client.post(f"/api/admin/intake/{form['id']}/rotate",
                       headers=auth_headers(rep)).status_code == 403
    response = client.post(f"/api/admin/intake/{form['id']}/rotate", headers=admin_headers)
    assert response.status_code == 200
    rotated = response.get_json()
    assert rotated["token"] != form["token"] and rotated["rotated_at"]
    assert client.get(form["path"]).status_code == 404
    assert load(client, rotated)["title"] == "官网留资"
    assert submit(client, rotated, GOOD).status_code == 201


@pytest.mark.parametrize("unknown", ["", "x" * 65, "no-such-token"])
def test_unknown_and_disabled_forms_are_not_found(client, admin_headers, unknown):
    form = setup(client, admin_headers, lead_app(enabled=False))["website_lead"]
    assert form["enabled"] is False
    assert client.get(form["path"]).status_code == 404
    assert client.get(f"/api/public/forms/{unknown}").status_code == 404
    response = client.post(f"/api/public/forms/{unknown or 'x'}",
                           json={"data": GOOD, "submit_token": "x"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_linker_checks_public_forms(client, admin_headers):
    definition = lead_app(form="internal", defaults={"nope": 1, "code": "x"})
    definition["public_forms"].append({"key": "website_lead", "title": {"zh-CN": "重复"},
                                       "entity": "lead", "form": "missing"})
    definition["inbound_webhooks"][0]["mapping"]["ghost"] = "$.ghost"
    definition["inbound_webhooks"][0]["external_id"] = "call_id"
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    found = problems(response)
    assert found["public_forms[0].form"] == "intake_private_field"  # owner_rep is a user field
    assert found["public_forms[0].defaults.nope"] == "unknown_field"
    assert found["public_forms[0].defaults.code"] == "intake_computed_field"
    assert found["public_forms[1].key"] == "duplicate_key"
    assert found["public_forms[1].form"] == "intake_unknown_form"
    assert found["inbound_webhooks[0].mapping.ghost"] == "unknown_field"
    assert found["inbound_webhooks[0].external_id"] == "intake_json_path"

    definition = lead_app()
    definition["entities"][0]["fields"][7]["required"] = True  # source, not on the form
    del definition["public_forms"][0]["defaults"]
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert problems(response) == {"public_forms[0].form": "intake_required_missing"}
