"""Credit (赊账) pages and API: limit, what is owed, history, repayments into the station's cash."""

import pytest

from cuntao.ledger.models import AccountKind
from cuntao.ledger.services import account_balance_fen, account_for
from cuntao.orders.models import CreditAccount
from cuntao.orders.services import order_cancel
from tests.orders.factories import give_credit, place, rice_cooker, villager_at


@pytest.fixture
def villager(station):
    return villager_at(station, name="张大山")


@pytest.fixture
def cooker(db):
    return rice_cooker()


@pytest.fixture
def owing(partner, station, villager, cooker, scope_of):
    """张大山 has a ¥500 limit and bought the ¥199 rice cooker on credit."""
    scope = scope_of(partner.user)
    give_credit(scope, villager, 50000)
    return place(scope, station, villager, cooker, payment_method="credit")


def cash_in_hand(station) -> int:
    return account_balance_fen(account_for(kind=AccountKind.CASH_IN_HAND, station=station))


def test_credit_page_shows_limit_debt_and_the_credit_order(partner_client, villager, owing):
    text = partner_client.get(f"/villagers/{villager.pk}/credit/").content.decode()
    assert "¥199.00" in text and "¥500.00" in text and "¥301.00" in text
    assert owing.number in text and "Record a repayment" in text


def test_repayment_on_the_page_takes_cash_into_the_ledger_and_shows_in_history(partner_client, station, villager,
                                                                               owing):
    response = partner_client.post(f"/villagers/{villager.pk}/credit/repay/", {"amount_fen": "50", "token": "t-1"})
    assert response.status_code == 302
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 14900
    assert cash_in_hand(station) == 5000
    again = partner_client.post(f"/villagers/{villager.pk}/credit/repay/", {"amount_fen": "50", "token": "t-1"})
    assert again.status_code == 302  # the same form sent twice takes the cash once
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 14900
    text = partner_client.get(f"/villagers/{villager.pk}/credit/").content.decode()
    assert "Paid back in cash" in text and "¥50.00" in text and "xiaoer" in text


def test_repayment_above_the_debt_is_refused_on_the_page_and_nothing_changes(partner_client, station, villager, owing):
    response = partner_client.post(f"/villagers/{villager.pk}/credit/repay/", {"amount_fen": "200", "token": "t-2"})
    assert response.status_code == 400 and "owes ¥199.00" in response.content.decode()
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 19900
    assert cash_in_hand(station) == 0


def test_limit_form_sets_the_limit_and_refuses_above_the_county_maximum(partner_client, villager):
    assert partner_client.post(f"/villagers/{villager.pk}/credit/limit/", {"limit_fen": "300"}).status_code == 302
    assert CreditAccount.objects.get(villager=villager).limit_fen == 30000
    refused = partner_client.post(f"/villagers/{villager.pk}/credit/limit/", {"limit_fen": "999999"})
    assert refused.status_code == 400 and "at most" in refused.content.decode()
    assert CreditAccount.objects.get(villager=villager).limit_fen == 30000
    typo = partner_client.post(f"/villagers/{villager.pk}/credit/limit/", {"limit_fen": "abc"})
    assert typo.status_code == 400


def test_station_list_shows_who_owes_largest_first_and_not_who_paid_off(partner, partner_client, station, villager,
                                                                      owing, cooker, scope_of):
    scope = scope_of(partner.user)
    other = villager_at(station, name="李小红")
    give_credit(scope, other, 100000)
    place(scope, station, other, cooker, quantity=2, payment_method="credit")
    paid_off = villager_at(station, name="王老五")
    give_credit(scope, paid_off, 100000)
    order_cancel(scope=scope, order=place(scope, station, paid_off, cooker, payment_method="credit"), reason="不要了")
    page = partner_client.get(f"/stations/{station.code}/credit/").content.decode()
    text = page[:page.index("Credit for another villager")]  # the picker below lists everyone
    assert text.index("李小红") < text.index("张大山") and "王老五" not in text
    assert "¥597.00" in text  # 398 + 199 owed in all


def test_another_station_cannot_see_or_change_the_credit(other_station, villager, owing):
    from tests.conftest import login

    partner_next_door = other_station.partners.get().user
    client = login(partner_next_door)
    assert client.get(f"/villagers/{villager.pk}/credit/").status_code == 404
    assert client.post(f"/villagers/{villager.pk}/credit/repay/", {"amount_fen": "10", "token": "x"}).status_code == 404
    assert client.get(f"/api/v1/villagers/{villager.pk}/credit").status_code == 404


def test_api_reads_sets_and_repays_with_an_idempotency_key(partner_client, station, villager, owing):
    data = partner_client.get(f"/api/v1/villagers/{villager.pk}/credit").json()
    assert data["outstanding_fen"] == 19900 and data["limit_fen"] == 50000 and data["available_fen"] == 30100
    assert data["history"][0]["kind"] == "order" and data["history"][0]["order_number"] == owing.number

    limit = partner_client.put(f"/api/v1/villagers/{villager.pk}/credit/limit", {"limit_fen": 20000},
                               content_type="application/json")
    assert limit.status_code == 200 and limit.json()["limit_fen"] == 20000

    url = f"/api/v1/villagers/{villager.pk}/credit/repayments"
    first = partner_client.post(url, {"amount_fen": 9900}, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="repay-1")
    second = partner_client.post(url, {"amount_fen": 9900}, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY="repay-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and first.json()["outstanding_fen"] == 10000
    assert cash_in_hand(station) == 9900


def test_api_refuses_a_repayment_above_the_debt_with_a_field_error(partner_client, villager, owing):
    response = partner_client.post(f"/api/v1/villagers/{villager.pk}/credit/repayments", {"amount_fen": 20000},
                                   content_type="application/json", HTTP_IDEMPOTENCY_KEY="repay-2")
    assert response.status_code == 422 and "amount_fen" in response.json()["error"]["fields"]
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 19900


@pytest.mark.django_db(transaction=True)
def test_two_repayments_of_the_whole_debt_at_once_take_the_cash_once(partner, station, scope_of):
    from django.core.exceptions import ValidationError

    from cuntao.orders.services import credit_repay
    from tests.orders.test_races import run_in_threads

    scope = scope_of(partner.user)
    villager = villager_at(station)
    give_credit(scope, villager, 50000)
    place(scope, station, villager, rice_cooker(), payment_method="credit")

    def repay(i):
        try:
            credit_repay(scope=scope, villager=villager, amount_fen=19900, dedupe_key=f"race-{i}")
            return "repaid"
        except ValidationError:
            return "refused"

    outcomes, errors = run_in_threads(2, repay)
    assert not errors, errors
    assert sorted(outcomes) == ["refused", "repaid"]
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 0
    assert cash_in_hand(station) == 19900


def test_partner_opens_credit_for_a_villager_who_owes_nothing_yet_from_the_station_list(partner_client, station,
                                                                                      villager):
    listing = partner_client.get(f"/stations/{station.code}/credit/")
    assert f'<option value="{villager.pk}">张大山</option>' in listing.content.decode()
    picked = partner_client.get(f"/stations/{station.code}/credit/", {"villager": villager.pk})
    assert picked.status_code == 302 and picked["Location"] == f"/villagers/{villager.pk}/credit/"
    page = partner_client.get(picked["Location"]).content.decode()
    assert 'name="limit_fen" value="0.00"' in page and "Nothing bought on credit yet." in page
