"""A partner on a phone: log in, register a villager, find them by pinyin, switch language."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, base, username="xiaoer", password="cuntao-demo"):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")


def test_partner_registers_and_finds_a_villager_then_switches_to_english(demo_server, phone, shot):
    page = phone
    page.goto(demo_server + "/accounts/login/")
    expect(page.locator("h1")).to_have_text("登录")
    shot(page, "01-login-zh")

    log_in(page, demo_server)
    expect(page).to_have_url(re.compile(r"/station/$"))
    expect(page.locator("h1")).to_contain_text("服务站")
    shot(page, "02-station-home")

    page.get_by_role("link", name="登记村民").first.click()
    page.fill("input[name=name]", "欧阳秀梅")
    page.check("input[name=gender][value=female]")
    page.fill("input[name=birth_year]", "1956")
    page.fill("input[name=phone]", "1381234")  # a digit short of a number
    page.fill("input[name=new_household_name]", "欧阳家")
    page.check("input[name=consent]")
    page.click("button[type=submit].primary")
    expect(page.locator(".field.invalid .error")).to_have_count(1)
    expect(page.locator(".field.invalid")).to_contain_text("1381234")
    shot(page, "03-register-error")

    page.fill("input[name=phone]", "13812345678")
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("欧阳秀梅")
    expect(page.locator("body")).to_contain_text("+8613812345678")
    shot(page, "04-villager-registered")

    page.get_by_role("link", name=re.compile("村民")).first.click()
    page.fill("#villager-q", "oyxm")  # the live search answers as the partner types
    expect(page.locator("#results .list li").first).to_contain_text("欧阳秀梅")
    expect(page.locator("#results .list li")).to_have_count(1)
    shot(page, "05-found-by-initials")

    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("Villagers")
    expect(page.locator("#villager-q")).to_have_value("oyxm")
    shot(page, "06-english")


def test_wrong_password_is_refused_in_the_users_language(demo_server, phone):
    log_in(phone, demo_server, password="not-the-password")
    expect(phone.locator(".errors")).to_be_visible()
    expect(phone).to_have_url(re.compile(r"/accounts/login/"))


def test_public_page_tells_a_fake_station_from_an_official_one(demo_server, phone, shot):
    phone.goto(demo_server + "/verify/?code=JZ-0001")
    expect(phone.locator(".verdict.ok")).to_be_visible()
    phone.goto(demo_server + "/verify/?code=JZ-9999")
    expect(phone.locator(".verdict.bad")).to_be_visible()
    shot(phone, "07-verify-fake")
