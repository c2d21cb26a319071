"""Print templates with a condition: a record prints only once it meets it."""

from __future__ import annotations

from typing import Any

from tests.definitions import entity, field, minimal_app, title
from tests.runtime.records.helpers import create, patch, publish, records_url

APP = "docs"


def definition(**template: Any) -> dict[str, Any]:
    app = minimal_app(entity("quote", "报价单", "Quote", [
        field("code", "text", "编号", "Code"),
        field("approved", "boolean", "已批准", "Approved"),
        field("lines", "attachment", "附件", "Files", multiple=True)]), key=APP)
    app["print_templates"] = [{"key": "pdf", "title": title("报价单", "Quote"), "entity": "quote",
                               "template": "<h1>{{ record.code }}</h1>", **template}]
    return app


def html(client: Any, headers: dict[str, str], record: dict[str, Any], **query: Any) -> Any:
    return client.get(f"{records_url('quote', APP)}/{record['id']}/print/pdf",
                      query_string={"format": "html", **query}, headers=headers)


def test_a_record_prints_once_it_meets_the_condition(client: Any,
                                                    admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition(
        when={"==": [{"var": "approved"}, True]},
        when_message={"zh-CN": "审批通过后才能打印", "en": "Prints once approved"}))
    quote = create(client, admin_headers, "quote", {"code": "Q-1"}, APP)
    refused = html(client, admin_headers, quote)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["message"] == "审批通过后才能打印"
    assert error["details"] == [{"path": "record", "message": "审批通过后才能打印",
                                 "code": "not_printable"}]
    assert html(client, admin_headers, quote, lang="en").get_json()["error"]["message"] == \
        "Prints once approved"
    patch(client, admin_headers, "quote", quote, {"approved": True}, APP)
    printed = html(client, admin_headers, quote)
    assert printed.status_code == 200 and "<h1>Q-1</h1>" in printed.get_data(as_text=True)


def test_without_a_message_the_refusal_names_the_template(client: Any,
                                                         admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition(when={">=": [{"var": "$count.lines"}, 1]}))
    quote = create(client, admin_headers, "quote", {"code": "Q-2"}, APP)
    refused = html(client, admin_headers, quote)
    assert refused.status_code == 422
    assert "报价单" in refused.get_json()["error"]["message"]


def test_the_condition_is_checked_with_the_definition(client: Any,
                                                     admin_headers: dict[str, str]) -> None:
    response = client.post("/api/apps", headers=admin_headers, json={
        "definition": definition(when={"==": [{"var": "colour"}, "red"]})})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["path"] == "print_templates[0].when.==[0].var"
