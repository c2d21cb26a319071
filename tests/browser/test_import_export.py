"""A rep imports a spreadsheet in the browser (mapping suggested from the Chinese titles,
preview with the problems of each row, a run followed to the end, bad rows with their
reasons and the file of them), then exports the list as shown."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated
from tests.browser.test_lists_and_versions import deals_app
from tests.runtime.records.helpers import publish


def test_import_with_bad_rows_then_export_the_list(page: Page, live_server: str, client: Any,
                                                   admin_headers: dict[str, str],
                                                   make_user: Any, tenant: Any,
                                                   tmp_path: Path, shots: Any) -> None:
    publish(client, admin_headers, deals_app())
    make_user(tenant, "rep")
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "级别", "金额", "备注"])
    for row in (["华东制造", "重点", 120], ["南方电网", "普通", 80], ["北方重工", "未知级别", 50],
                ["西部矿业", "普通", "很多"], ["中部物流", "重点", 300]):
        sheet.append(row)
    path = tmp_path / "交易.xlsx"
    book.save(path)

    login(page, live_server, "rep")
    page.goto(f"{live_server}/apps/demo/deal")
    page.get_by_test_id("open-import").click()
    dialog = page.get_by_test_id("import-dialog")
    dialog.get_by_test_id("import-file").set_input_files(str(path))
    expect(dialog).to_contain_text("交易.xlsx：共 5 行")
    expect(dialog.get_by_test_id("map-名称")).to_contain_text("名称")
    expect(dialog.get_by_test_id("map-金额")).to_contain_text("金额")
    expect(dialog.get_by_test_id("map-备注")).to_contain_text("不导入")

    dialog.get_by_test_id("import-preview-button").click()
    problems = dialog.get_by_test_id("import-preview").get_by_test_id("preview-problem")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("级别")
    expect(problems.nth(1)).to_contain_text("金额")
    shots(page, "preview")

    dialog.get_by_test_id("import-skip-bad").click()
    dialog.get_by_test_id("import-run").click()
    expect(dialog.get_by_test_id("import-result")).to_have_text("导入 3 条，失败 2 条")
    rows = dialog.get_by_test_id("import-problems").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("4")  # spreadsheet row 4: 北方重工
    expect(dialog.get_by_test_id("import-error-file")).to_be_visible()
    shots(page, "result")
    assert untranslated(page) == []
    dialog.get_by_test_id("import-close").click()
    expect(page.get_by_test_id("list-total")).to_contain_text("3")

    # --- export what the list shows --------------------------------------------------------
    with page.expect_download() as download:
        page.get_by_test_id("export-list").click()
    exported = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    values = list(exported.iter_rows(values_only=True))
    assert values[0][:3] == ("名称", "级别", "金额")
    assert sorted(row[0] for row in values[1:]) == ["中部物流", "华东制造", "南方电网"]
