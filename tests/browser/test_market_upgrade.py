"""A tenant admin upgrades a market package the tenant has changed: the plan lists what the
new version adds and the conflict kept from the merge, the upgrade runs, the tenant's
own change survives; then the package is uninstalled after its plan, and its app leaves
the navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from builder.extensions import db
from tests.browser.conftest import login, overflowing, untranslated
from tests.market.packages import sales_app, sales_app_v2, v2_seed, write_package


def retitle_proposal(client: Any, headers: dict[str, str]) -> None:
    """The tenant's own change: the proposal stage is called 报价中 here."""
    draft = client.get("/api/apps/sales/draft", headers=headers).get_json()["definition"]
    [stage] = [s for s in draft["stage_flows"][0]["stages"] if s["key"] == "proposal"]
    stage["title"] = {"zh-CN": "报价中", "en": "Proposal"}
    assert client.put("/api/apps/sales/draft", json={"definition": draft},
                      headers=headers).status_code == 200
    assert client.post("/api/apps/sales/publish", headers=headers).status_code == 200


def test_upgrade_with_merge_report_then_uninstall(page: Page, live_server: str, app: Flask,
                                                  client: Any, admin_headers: dict[str, str],
                                                  tmp_path: Path, shots: Any) -> None:
    market = tmp_path / "market"
    write_package(market / "sales_kit", sales_app())
    app.config["BUILDER"].market_dir = market
    assert client.post("/api/market/sales_kit/install", json={"demo_data": False},
                       headers=admin_headers).status_code == 200
    retitle_proposal(client, admin_headers)
    write_package(market / "sales_kit", sales_app_v2(), version="1.1.0", seed=v2_seed())
    db.session.commit()

    login(page, live_server, "admin")
    page.get_by_test_id("nav-market").click()
    package = page.get_by_test_id("package-sales_kit")
    expect(package.get_by_test_id("package-installed")).to_contain_text("1.0.0")
    expect(package.get_by_test_id("package-upgradable")).to_contain_text("1.1.0")
    assert overflowing(page) == []

    # --- upgrade: the plan shows the merge, nothing changes until it is confirmed -----------
    package.get_by_test_id("package-upgrade").click()
    dialog = page.get_by_test_id("operation-dialog")
    report = dialog.get_by_test_id("operation-report")
    expect(report.get_by_test_id("report-app-sales")).to_be_visible()
    conflicts = report.get_by_test_id("report-conflicts")
    expect(conflicts.locator("li")).to_have_count(1)
    expect(conflicts).to_contain_text("stage_flows.funnel.stages.proposal.title.zh-CN")
    shots(page, "upgrade-plan")
    assert untranslated(page) == []
    definition = client.get("/api/apps/sales", headers=admin_headers).get_json()["definition"]
    assert definition["version"] == "1.0.0"  # a plan keeps nothing
    db.session.commit()
    dialog.get_by_test_id("operation-confirm").click()
    expect(dialog.get_by_test_id("operation-done")).to_be_visible()
    expect(dialog.get_by_test_id("report-conflicts")).to_be_visible()
    shots(page, "upgraded")
    dialog.get_by_test_id("operation-close").click()
    expect(package.get_by_test_id("package-installed")).to_contain_text("1.1.0")
    definition = client.get("/api/apps/sales", headers=admin_headers).get_json()["definition"]
    assert definition["version"] == "1.1.0"
    titles = {s["key"]: s["title"] for s in definition["stage_flows"][0]["stages"]}
    assert titles["proposal"]["zh-CN"] == "报价中"  # the tenant's change is kept
    assert "negotiation" in titles  # the package's new stage arrived

    # --- uninstall: planned, confirmed, the app is gone from the navigation -----------------
    page.get_by_test_id("nav-apps").click()
    expect(page.get_by_test_id("nav-app-sales")).to_be_visible()
    page.keyboard.press("Escape")
    package.get_by_test_id("package-uninstall").click()
    expect(dialog.get_by_test_id("report-app-sales")).to_be_visible()
    shots(page, "uninstall-plan")
    db.session.commit()
    dialog.get_by_test_id("operation-confirm").click()
    expect(dialog.get_by_test_id("operation-done")).to_be_visible()
    dialog.get_by_test_id("operation-close").click()
    expect(package.get_by_test_id("package-installed")).to_have_count(0)
    expect(package.get_by_test_id("package-install")).to_be_visible()
    expect(page.get_by_test_id("nav-apps")).to_have_count(0)  # no app left to open
    keys = [a["key"] for a in client.get("/api/apps", headers=admin_headers).get_json()]
    assert "sales" not in keys
    assert untranslated(page) == []
