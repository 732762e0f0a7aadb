"""Login, logout, password change, and throttling of guessed passwords."""

import pytest
from django.test import Client

from tests.factories import PASSWORD


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip,
                       HTTP_ACCEPT_LANGUAGE="en")


def test_login_redirects_each_role_home(partner, clerk):
    for username, target in (("xiaoer", "/station/"), ("clerk", "/county/")):
        client = Client()
        assert attempt(client, username, PASSWORD).status_code == 302
        assert client.get("/").url == target


def test_wrong_password_says_so_and_logs_nobody_in(partner):
    client = Client()
    response = attempt(client, "xiaoer", "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/station/").status_code == 302  # back to login


def test_guessing_one_account_locks_it_even_from_new_addresses(partner):
    for i in range(5):
        attempt(Client(), "xiaoer", f"guess{i}", ip=f"10.0.1.{i}")
    response = attempt(Client(), "xiaoer", PASSWORD, ip="10.0.2.99")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_guessing_from_one_address_locks_that_address_for_every_account(partner, clerk):
    for i in range(5):
        attempt(Client(), f"someone{i}", "x", ip="10.9.9.9")
    assert attempt(Client(), "clerk", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(Client(), "clerk", PASSWORD, ip="10.9.9.8").status_code == 302


def test_password_change_needs_the_old_password(partner_client):
    response = partner_client.post("/accounts/password/", {
        "old_password": "not-it", "new_password1": "a-new-long-pass-2026", "new_password2": "a-new-long-pass-2026"})
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    response = partner_client.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": "a-new-long-pass-2026", "new_password2": "a-new-long-pass-2026"})
    assert response.status_code == 302


def test_logout_ends_the_session(partner_client):
    assert partner_client.post("/accounts/logout/").status_code == 302
    assert partner_client.get("/station/").status_code == 302


@pytest.mark.parametrize("language, word", [("en", "Log in"), ("zh-hans", "登录")])
def test_language_switcher_changes_the_page_language(db, language, word):
    client = Client()
    client.post("/i18n/setlang/", {"language": language, "next": "/accounts/login/"})
    assert word in client.get("/accounts/login/").content.decode()


def test_password_change_page_is_the_projects_own(partner_client):
    response = partner_client.get("/accounts/password/")
    assert "registration/password_change_form.html" in [t.name for t in response.templates]
    assert "cuntao" in response.content.decode() and "Django" not in response.content.decode()


def test_lockout_page_says_how_many_minutes_to_wait(partner):
    for i in range(5):
        attempt(Client(), "xiaoer", f"guess{i}", ip="10.3.3.3")
    response = attempt(Client(), "xiaoer", PASSWORD, ip="10.3.3.3")
    assert response.status_code == 429
    assert "Wait 15 minutes" in response.content.decode()
