"""A tenant admin sets up people: a role, a user holding it, a team with its manager and
members; then grants the role its permissions in an app's designer and publishes."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated
from tests.browser.test_designer_processes import deals_with_stages
from tests.browser.test_designer_to_form import choose
from tests.runtime.records.helpers import publish


def test_admin_sets_up_people_and_role_permissions(page: Page, live_server: str, client: Any,
                                                   admin_headers: dict[str, str],
                                                   shots: Any) -> None:
    publish(client, admin_headers, deals_with_stages())
    login(page, live_server, "admin")
    page.get_by_test_id("nav-admin").click()

    page.get_by_role("tab", name="角色").click()
    page.get_by_test_id("role-new").click()
    dialog = page.get_by_test_id("role-dialog")
    dialog.get_by_test_id("role-title-zh").fill("销售")
    dialog.get_by_test_id("role-title-en").fill("Sales rep")
    expect(dialog.get_by_test_id("role-key")).to_have_value("sales_rep")
    dialog.get_by_test_id("role-save").click()
    expect(page.get_by_test_id("role-sales_rep")).to_contain_text("销售")

    page.get_by_role("tab", name="用户").click()
    page.get_by_test_id("user-new").click()
    dialog = page.get_by_test_id("user-dialog")
    dialog.get_by_test_id("user-username").fill("wang")
    dialog.get_by_test_id("user-display-name").fill("王小明")
    dialog.get_by_test_id("user-password").fill("a-long-secret")
    choose(page, dialog.get_by_test_id("user-roles"), "销售")
    dialog.get_by_test_id("user-save").click()
    expect(page.get_by_test_id("users-table")).to_contain_text("王小明")

    page.get_by_role("tab", name="团队").click()
    page.get_by_test_id("team-new").click()
    dialog = page.get_by_test_id("team-dialog")
    dialog.get_by_test_id("team-name").fill("华东区")
    choose(page, dialog.get_by_test_id("team-manager"), "admin")
    expect(page.locator(".el-select-dropdown:visible")).to_have_count(0)
    choose(page, dialog.get_by_test_id("team-members"), "王小明")
    page.keyboard.press("Escape")
    dialog.get_by_test_id("team-save").click()
    expect(page.get_by_test_id("teams-table")).to_contain_text("王小明")
    shots(page, "teams")
    assert untranslated(page) == []

    users = client.get("/api/admin/users", headers=admin_headers).get_json()
    wang = next(u for u in users if u["username"] == "wang")
    assert wang["roles"] == ["sales_rep"] and wang["display_name"] == "王小明"
    team = client.get("/api/admin/teams", headers=admin_headers).get_json()[0]
    assert team["name"] == "华东区" and team["members"] == [wang["id"]]

    # --- the role's permissions in the app: read and create its own deals -----------------
    page.goto(f"{live_server}/designer/demo")
    page.get_by_test_id("mode-processes").click()
    page.get_by_role("tab", name="角色权限").click()
    page.get_by_test_id("role-add").click()
    page.get_by_test_id("permission-add").click()
    permission = page.get_by_test_id("permission-0")
    permission.get_by_test_id("permission-actions").get_by_text("新建").click()
    permission.get_by_test_id("permission-scope").get_by_text("本人的").click()
    shots(page, "role-permissions")
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("unsaved")).to_have_count(0)
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-dialog").get_by_test_id("publish-confirm").click()
    expect(page.locator(".el-message--success", has_text="v2")).to_be_visible()
    roles = client.get("/api/apps/demo", headers=admin_headers).get_json()["definition"]["roles"]
    assert roles == [{"key": "sales_rep", "title": {"zh-CN": "销售", "en": "Sales rep"},
                      "permissions": [{"entity": "*", "actions": ["read", "create"],
                                       "scope": "own"}]}]
