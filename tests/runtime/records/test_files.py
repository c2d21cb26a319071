"""Uploads: stored per tenant under a generated name, downloaded with the original name."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.runtime.records.helpers import PNG, create, problems, publish, records_url, upload


def test_upload_and_download(app: Flask, client: Any, admin: Any, admin_headers: Any) -> None:
    response = upload(client, admin_headers, b"hello", "../../etc/报告 v1.txt", "text/plain")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["name"] == "报告 v1.txt" and body["size"] == 5
    assert body["content_type"] == "text/plain"
    stored = list((app.config["BUILDER"].files_dir / str(admin.tenant_id)).iterdir())
    assert [p.name for p in stored] == [body["id"]]
    download = client.get(f"/api/files/{body['id']}", headers=admin_headers)
    assert download.status_code == 200 and download.data == b"hello"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A" in download.headers["Content-Disposition"]
    download.close()


def test_limits_and_image_checks(app: Flask, client: Any, admin_headers: Any) -> None:
    app.config["BUILDER"].extra["max_upload_bytes"] = 1000
    too_big = upload(client, admin_headers, b"x" * 1001, "big.bin")
    assert too_big.status_code == 422 and problems(too_big) == {"file": "too_large"}
    assert problems(upload(client, admin_headers, b"", "empty.txt")) == {"file": "empty"}
    fake = upload(client, admin_headers, b"<svg onload=alert(1)>", "x.png", "image/png",
                  image="true")
    assert problems(fake) == {"file": "not_image"}
    fake = upload(client, admin_headers, b"<html>", "x.png", "image/png").get_json()
    assert fake["content_type"] == "application/octet-stream"
    real = upload(client, admin_headers, PNG, "x.bin", image="true").get_json()
    assert real["content_type"] == "image/png"

    publish(client, admin_headers)
    refused = client.post(records_url("customer"), headers=admin_headers,
                          json={"data": {"name": "甲", "logo": [fake["id"]]}})
    assert problems(refused) == {"logo[0]": "not_image"}
    customer = create(client, admin_headers, "customer", {"name": "甲", "logo": [real]})
    assert customer["logo"] == [real]
    wrong_type = client.post(records_url("opportunity"), headers=admin_headers, json={"data": {
        "name": "x", "customer": customer["id"], "site_survey_report": [real["id"]]}})
    assert problems(wrong_type) == {"site_survey_report[0]": "not_accepted"}
    too_many = client.post(records_url("customer"), headers=admin_headers,
                           json={"data": {"name": "乙", "logo": [real["id"], real["id"]]}})
    assert problems(too_many) == {"logo": "too_many_files"}
