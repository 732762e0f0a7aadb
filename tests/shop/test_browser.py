"""A city buyer on a phone: browse, register, cart, check out, pay in the sandbox, follow the order."""

import re
import threading
from pathlib import Path

import pytest

from cuntao.orders.payments import sandbox_deliver_webhooks
from cuntao.shop.models import ShopOrder
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.shop.factories import ADDRESS, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_own_thread(work):
    """Run database work beside Playwright's event loop: in a thread with its own connection, closed after.

    Playwright's sync API keeps an event loop in the test's thread, where Django refuses
    synchronous database calls (and a connection opened there would outlive the test database).
    """
    from django.db import connection

    result, errors = [], []

    def run():
        try:
            result.append(work())
        except Exception as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture
def phone():
    """Headless Chromium with a cheap phone's screen, in Chinese."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True,
                                      has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_a_city_buyer_registers_buys_two_boxes_pays_in_the_sandbox_and_sees_them_paid(shop, live_server, phone):
    """The shop's data is made before the browser starts (by the fixtures, in this order)."""
    from playwright.sync_api import expect

    page, base = phone, live_server.url
    page.goto(base + "/shop/")
    expect(page.locator("body")).to_contain_text("金寨红心 5 kg 礼盒")
    page.get_by_role("link", name=re.compile("金寨红心 5 kg 礼盒")).click()
    page.fill("input[name=quantity]", "2")
    page.click("button[type=submit].primary")  # add to cart: a visitor is sent to sign in first
    expect(page).to_have_url(re.compile(r"/shop/login/"))
    page.get_by_role("link", name=re.compile("注册|Register")).last.click()
    page.fill("input[name=name]", "陈小姐")
    page.fill("input[name=phone]", "139 0000 8888")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(rf"/shop/products/{shop.listing.pk}/$"))
    page.fill("input[name=quantity]", "2")
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/shop/cart/$"))
    expect(page.locator("body")).to_contain_text("¥256.00")
    page.get_by_role("link", name=re.compile("结算|Check out")).click()
    page.fill("textarea[name=address]", ADDRESS)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/pay/sandbox/"))
    expect(page.locator("body")).to_contain_text("256.00")
    page.click("button[name=action][value=pay]")  # the sandbox's Pay button
    expect(page.locator("[role=status]")).to_be_visible()
    order = in_own_thread(ShopOrder.objects.get)
    in_own_thread(sandbox_deliver_webhooks)  # the provider's webhook, as `cuntao worker` would deliver it
    page.get_by_role("link", name=re.compile("返回|Back")).click()  # back to the shop's order page
    expect(page).to_have_url(re.compile(re.escape(order.get_absolute_url()) + "$"))
    assert in_own_thread(lambda: ShopOrder.objects.get().status) == "paid"
    expect(page.locator("main .tag").first).to_have_text("已付款")
    expect(page.locator("body")).to_contain_text(order.number)
