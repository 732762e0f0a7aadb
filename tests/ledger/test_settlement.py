"""Settlement: the partner declares the cash handed over, the county counts and confirms it."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cuntao.core.errors import Conflict, DomainError
from cuntao.ledger.models import Settlement, SettlementEvent, SettlementStatus, Transaction
from cuntao.ledger.selectors import county_balances, station_balances, unbalanced_transactions
from cuntao.ledger.services import (
    accrue_commission,
    commission_payout,
    earn_commission,
    record_cash_payment,
    settlement_cancel,
    settlement_confirm,
    settlement_submit,
)
from tests.ledger.factories import order_ref


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def staff(clerk, scope_of):
    return scope_of(clerk)


@pytest.fixture
def cash_1000(scope, station):
    record_cash_payment(scope=scope, station=station, amount_fen=1000, reference=order_ref())


def shown(scope, station) -> dict:
    return {b.kind: b.shown_fen for b in station_balances(scope=scope, station=station)}


def test_submit_then_confirm_moves_cash_from_station_to_county_with_events(scope, staff, station, cash_1000, clerk):
    settlement = settlement_submit(scope=scope, station=station, amount_fen=800, note="周一")
    assert shown(scope, station)["cash_in_hand"] == 1000  # nothing moves before the count
    confirmed = settlement_confirm(scope=staff, settlement=settlement, counted_fen=800)
    assert confirmed.status == SettlementStatus.CONFIRMED and confirmed.difference_fen == 0
    assert shown(scope, station)["cash_in_hand"] == 200
    county = {b.kind: b.shown_fen for b in county_balances(scope=staff, county_id=station.county_id)}
    assert county["cash_received"] == 800
    events = list(SettlementEvent.objects.filter(settlement=settlement).values_list("from_status", "to_status", "actor"))
    assert events == [("", "submitted", scope.user.pk), ("submitted", "confirmed", clerk.pk)]
    assert {e.account.kind: e.amount_fen for e in confirmed.transaction.entries.select_related("account")} == {
        "cash_in_hand": -800, "cash_received": 800}


def test_shortfall_is_recorded_on_its_own_account_and_needs_a_note(scope, staff, station, cash_1000):
    settlement = settlement_submit(scope=scope, station=station, amount_fen=1000)
    with pytest.raises(ValidationError) as caught:
        settlement_confirm(scope=staff, settlement=settlement, counted_fen=950)
    assert "note" in caught.value.message_dict
    assert not Transaction.objects.filter(kind="settlement").exists()
    confirmed = settlement_confirm(scope=staff, settlement=settlement, counted_fen=950, note="少了一张50元")
    assert confirmed.difference_fen == 50
    balances = shown(scope, station)
    assert balances["cash_in_hand"] == 0
    assert balances["cash_short"] == 50
    assert not unbalanced_transactions().exists()


def test_surplus_shows_as_negative_difference(scope, staff, station, cash_1000):
    settlement = settlement_submit(scope=scope, station=station, amount_fen=500)
    settlement_confirm(scope=staff, settlement=settlement, counted_fen=520, note="多20")
    assert shown(scope, station)["cash_short"] == -20
    assert shown(scope, station)["cash_in_hand"] == 500


def test_handing_over_more_than_cash_in_hand_is_refused_with_the_amounts(scope, station, cash_1000):
    with pytest.raises(ValidationError) as caught:
        settlement_submit(scope=scope, station=station, amount_fen=1001)
    message = caught.value.message_dict["amount_fen"][0]
    assert "10.00" in message and "10.01" in message
    assert not Settlement.objects.exists()


@pytest.mark.parametrize("amount", [0, -1, 5.0, "500"])
def test_bad_hand_over_amount_is_refused(scope, station, cash_1000, amount):
    with pytest.raises(ValidationError):
        settlement_submit(scope=scope, station=station, amount_fen=amount)
    assert not Settlement.objects.exists()


def test_one_hand_over_waits_at_a_time(scope, station, cash_1000):
    settlement_submit(scope=scope, station=station, amount_fen=100)
    with pytest.raises(Conflict):
        settlement_submit(scope=scope, station=station, amount_fen=100)
    assert Settlement.objects.count() == 1


def test_partner_cannot_confirm_and_confirmed_cannot_be_confirmed_again(scope, staff, station, cash_1000):
    settlement = settlement_submit(scope=scope, station=station, amount_fen=100)
    with pytest.raises(DomainError) as caught:
        settlement_confirm(scope=scope, settlement=settlement, counted_fen=100)
    assert caught.value.code == "forbidden"
    settlement_confirm(scope=staff, settlement=settlement, counted_fen=100)
    with pytest.raises(Conflict):
        settlement_confirm(scope=staff, settlement=settlement, counted_fen=100)
    with pytest.raises(Conflict):
        settlement_cancel(scope=scope, settlement=settlement)
    assert Transaction.objects.filter(kind="settlement").count() == 1


def test_staff_of_another_county_cannot_confirm(scope, station, cash_1000, far_station, scope_of):
    from django.contrib.auth import get_user_model

    settlement = settlement_submit(scope=scope, station=station, amount_fen=100)
    far_clerk = scope_of(get_user_model().objects.get(username="far-clerk"))
    with pytest.raises(DomainError):
        settlement_confirm(scope=far_clerk, settlement=settlement, counted_fen=100)
    assert Settlement.objects.get().status == "submitted"


def test_withdrawn_hand_over_moves_nothing_and_frees_the_station(scope, station, cash_1000):
    settlement = settlement_submit(scope=scope, station=station, amount_fen=100)
    settlement_cancel(scope=scope, settlement=settlement, note="数错了")
    assert Settlement.objects.get().status == "cancelled"
    assert shown(scope, station)["cash_in_hand"] == 1000
    settlement_submit(scope=scope, station=station, amount_fen=200)


def test_commission_payout_pays_at_most_what_is_owed_once_per_key(scope, staff, station):
    ref = order_ref()
    accrue_commission(scope=scope, station=station, amount_fen=600, reference=ref)
    with pytest.raises(ValidationError):
        commission_payout(scope=staff, station=station, amount_fen=600, dedupe_key="p1")  # still pending
    earn_commission(scope=scope, station=station, reference=ref)
    with pytest.raises(DomainError):
        commission_payout(scope=scope, station=station, amount_fen=100, dedupe_key="p0")  # partners don't pay themselves
    first = commission_payout(scope=staff, station=station, amount_fen=600, dedupe_key="p1")
    again = commission_payout(scope=staff, station=station, amount_fen=600, dedupe_key="p1")
    assert again.pk == first.pk
    assert shown(scope, station)["commission_owed"] == 0
    with pytest.raises(ValidationError):
        commission_payout(scope=staff, station=station, amount_fen=1, dedupe_key="p2")


@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_post_exactly_once(partner, clerk, station, scope_of):
    """Two threads, two connections, one settlement: one posting, the other a Conflict."""
    scope = scope_of(partner.user)
    record_cash_payment(scope=scope, station=station, amount_fen=1000, reference=order_ref())
    settlement = settlement_submit(scope=scope, station=station, amount_fen=1000)
    staff = scope_of(clerk)
    barrier = threading.Barrier(2, timeout=30)
    outcomes, errors = [], []

    def confirm():
        try:
            barrier.wait()
            settlement_confirm(scope=staff, settlement=Settlement.objects.get(pk=settlement.pk), counted_fen=1000)
            outcomes.append("posted")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(outcomes) == ["conflict", "posted"]
    assert Transaction.objects.filter(kind="settlement").count() == 1
    assert SettlementEvent.objects.filter(to_status="confirmed").count() == 1
    assert {b.kind: b.shown_fen for b in station_balances(scope=scope, station=station)}["cash_in_hand"] == 0
