"""Demo organisations and time-relative demo data: the people and teams of a package's demo
are created with it, records may say who owns them and when things happened."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import clock
from tests.market.packages import sales_app, write_package
from tests.runtime.records.helpers import records_url

PEOPLE = [{"username": "zhang.wei", "display_name": "张伟", "roles": ["sales_manager"]},
          {"username": "li.na", "display_name": "李娜", "roles": ["closer"]}]
TEAMS = [{"key": "east", "name": "华东大区", "parent": None, "manager": "zhang.wei",
          "members": ["li.na"]}]


def with_dates() -> dict[str, Any]:
    app = sales_app()
    customer = app["entities"][0]
    customer["fields"] += [
        {"key": "met_on", "type": "date", "title": {"zh-CN": "见面日期"}},
        {"key": "quarter", "type": "date", "title": {"zh-CN": "季度"}},
        {"key": "called_at", "type": "datetime", "title": {"zh-CN": "来电时间"}}]
    return app


DEMO = {"sales": {"customer": [
    {"$key": "east_factory", "$owner": {"$user": "li.na"}, "name": "华东制造",
     "met_on": {"$date": -3}, "quarter": {"$date": -1, "start_of": "quarter"},
     "called_at": {"$datetime": -26.5}},
    {"$key": "south_shop", "$owner": {"$user": "nobody"}, "name": "南方零售"}]}}


def install(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/market/sales_kit/install", json=body, headers=headers)


def test_a_demo_brings_its_people_owners_and_dates(
        app: Any, client: Any, admin_headers: dict[str, str], tmp_path: Path) -> None:
    write_package(tmp_path / "market" / "sales_kit", with_dates(), demo=DEMO,
                  demo_users=PEOPLE, teams=TEAMS)
    app.config["BUILDER"].market_dir = tmp_path / "market"
    clock.travel_to(datetime(2026, 5, 20, 2, 0, tzinfo=UTC), frozen=True)
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert any("zhang.wei, li.na" in note for note in report["notes"])
    assert report["unmapped_users"] == [{"username": "nobody", "count": 1, "places": [
        "data/demo.json#sales.customer[1].$owner"]}]
    users = {u["username"]: u for u in client.get("/api/admin/users",
                                                   headers=admin_headers).get_json()}
    assert users["li.na"]["roles"] == ["closer"] and users["li.na"]["teams"] == ["east"]
    assert users["zhang.wei"]["is_active"] and users["zhang.wei"]["is_available"]
    login = client.post("/api/auth/login", json={"tenant": "acme", "username": "li.na",
                                                 "password": "anything"})
    assert login.status_code == 401  # no password until an admin sets one
    teams = client.get("/api/admin/teams", headers=admin_headers).get_json()
    assert [(t["key"], t["manager_id"]) for t in teams] == [("east", users["zhang.wei"]["id"])]

    found = client.get(records_url("customer", "sales"), query_string={"sort": "id"},
                       headers=admin_headers).get_json()["items"]
    acme, ghost = (next(c for c in found if c["name"] == name) for name in ("华东制造", "南方零售"))
    assert acme["owner"] == users["li.na"]["id"]
    assert ghost["owner"] == users["admin"]["id"]
    assert acme["met_on"] == "2026-05-17" and acme["quarter"] == "2026-01-01"
    assert acme["called_at"] == "2026-05-18T23:30:00Z"


def test_without_demo_data_no_people_are_created(
        app: Any, client: Any, admin_headers: dict[str, str], tmp_path: Path) -> None:
    write_package(tmp_path / "market" / "sales_kit", with_dates(), demo=DEMO,
                  demo_users=PEOPLE, teams=TEAMS)
    app.config["BUILDER"].market_dir = tmp_path / "market"
    assert install(client, admin_headers).status_code == 200
    users = {u["username"] for u in client.get("/api/admin/users",
                                               headers=admin_headers).get_json()}
    assert users == {"admin"}
    assert client.get("/api/admin/teams", headers=admin_headers).get_json() == []


def test_a_bad_relative_date_names_its_place(
        app: Any, client: Any, admin_headers: dict[str, str], tmp_path: Path) -> None:
    demo = {"sales": {"customer": [{"name": "华东制造", "met_on": {"$date": "soon"}}]}}
    write_package(tmp_path / "market" / "sales_kit", with_dates(), demo=demo)
    app.config["BUILDER"].market_dir = tmp_path / "market"
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["path"] == \
        "data/demo.json#sales.customer[0].met_on"
