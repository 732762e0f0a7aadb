"""A buyer's phone opens a box's trace page from the URL printed in its QR (live server, headless Chromium)."""

import os
from pathlib import Path

import pytest
from django.db import connections

from cuntao.produce import codes
from cuntao.produce.models import ScanRecord
from tests.produce.factories import boxes_of, kiwi_cooperative

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = os.environ.get("CUNTAO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def phone(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US", is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # Inside Playwright's event loop the test's ORM calls get their own connection
        # (asgiref's context-local); close it here, or PostgreSQL cannot drop the test database.
        connections.close_all()
        browser.close()


@pytest.mark.parametrize("gs1", [False, True], ids=["short-uri", "digital-link"])
def test_a_phone_opens_the_printed_url_and_reads_the_story(live_server, settings, station, phone, gs1):
    settings.PUBLIC_BASE_URL = live_server.url
    kiwi = kiwi_cooperative(station=station, gs1=gs1, slug="browser-kiwi")
    _lot, boxes = boxes_of(kiwi, count=1)
    printed = codes.box_url(boxes[0])  # what the label's QR encodes
    assert printed.startswith(live_server.url)
    response = phone.goto(printed + "?city=Hangzhou")
    assert response.status == 200
    text = phone.locator("main").inner_text()
    for expected in (boxes[0].code, kiwi.coop.name, "王大山", "Where it grew", "2026-09-23"):
        assert expected in text, expected
    assert ScanRecord.objects.get(box=boxes[0]).city == "Hangzhou"


def test_a_phone_gets_a_friendly_page_for_a_forged_code_and_can_type_the_real_one(live_server, settings, station, phone):
    settings.PUBLIC_BASE_URL = live_server.url
    kiwi = kiwi_cooperative(station=station, slug="browser-kiwi")
    _lot, boxes = boxes_of(kiwi, count=1)
    response = phone.goto(live_server.url + "/b/FAKEFAKE00")
    assert response.status == 404 and "Code not found" in phone.locator("main").inner_text()
    phone.fill("input[name=code]", boxes[0].code.lower())
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"**/b/{boxes[0].code}")
    assert boxes[0].code in phone.locator("main").inner_text()
