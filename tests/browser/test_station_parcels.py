"""A partner at JZ-0001 scans the truck's parcels in like a barcode scanner, then hands one over with its code.

The demo's parcels on their way to JZ-0001 (cuntao.logistics.demo) are listed on the
receipt page; the villager's pickup code is read where a county clerk would see it, in
the county's notice log: still waiting in the outbox, or already sent by the demo's
notice worker (its gateway only records what it sends).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_partner_journey import log_in

pytestmark = pytest.mark.browser


def scan(page, code: str) -> None:
    """Type the code into the focused input and press Enter, as a USB barcode scanner does."""
    page.locator("input[name=code]").click()
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def newest_pickup_code(browser, base: str) -> str:
    """The code in the county's newest pickup notice, as the jinzhai clerk sees it."""
    context = browser.new_context(locale="en")
    page = context.new_page()
    try:
        log_in(page, base, username="jinzhai")
        page.goto(base + "/county/")
        notices = page.locator("a[href*='/notices/county/']").first.get_attribute("href")
        # The newest notice is the first waiting one, or, once the worker sent it, the first sent one.
        for status in ("pending", "sent"):
            page.goto(base + notices + f"?status={status}&kind=pickup_code")
            rows = page.locator("tbody tr td[lang]")
            if rows.count():
                return re.search(r"\b(\d{6})\b", rows.first.inner_text()).group(1)
    finally:
        context.close()
    raise AssertionError("no pickup notice in the county's notice log")


def test_partner_scans_parcels_in_and_hands_one_over_with_its_code(demo_server, phone, browser, shot):
    page = phone
    log_in(page, demo_server)
    page.goto(demo_server + "/logistics/stations/JZ-0001/receipt/")
    expected = page.locator("#expected li[data-code]")
    expect(expected.first).to_be_visible()
    before = expected.count()
    assert before >= 2, "the demo sends parcels on the truck to JZ-0001"
    code = expected.first.get_attribute("data-code")

    scan(page, code)
    expect(page.locator("[data-outcome]")).to_have_text("RECEIVED")
    expect(page.locator("#expected li[data-code]")).to_have_count(before - 1)
    expect(page.locator("input[name=code]")).to_have_value("")
    shot(page, "21-station-scan-received")

    scan(page, code)  # the scanner fires twice: nothing changes
    expect(page.locator("[data-outcome]")).to_have_text("DUPLICATE")
    expect(page.locator("#expected li[data-code]")).to_have_count(before - 1)

    scan(page, "CT00000000")
    expect(page.locator("[data-outcome]")).to_have_text("UNKNOWN")
    shot(page, "22-station-scan-unknown")

    pickup = newest_pickup_code(browser, demo_server)
    page.goto(demo_server + "/logistics/stations/JZ-0001/shelf/")
    page.locator(f"tr[data-code='{code}'] a.button.primary").click()
    expect(page.locator("h1")).to_contain_text(code)
    wrong = "000000" if pickup != "000000" else "111111"
    page.fill("input[name=code]", wrong)
    page.locator("input[name=code]").press("Enter")
    expect(page.locator(".field.invalid .error")).to_be_visible()
    shot(page, "23-handover-wrong-code")

    page.fill("input[name=code]", pickup)
    page.locator("input[name=code]").press("Enter")
    expect(page).to_have_url(re.compile(r"/logistics/stations/JZ-0001/shelf/$"))
    expect(page.locator(".messages")).to_contain_text(code)
    expect(page.locator(f"tr[data-code='{code}']")).to_have_count(0)
    shot(page, "24-handed-over")
