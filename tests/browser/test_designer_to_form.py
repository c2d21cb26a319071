"""The first "done when": a manager builds and publishes an app in the designer; a rep on a
phone-sized screen fills its form, where a field shows only when the rule says so and a
validation error from the server appears beside its field."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated


def choose(page: Page, select: Any, option: str) -> None:
    """Open an Element Plus select and click one of its options."""
    select.click()
    items = page.locator(".el-select-dropdown:visible .el-select-dropdown__item")
    items.filter(has_text=option).first.click()


def drag_field(page: Page, field_type: str, section: int = 0) -> None:
    """Drag a field type from the palette to the end of a form section."""
    zone = page.get_by_test_id(f"drop-{section}")
    box = zone.bounding_box()
    assert box is not None
    page.get_by_test_id(f"palette-{field_type}").drag_to(
        zone, target_position={"x": box["width"] - 12, "y": box["height"] - 6})


def set_titles(page: Page, zh: str, en: str) -> None:
    panel = page.get_by_test_id("field-properties")
    panel.get_by_test_id("prop-title-zh").fill(zh)
    panel.get_by_test_id("prop-title-en").fill(en)


def test_manager_designs_and_publishes_then_rep_fills_the_form(
        page: Page, live_server: str, make_user: Any, tenant: Any, browser: Any,
        shots: Any) -> None:
    make_user(tenant, "manager", is_tenant_admin=True)
    make_user(tenant, "rep")

    # --- the manager creates an app and an entity ---------------------------------------
    login(page, live_server, "manager")
    page.get_by_test_id("nav-designer").click()
    page.get_by_test_id("create-app").click()
    page.get_by_test_id("app-title-zh").fill("客户管理")
    page.get_by_test_id("app-title-en").fill("Customer care")
    expect(page.get_by_test_id("app-key")).to_have_value("customer_care")
    page.get_by_test_id("create-app-confirm").click()
    page.wait_for_url(re.compile(r"/designer/customer_care$"))
    page.get_by_test_id("add-entity").first.click()
    page.get_by_test_id("entity-title-zh-new").fill("客户")
    page.get_by_test_id("entity-title-en-new").fill("Customer")
    page.get_by_test_id("entity-create").click()

    # --- five fields dragged from the palette onto the form ------------------------------
    for field_type in ("text", "select", "money", "long_text", "date"):
        drag_field(page, field_type)
    cards = page.locator("[data-test^=field-card-]")
    expect(cards).to_have_count(5)
    expect(cards.nth(0)).to_contain_text("单行文本")
    expect(cards.nth(4)).to_contain_text("日期")
    shots(page, "five-fields")

    # --- reorder by drag: the date goes first; two columns ------------------------------
    cards.nth(4).drag_to(cards.nth(0), target_position={"x": 20, "y": 4})
    expect(cards.nth(0)).to_contain_text("日期")
    expect(cards.nth(1)).to_contain_text("单行文本")
    choose(page, page.get_by_test_id("section-columns"), "2 列")

    # --- properties: titles (keys follow), required, options, a minimum ------------------
    cards.nth(1).click()
    set_titles(page, "客户名称", "Customer name")
    page.get_by_test_id("prop-required").click()
    expect(page.get_by_test_id("prop-key")).to_have_value("customer_name")

    page.locator("[data-test^=field-card-]").nth(2).click()
    set_titles(page, "客户级别", "Level")
    page.get_by_test_id("option-0").get_by_test_id("option-title-zh").fill("重点客户")
    page.get_by_test_id("option-0").get_by_test_id("option-title-en").fill("Key account")
    page.get_by_test_id("option-1").get_by_test_id("option-title-zh").fill("普通客户")
    page.get_by_test_id("option-1").get_by_test_id("option-title-en").fill("Regular")

    page.locator("[data-test^=field-card-]").nth(3).click()
    set_titles(page, "预算", "Budget")
    page.get_by_test_id("prop-min").locator("input").fill("0")
    page.get_by_test_id("prop-min").locator("input").blur()

    # --- the notes field shows only when the level is "key account" ----------------------
    page.locator("[data-test^=field-card-]").nth(4).click()
    set_titles(page, "重点说明", "Key account notes")
    page.get_by_test_id("prop-visible-toggle").click()
    builder = page.get_by_test_id("visible-when")
    builder.get_by_test_id("condition-add").click()
    choose(page, builder.get_by_test_id("condition-field"), "客户级别")
    choose(page, builder.get_by_test_id("condition-value"), "重点客户")
    expect(page.locator("[data-test=field-card-key_account_notes] .conditional")).to_be_visible()

    page.locator("[data-test^=field-card-]").nth(0).click()
    set_titles(page, "签约日期", "Signed on")
    shots(page, "rule-set")

    # --- the live preview runs the rule ----------------------------------------------------
    page.get_by_test_id("mode-preview").click()
    preview = page.get_by_test_id("preview")
    expect(preview.locator("[data-field=key_account_notes]")).to_have_count(0)
    first, second = (preview.locator(f"[data-field={key}]").bounding_box()
                     for key in ("signed_on", "customer_name"))
    assert first and second and second["x"] > first["x"] + 100  # side by side: two columns
    choose(page, preview.locator("[data-field=level] .el-select"), "重点客户")
    expect(preview.locator("[data-field=key_account_notes]")).to_be_visible()
    choose(page, preview.locator("[data-field=level] .el-select"), "普通客户")
    expect(preview.locator("[data-field=key_account_notes]")).to_have_count(0)
    preview.get_by_test_id("preview-submit").click()
    expect(preview.locator("[data-field=customer_name] .el-form-item__error")).to_have_text("必填")
    shots(page, "preview")

    # --- save, then publish after reading the plan ----------------------------------------
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("unsaved")).to_have_count(0)
    page.get_by_test_id("publish").click()
    dialog = page.get_by_test_id("publish-dialog")
    expect(dialog.get_by_test_id("plan-changes")).to_contain_text("重点说明")
    expect(dialog.get_by_test_id("plan-steps")).to_contain_text("customer")
    shots(page, "plan")
    dialog.get_by_test_id("publish-confirm").click()
    expect(page.locator(".el-message--success", has_text="v1")).to_be_visible()
    expect(page.get_by_test_id("open-app")).to_be_visible()

    # --- a rep on a 375 px wide phone fills the form ------------------------------------
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740},
                                is_mobile=True, has_touch=True)
    rep = phone.new_page()
    try:
        login(rep, live_server, "rep")
        rep.get_by_test_id("app-tile-customer_care").click()
        expect(rep.get_by_test_id("list-title")).to_have_text("客户")
        rep.get_by_test_id("new-record").click()
        form = rep.get_by_test_id("record-form")
        expect(form.locator("[data-field=customer_name]")).to_be_visible()
        expect(form.locator("[data-field=key_account_notes]")).to_have_count(0)
        first, second = (form.locator(f"[data-field={key}]").bounding_box()
                         for key in ("signed_on", "customer_name"))
        assert first and second and second["y"] > first["y"]  # one column on a phone
        form.locator("[data-field=customer_name] input").fill("华东制造")
        choose(rep, form.locator("[data-field=level] .el-select"), "重点客户")
        expect(form.locator("[data-field=key_account_notes]")).to_be_visible()
        form.locator("[data-field=key_account_notes] textarea").fill("年度框架合同")
        form.locator("[data-field=budget] input").fill("-5")
        with rep.expect_response(lambda r: r.request.method == "POST"
                                 and r.url.endswith("/records")) as answer:
            rep.get_by_test_id("submit-record").click()
        assert answer.value.status == 422
        error = form.locator("[data-field=budget] .el-form-item__error")
        expect(error).to_be_visible()
        expect(error).to_contain_text("0")
        box = form.locator("[data-field=budget]").bounding_box()
        assert box is not None and box["width"] <= 375
        shots(rep, "server-error-beside-field")

        form.locator("[data-field=budget] input").fill("50000")
        rep.get_by_test_id("submit-record").click()
        expect(rep.get_by_test_id("record-title")).to_have_text("华东制造")
        fields = rep.get_by_test_id("record-fields")
        expect(fields.locator("[data-field=key_account_notes]")).to_contain_text("年度框架合同")
        expect(rep.get_by_test_id("history")).to_contain_text("创建了记录")
        shots(rep, "record-page")
        assert untranslated(rep) == []
    finally:
        phone.close()
    assert untranslated(page) == []
