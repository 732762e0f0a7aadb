"""A partner on a phone finds the rice cooker by typing `dfb` and places a cash-on-delivery order for a villager."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_partner_journey import log_in

pytestmark = pytest.mark.browser


def test_partner_finds_the_rice_cooker_by_initials_and_places_a_cash_on_delivery_order(demo_server, phone, shot):
    page = phone
    log_in(page, demo_server)
    expect(page).to_have_url(re.compile(r"/station/$"))
    page.locator("a[href$='/orders/new/']").first.click()
    expect(page).to_have_url(re.compile(r"/stations/JZ-0001/orders/new/$"))

    page.select_option("select[name=villager]", index=1)
    villager = page.locator("select[name=villager] option:checked").inner_text().strip()
    page.fill("#order-q", "dfb")
    page.press("#order-q", "Enter")  # the first submit button of the form is "find"
    cooker = page.locator("form .list li", has_text="美的电饭煲")
    expect(cooker).to_have_count(1)
    expect(page.locator("form .list li").first).to_contain_text("电饭煲")
    shot(page, "08-order-dfb-results")

    cooker.locator("input[type=number]").fill("1")
    page.check("input[name=payment_method][value=cash_on_delivery]")
    page.locator("button[name=action][value=preview]").last.click()
    expect(page.locator("table")).to_contain_text("美的电饭煲")
    expect(page.locator("dl.facts")).to_contain_text("¥199.00")
    expect(page.locator("select[name=villager] option:checked")).to_have_text(villager)
    expect(page.locator("input[name=payment_method][value=cash_on_delivery]")).to_be_checked()
    shot(page, "09-order-preview")

    page.locator("button[name=action][value=place]").click()
    expect(page).to_have_url(re.compile(r"/orders/[A-Z0-9-]+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator("dl.facts")).to_contain_text(villager)
    expect(page.locator("dl.facts")).to_contain_text("¥199.00")
    shot(page, "10-order-placed")

    page.goto(f"{demo_server}/stations/JZ-0001/orders/")
    row = page.locator("ul.orders li", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(villager)
    expect(row).to_contain_text("¥199.00")
    shot(page, "11-station-orders")
