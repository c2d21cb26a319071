"""Every screen of the web app renders in zh-CN with no raw message key, and in English
with no Chinese interface text (the app's own data aside)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from builder.extensions import db
from tests.browser.conftest import ROOT, login, overflowing, untranslated
from tests.definitions import full_app
from tests.runtime.records.helpers import create, publish

CJK = re.compile(r"[\u4e00-\u9fff]")


def _messages(language: str) -> dict[str, str]:
    tree = json.loads((ROOT / "frontend" / "src" / "locales" / f"{language}.json")
                      .read_text(encoding="utf-8"))

    def flatten(node: Any, prefix: str = "") -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{key}.") if isinstance(value, dict)
                       else {f"{prefix}{key}": value})
        return out

    return flatten(tree)


ZH, EN = _messages("zh-CN"), _messages("en")
# Chinese interface strings that must not show on an English page (placeholders cut off)
CHINESE_ONLY = sorted({part for key, text in ZH.items() if EN.get(key) != text
                       for part in re.split(r"\{[^}]*\}", text) if len(CJK.findall(part)) >= 2})


def check(page: Page, language: str, screen: str, shots: Any) -> None:
    page.wait_for_load_state("networkidle")
    shots(page, f"{language}-{screen}")
    assert untranslated(page) == [], screen
    assert overflowing(page) == [], screen
    if language == "en":
        text = page.evaluate("() => document.body.innerText")
        shown = [s for s in CHINESE_ONLY if s in text]
        assert shown == [], f"{screen}: Chinese interface text on an English page: {shown}"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_screen_is_translated(page: Page, live_server: str, client: Any, admin: Any,
                                    admin_headers: dict[str, str], shots: Any,
                                    language: str) -> None:
    # version summaries are stored in the words of the publisher's language
    publish(client, {**admin_headers, "Accept-Language": language}, full_app())
    customer = create(client, admin_headers, "customer",
                      {"name": "华东制造", "industry": "manufacturing", "email": "a@b.cn"})
    client.patch(f"/api/apps/crm/customer/records/{customer['id']}", headers=admin_headers,
                 json={"version": customer["version"], "data": {"notes": "第二次"}})
    deal = create(client, admin_headers, "opportunity", {"name": "智能工厂", "customer":
                                                          customer["id"], "amount": 1000})
    quote = create(client, admin_headers, "quote", {
        "opportunity": deal["id"], "list_price": 100, "price": 80,
        "lines": [{"product": "控制柜", "quantity": 1, "unit_price": 80}]})
    page.add_init_script(f"window.localStorage.setItem('builder.language', '{language}')")
    words = {"zh-CN": {"home": "我的应用", "designer": "应用搭建", "filter": "筛选"},
             "en": {"home": "My apps", "designer": "App designer", "filter": "Filter"}}[language]

    page.goto(f"{live_server}/login")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    check(page, language, "login", shots)
    login(page, live_server, "admin")
    expect(page.locator("h1")).to_have_text(words["home"])
    check(page, language, "home", shots)

    def overlay(screen: str, button: str, shown: str) -> None:
        """Open a dialog or drawer, check it, close it."""
        page.get_by_test_id(button).click()
        expect(page.get_by_test_id(shown)).to_be_visible()
        check(page, language, screen, shots)
        page.keyboard.press("Escape")

    page.goto(f"{live_server}/designer")
    expect(page.get_by_test_id("designer-app-crm")).to_be_visible()
    check(page, language, "designer-apps", shots)
    overlay("designer-new-app", "create-app", "create-app-dialog")

    page.goto(f"{live_server}/designer/crm")
    expect(page.get_by_test_id("entity-settings")).to_be_visible()
    check(page, language, "designer-entity", shots)
    overlay("designer-publish", "publish", "publish-dialog")
    overlay("designer-versions", "open-versions", "version-1")
    page.get_by_test_id("field-card-industry").click()
    page.get_by_test_id("prop-visible-toggle").click()
    page.get_by_test_id("visible-when").get_by_test_id("condition-add").click()
    page.get_by_test_id("add-validation").click()
    check(page, language, "designer-field", shots)
    page.get_by_test_id("mode-preview").click()
    page.get_by_test_id("preview-submit").click()
    check(page, language, "designer-preview", shots)
    page.get_by_test_id("mode-processes").click()
    for tab in ("flows", "chains", "sla", "automations", "metrics", "dashboards", "roles"):
        page.locator(f"#tab-{tab}").click()
        check(page, language, f"designer-{tab}", shots)

    page.goto(f"{live_server}/admin")
    for tab in ("users", "roles", "transfer", "teams"):
        page.locator(f"#tab-{tab}").click()
        check(page, language, f"admin-{tab}", shots)

    page.goto(f"{live_server}/apps/crm/customer")
    expect(page.get_by_test_id("open-filter")).to_contain_text(words["filter"])
    expect(page.get_by_test_id("list-total")).to_be_visible()
    check(page, language, "list", shots)
    page.get_by_test_id("open-filter").click()
    page.get_by_test_id("list-filter").get_by_test_id("condition-add").click()
    check(page, language, "list-filter", shots)
    page.keyboard.press("Escape")

    for screen, path in (("new", "customer/new"), ("record", f"customer/{customer['id']}"),
                         ("edit", f"customer/{customer['id']}/edit"),
                         ("quote-form", "quote/new"), ("opportunity-list", "opportunity"),
                         ("board", "opportunity/board"), ("dashboard", "dashboards/sales")):
        page.goto(f"{live_server}/apps/crm/{path}")
        expect(page.locator("h1")).to_be_visible()
        check(page, language, screen, shots)
    page.goto(f"{live_server}/apps/crm/customer/{customer['id']}")
    expect(page.get_by_test_id("history-update")).to_be_visible()
    page.goto(f"{live_server}/apps/crm/opportunity/{deal['id']}")
    expect(page.get_by_test_id("stage-bar-funnel")).to_be_visible()
    check(page, language, "opportunity-record", shots)
    page.get_by_test_id("stage-proposal").click()  # refused: no survey report yet
    expect(page.get_by_test_id("stage-refused")).to_be_visible()
    check(page, language, "stage-refused", shots)
    page.get_by_test_id("stage-refused-ok").click()
    page.goto(f"{live_server}/apps/crm/quote/{quote['id']}")
    expect(page.get_by_test_id("approval-panel")).to_be_visible()
    expect(page.get_by_test_id("subtable-view-lines")).to_be_visible()
    check(page, language, "quote-record", shots)
    page.goto(f"{live_server}/apps/crm/customer")
    overlay("import", "open-import", "import-dialog")
    page.goto(f"{live_server}/market")
    expect(page.get_by_test_id("package-crm_starter")).to_be_visible()
    check(page, language, "market", shots)
    page.get_by_test_id("package-crm_starter").get_by_test_id("package-install").click()
    # the app key is taken here (crm), so the plan says why it cannot install
    expect(page.locator("[data-test=operation-report], [data-test=operation-error]")
           ).to_be_visible()
    check(page, language, "market-plan", shots)
    page.get_by_test_id("operation-close").click()
    page.goto(f"{live_server}/tasks")
    expect(page.locator("h1")).to_be_visible()
    check(page, language, "my-tasks", shots)

    page.goto(f"{live_server}/approvals")
    expect(page.get_by_test_id("inbox-count")).to_be_visible()
    check(page, language, "approvals-inbox", shots)
    overlay("notifications", "notification-bell", "notification-list")

    page.goto(f"{live_server}/no/such/page")
    expect(page.locator(".el-result")).to_be_visible()
    check(page, language, "not-found", shots)
    page.get_by_test_id("user-menu").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    check(page, language, "user-menu", shots)


def test_chinese_by_default_and_english_on_request(browser: Any, live_server: str, admin: Any,
                                                   client: Any, admin_headers: dict[str, str],
                                                   shots: Any) -> None:
    """Even a browser set to English opens in zh-CN; the switch turns interface, Element
    Plus and the server's messages to English, and the choice survives a reload."""
    publish(client, admin_headers, full_app())  # its crm app makes the install below refused
    db.session.commit()
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        expect(page.get_by_test_id("login-submit")).to_have_text("登录")
        login(page, live_server, "admin")
        expect(page.locator("h1")).to_have_text("我的应用")
        assert page.evaluate("() => document.documentElement.lang") == "zh-CN"

        page.get_by_test_id("language-switch").click()
        page.get_by_test_id("language-en").click()
        expect(page.locator("h1")).to_have_text("My apps")
        expect(page.get_by_test_id("nav-market")).to_have_text("Market")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        shots(page, "english")
        page.reload()
        expect(page.locator("h1")).to_have_text("My apps")
        assert untranslated(page) == []

        # the server answers in the chosen language too: a refused install plan
        page.goto(f"{live_server}/market")
        page.get_by_test_id("package-crm_starter").get_by_test_id("package-install").click()
        expect(page.get_by_test_id("operation-error")).to_contain_text("crm")
        error = page.get_by_test_id("operation-error").inner_text()
        assert not CJK.search(error), error
        shots(page, "english-server-error")
    finally:
        context.close()
