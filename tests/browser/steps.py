"""Steps the browser tests share: moving a card on a board, switching the person logged
in, confirming a message box and deciding an approval task."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, login


def drag_card(page: Page, record_id: int, stage: str) -> None:
    column = page.get_by_test_id(f"column-{stage}").locator(".cards")
    page.get_by_test_id(f"card-{record_id}").drag_to(column)


def switch_user(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.context.clear_cookies()
    login(page, base, username, password=password)


def confirm_box(page: Page, text: str | None = None) -> None:
    """Fill (optionally) and confirm an Element Plus message box."""
    box = page.locator(".el-message-box")
    if text is not None:
        box.locator("textarea").fill(text)
    box.locator(".el-message-box__btns .el-button--primary").click()


def decide(page: Page, scope: Any, action: str, comment: str) -> None:
    scope.get_by_test_id(action).click()
    dialog = page.get_by_test_id("decision-dialog")
    dialog.get_by_test_id("decision-comment").fill(comment)
    dialog.get_by_test_id("decision-confirm").click()
    expect(dialog).to_be_hidden()
