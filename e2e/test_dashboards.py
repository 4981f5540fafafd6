"""The dashboards in a real browser: the province admin drills from the province to a village through the
table of each level, sees the charts drawn beside the tables, then asks for the province's annual work
report and downloads the PDF, whose text carries the figures."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def _drill(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.locator("#table-regions tbody th a", has_text=name).first.click()
    expect(page.locator("#dashboard-breadcrumbs .active")).to_contain_text(name)
    expect(page.locator("#dashboard-title")).to_contain_text(name)


def _charts_drawn(page: Page) -> int:
    page.wait_for_function("document.querySelectorAll('[data-chart-ready=true]').length > 0")
    return page.locator("[data-chart-ready=true] svg").count()


def test_province_admin_drills_to_a_village_and_downloads_the_annual_report(
    page: Page, site: str, tmp_path: Path
) -> None:
    log_in(page, site, "demo-province")
    with page.expect_navigation():
        page.locator(".navbar-nav").get_by_role("link", name="工作指标", exact=True).click()
    expect(page.locator("#dashboard-title")).to_contain_text("浙江省")
    assert _charts_drawn(page) >= 8
    # The province's total of children equals the sum of its cities' rows (Hangzhou holds the demo).
    total = page.locator("#table-regions tbody tr.fw-bold td").first.inner_text()
    hangzhou = page.locator("#table-regions tbody tr", has_text="杭州市").locator("td").first.inner_text()
    assert total == hangzhou
    assert int(total) > 0
    screenshot(page, "dashboard-province")

    _drill(page, "杭州市")
    _drill(page, "淳安县")
    # Sealed records and mentoring cases are counted at county level and above.
    expect(page.locator("[data-figure=sealed_children]")).to_be_visible()
    _drill(page, "千岛湖镇")
    expect(page.locator("[data-figure=sealed_children]")).to_have_count(0)
    expect(page.locator("#dashboard-source")).to_contain_text("<5")
    _drill(page, "富城村")
    expect(page.locator("#table-regions")).to_have_count(0)
    expect(page.locator("#dashboard-breadcrumbs li")).to_contain_text(
        ["浙江省", "杭州市", "淳安县", "千岛湖镇", "富城村"]
    )
    assert _charts_drawn(page) >= 7
    screenshot(page, "dashboard-village")

    # Back to the province by the breadcrumbs, then the annual report of last year.
    with page.expect_navigation():
        page.locator("#dashboard-breadcrumbs a", has_text="浙江省").click()
    with page.expect_navigation():
        page.click("#reports-link")
    page.select_option("#id_kind", "annual_pdf")
    # This year's report: the demo's records were all made this year, so its stocks are the page's.
    year = str(datetime.date.today().year)
    page.fill("#id_period", year)
    with page.expect_navigation():
        page.click("#report-form button[type=submit]")
    # Without a broker the report is compiled before the page comes back; with one, the list polls.
    download_link = page.locator("#report-jobs a[data-download]").first
    expect(download_link).to_be_visible(timeout=60_000)
    with page.expect_download() as caught:
        download_link.click()
    target = tmp_path / "report.pdf"
    caught.value.save_as(target)
    assert target.read_bytes()[:5] == b"%PDF-"
    screenshot(page, "dashboard-report")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    text = subprocess.run(  # noqa: S603 - a fixed program on a file this test wrote
        [pdftotext, str(target), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "浙江省" in text
    assert year in text
    assert total in text
