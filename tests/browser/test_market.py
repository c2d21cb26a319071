"""A tenant admin installs a market package with its demo data after reading the plan,
follows the progress, reads the (empty) upgrade report, exports the configuration, sees its
import here refused by the plan (the app exists), and clones it into another tenant, each
planned before it runs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from builder.extensions import db
from tests.browser.conftest import login, untranslated


def test_install_upgrade_export_and_clone(page: Page, live_server: str, client: Any,
                                          admin_headers: dict[str, str], shots: Any) -> None:
    assert client.get("/api/apps", headers=admin_headers).get_json() == []
    login(page, live_server, "admin")
    page.get_by_test_id("nav-market").click()
    package = page.get_by_test_id("package-crm_starter")
    expect(package).to_contain_text("客户管理入门")
    package.get_by_test_id("package-demo").click()
    package.get_by_test_id("package-install").click()
    dialog = page.get_by_test_id("operation-dialog")
    report = dialog.get_by_test_id("operation-report")
    expect(report.get_by_test_id("report-app-crm")).to_contain_text("新增应用「客户管理」")
    expect(report).to_contain_text("crm.customer：3")
    shots(page, "install-plan")
    assert untranslated(page) == []
    assert client.get("/api/apps", headers=admin_headers).get_json() == []  # a plan keeps nothing
    db.session.commit()
    dialog.get_by_test_id("operation-confirm").click()
    expect(dialog.get_by_test_id("operation-done")).to_be_visible()
    shots(page, "installed")
    dialog.get_by_test_id("operation-close").click()
    expect(package.get_by_test_id("package-installed")).to_contain_text("1.0.0")
    customers = client.get("/api/apps/crm/customer/records?count=true",
                           headers=admin_headers).get_json()
    assert customers["total"] == 3

    package.get_by_test_id("package-upgrade").click()
    expect(dialog.get_by_test_id("operation-report")).to_contain_text("未做任何修改")
    dialog.get_by_test_id("operation-close").click()

    # --- configuration: export as a file, clone into another tenant ---------------------------
    page.get_by_test_id("nav-admin").click()
    page.locator("#tab-transfer").click()
    with page.expect_download() as download:
        page.get_by_test_id("config-export").click()
    assert download.value.suggested_filename.endswith(".zip")
    # importing it here is planned first, and refused: this tenant already has the app
    page.get_by_test_id("config-import-file").set_input_files(download.value.path())
    dialog = page.get_by_test_id("operation-dialog")
    expect(dialog.get_by_test_id("operation-error")).to_contain_text("应用标识“crm”在本租户中已被使用")
    expect(dialog.get_by_test_id("operation-confirm")).to_have_count(0)
    shots(page, "import-refused")
    dialog.get_by_test_id("operation-close").click()
    expect(dialog).to_be_hidden()
    page.get_by_test_id("clone-target").fill("acme-test")
    page.get_by_test_id("clone-plan").click()
    expect(dialog.get_by_test_id("report-app-crm")).to_be_visible()
    shots(page, "clone-plan")
    dialog.get_by_test_id("operation-confirm").click()
    expect(dialog.get_by_test_id("operation-done")).to_be_visible()
    assert untranslated(page) == []
