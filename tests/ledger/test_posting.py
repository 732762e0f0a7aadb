"""ledger_post and the helpers the orders app calls: every posting balances, bad lines write nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cuntao.core.errors import Conflict, DomainError, NotFound
from cuntao.ledger.models import Account, AccountKind, Entry, Transaction
from cuntao.ledger.selectors import misfiled_entries, station_balances, unbalanced_transactions
from cuntao.ledger.services import (
    PostingRefused,
    account_for,
    accrue_commission,
    commission_state,
    earn_commission,
    ledger_post,
    record_cash_payment,
    record_cash_refund,
    record_credit_refund,
    record_credit_repayment,
    record_credit_sale,
    record_online_payment,
    record_online_refund,
    reverse_commission,
)
from tests.ledger.factories import order_ref


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def staff(clerk, scope_of):
    return scope_of(clerk)


def shown(scope, station) -> dict:
    return {b.kind: b.shown_fen for b in station_balances(scope=scope, station=station)}


def lines_of(txn) -> dict:
    return {e.account.kind: e.amount_fen for e in txn.entries.select_related("account")}


@pytest.mark.parametrize("helper, expected", [
    (record_cash_payment, {"cash_in_hand": 1250, "sales": -1250}),
    (record_online_payment, {"online_clearing": 1250, "sales": -1250}),
    (record_credit_sale, {"credit_receivable": 1250, "sales": -1250}),
    (accrue_commission, {"commission_expense": 1250, "commission_pending": -1250}),
])
def test_each_helper_posts_one_balanced_transaction_with_documented_lines(scope, station, helper, expected):
    txn = helper(scope=scope, station=station, amount_fen=1250, reference=order_ref())
    assert lines_of(txn) == expected
    assert sum(expected.values()) == 0
    assert txn.county_id == station.county_id
    assert txn.actor == scope.user
    assert not unbalanced_transactions().exists()


def test_refunds_repayments_and_commission_moves_balance_and_leave_right_balances(scope, station):
    ref = order_ref()
    record_credit_sale(scope=scope, station=station, amount_fen=5000, reference=ref)
    record_credit_repayment(scope=scope, station=station, amount_fen=2000, reference=ref)
    record_credit_refund(scope=scope, station=station, amount_fen=1000, reference=ref)
    paid = order_ref()
    record_cash_payment(scope=scope, station=station, amount_fen=3000, reference=paid)
    refund = record_cash_refund(scope=scope, station=station, amount_fen=500, reference=paid)
    assert lines_of(refund) == {"refunds": 500, "cash_in_hand": -500}
    online = order_ref()
    record_online_payment(scope=scope, station=station, amount_fen=800, reference=online)
    assert lines_of(record_online_refund(scope=scope, station=station, amount_fen=800, reference=online)) == {
        "refunds": 800, "online_clearing": -800}
    accrue_commission(scope=scope, station=station, amount_fen=300, reference=paid)
    earned = earn_commission(scope=scope, station=station, reference=paid)
    assert lines_of(earned) == {"commission_pending": 300, "commission_owed": -300}
    balances = shown(scope, station)
    assert balances["cash_in_hand"] == 2000 + 3000 - 500
    assert balances["credit_receivable"] == 5000 - 2000 - 1000
    assert balances["commission_pending"] == 0
    assert balances["commission_owed"] == 300
    assert not unbalanced_transactions().exists()
    assert not misfiled_entries().exists()


def test_reversed_commission_cannot_be_earned_and_earned_cannot_be_reversed(scope, station):
    returned, kept = order_ref(), order_ref()
    for ref in (returned, kept):
        accrue_commission(scope=scope, station=station, amount_fen=400, reference=ref)
    reversal = reverse_commission(scope=scope, station=station, reference=returned)
    assert lines_of(reversal) == {"commission_pending": 400, "commission_expense": -400}
    with pytest.raises(Conflict) as caught:
        earn_commission(scope=scope, station=station, reference=returned)
    assert caught.value.code == "commission_reversed"
    earn_commission(scope=scope, station=station, reference=kept)
    with pytest.raises(Conflict):
        reverse_commission(scope=scope, station=station, reference=kept)
    assert commission_state(county_id=station.county_id, reference=returned) == "reversed"
    assert commission_state(county_id=station.county_id, reference=kept) == "earned"
    assert shown(scope, station)["commission_owed"] == 400


def test_earning_commission_never_accrued_is_refused(scope, station):
    with pytest.raises(Conflict) as caught:
        earn_commission(scope=scope, station=station, reference=order_ref())
    assert caught.value.code == "no_commission"
    assert not Transaction.objects.exists()


def accounts(station):
    return (account_for(kind=AccountKind.CASH_IN_HAND, station=station),
            account_for(kind=AccountKind.SALES, station=station))


@pytest.mark.parametrize("make_lines, code", [
    (lambda cash, sales: [], "empty_posting"),
    (lambda cash, sales: [(cash, 100)], "empty_posting"),
    (lambda cash, sales: [(cash, 100), (sales, -99)], "unbalanced"),
    (lambda cash, sales: [(cash, 100), (sales, -100), (sales, 0)], "zero_line"),
    (lambda cash, sales: [(cash, 100.0), (sales, -100.0)], "not_integer_fen"),
    (lambda cash, sales: [(cash, 0.1 + 0.2), (sales, -(0.1 + 0.2))], "not_integer_fen"),
    (lambda cash, sales: [(cash, Decimal("1.00")), (sales, Decimal("-1.00"))], "not_integer_fen"),
    (lambda cash, sales: [(cash, True), (sales, -1)], "not_integer_fen"),
    (lambda cash, sales: [(cash, 10**12), (sales, -(10**12))], "amount_too_large"),
    (lambda cash, sales: [("cash", 100), (sales, -100)], "bad_line"),
])
def test_bad_lines_are_refused_and_nothing_is_written(staff, station, make_lines, code):
    cash, sales = accounts(station)
    with pytest.raises(PostingRefused) as caught:
        ledger_post(scope=staff, county=station.county, kind="adjustment", lines=make_lines(cash, sales),
                    dedupe_key="bad-1")
    assert caught.value.code == code
    assert not Transaction.objects.exists()
    assert not Entry.objects.exists()


def test_account_of_another_county_is_refused(staff, station, far_station):
    cash, _sales = accounts(station)
    foreign_sales = account_for(kind=AccountKind.SALES, station=far_station)
    with pytest.raises(PostingRefused) as caught:
        ledger_post(scope=staff, county=station.county, kind="adjustment", lines=[(cash, 100), (foreign_sales, -100)],
                    dedupe_key="x-county")
    assert caught.value.code == "cross_county"
    assert not Transaction.objects.exists()


def test_account_whose_in_memory_county_is_forged_is_still_refused(staff, station, far_station):
    cash, sales = accounts(station)
    foreign = account_for(kind=AccountKind.SALES, station=far_station)
    foreign.county_id = station.county_id  # the caller's object lies; the database does not
    with pytest.raises(PostingRefused):
        ledger_post(scope=staff, county=station.county, kind="adjustment", lines=[(cash, 100), (foreign, -100)],
                    dedupe_key="forged")
    assert not Entry.objects.exists()


def test_posting_in_a_county_outside_the_scope_is_not_found(scope, staff, far_station):
    cash, sales = accounts(far_station)
    with pytest.raises(NotFound):
        ledger_post(scope=staff, county=far_station.county, kind="adjustment", lines=[(cash, 1), (sales, -1)],
                    dedupe_key="far")
    with pytest.raises(NotFound):
        record_cash_payment(scope=scope, station=far_station, amount_fen=100, reference=order_ref())
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("amount", [0, -5, 12.5, "100", None])
def test_helper_with_bad_amount_names_the_field_and_writes_nothing(scope, station, amount):
    with pytest.raises(ValidationError) as caught:
        record_cash_payment(scope=scope, station=station, amount_fen=amount, reference=order_ref())
    assert "amount_fen" in caught.value.message_dict
    assert not Transaction.objects.exists()


def test_a_partner_cannot_post_an_adjustment(scope, station):
    cash, sales = accounts(station)
    with pytest.raises(DomainError) as caught:
        ledger_post(scope=scope, county=station.county, kind="adjustment", lines=[(cash, 100), (sales, -100)],
                    dedupe_key="partner-adjusts")
    assert caught.value.code == "forbidden"
    assert not Transaction.objects.exists()


def test_same_event_posted_twice_returns_the_first_transaction(scope, station):
    ref = order_ref()
    first = record_cash_payment(scope=scope, station=station, amount_fen=900, reference=ref)
    again = record_cash_payment(scope=scope, station=station, amount_fen=900, reference=ref)
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert Transaction.objects.count() == 1
    assert shown(scope, station)["cash_in_hand"] == 900


def test_same_dedupe_key_with_other_amount_is_a_conflict_and_writes_nothing(scope, station):
    ref = order_ref()
    record_cash_payment(scope=scope, station=station, amount_fen=900, reference=ref)
    with pytest.raises(Conflict) as caught:
        record_cash_payment(scope=scope, station=station, amount_fen=901, reference=ref)
    assert caught.value.code == "dedupe_key_reused"
    assert Entry.objects.count() == 2


def test_dedupe_key_is_per_county(scope_of, station, far_station, programme_admin):
    admin = scope_of(programme_admin)
    for where in (station, far_station):
        cash, sales = accounts(where)
        ledger_post(scope=admin, county=where.county, kind="adjustment", lines=[(cash, 5), (sales, -5)],
                    dedupe_key="same-key")
    assert Transaction.objects.count() == 2


def test_a_credit_repayment_above_what_villagers_owe_is_refused(scope, station):
    ref = order_ref()
    record_credit_sale(scope=scope, station=station, amount_fen=1000, reference=ref)
    with pytest.raises(ValidationError) as caught:
        record_credit_repayment(scope=scope, station=station, amount_fen=1001, reference=ref)
    assert "amount_fen" in caught.value.message_dict
    assert Transaction.objects.count() == 1


def test_database_refuses_a_zero_entry_and_a_station_account_without_station(station):
    cash, _sales = accounts(station)
    txn = Transaction.objects.create(county=station.county, kind="adjustment", dedupe_key="raw", created_at=cash.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(transaction=txn, county=station.county, account=cash, amount_fen=0,
                             created_at=cash.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(county=station.county, owner="station", kind=AccountKind.CASH_IN_HAND)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(county=station.county, station=station, owner="station", kind=AccountKind.SALES)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(county=station.county, station=station, owner="station", kind=AccountKind.CASH_IN_HAND)


def test_account_for_makes_one_account_per_owner_and_kind(station, other_station):
    assert account_for(kind="cash_in_hand", station=station) == account_for(kind="cash_in_hand", station=station)
    assert account_for(kind="cash_in_hand", station=station) != account_for(kind="cash_in_hand", station=other_station)
    assert account_for(kind="sales", station=station) == account_for(kind="sales", county=other_station.county)
    assert Account.objects.count() == 3


def test_webhook_posting_with_the_system_scope_has_no_actor_and_replays_once(station):
    from cuntao.ledger.services import SYSTEM_SCOPE

    ref = order_ref()
    first = record_online_payment(scope=SYSTEM_SCOPE, station=station, amount_fen=2500, reference=ref,
                                  dedupe_key="provider:pay_123")
    replayed = record_online_payment(scope=SYSTEM_SCOPE, station=station, amount_fen=2500, reference=ref,
                                     dedupe_key="provider:pay_123")
    assert first.actor is None and replayed.pk == first.pk
    assert Transaction.objects.count() == 1


def test_cash_refund_beyond_cash_in_hand_shows_what_the_county_owes_the_partner(scope, station):
    ref = order_ref()
    record_cash_payment(scope=scope, station=station, amount_fen=1000, reference=ref)
    record_cash_refund(scope=scope, station=station, amount_fen=1000, reference=ref, dedupe_key="r1")
    record_cash_refund(scope=scope, station=station, amount_fen=200, reference=order_ref())
    assert shown(scope, station)["cash_in_hand"] == -200


def test_new_events_post_the_same_lines_and_keys_as_the_helpers_in_two_statements(scope, station):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cuntao.ledger.services import cash_payment, commission_accrual, post_new_events

    by_helper, by_batch = order_ref(), order_ref()
    record_cash_payment(scope=scope, station=station, amount_fen=990, reference=by_helper)
    accrue_commission(scope=scope, station=station, amount_fen=45, reference=by_helper)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        posted = post_new_events(scope=scope, station=station, postings=[
            cash_payment(amount_fen=990, reference=by_batch), commission_accrual(amount_fen=45, reference=by_batch)])
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2  # every transaction in one, every entry in the other
    assert [lines_of(t) for t in posted] == [{"cash_in_hand": 990, "sales": -990},
                                             {"commission_expense": 45, "commission_pending": -45}]

    def keys(ref):
        return sorted(Transaction.objects.filter(reference_id=ref.id).values_list("dedupe_key", flat=True))

    assert keys(by_batch) == [k.replace(by_helper.id, by_batch.id) for k in keys(by_helper)]
    assert commission_state(county_id=station.county_id, reference=by_batch) == \
        commission_state(county_id=station.county_id, reference=by_helper)
    assert not unbalanced_transactions()


def test_new_events_refuse_a_key_already_posted_and_write_nothing(scope, station):
    from cuntao.ledger.services import cash_payment, post_new_events

    ref = order_ref()
    record_cash_payment(scope=scope, station=station, amount_fen=990, reference=ref)
    before = Entry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        post_new_events(scope=scope, station=station, postings=[cash_payment(amount_fen=990, reference=ref)])
    with pytest.raises(ValidationError), transaction.atomic():
        post_new_events(scope=scope, station=station, postings=[cash_payment(amount_fen=-5, reference=order_ref())])
    assert Entry.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_new_events_are_written_only_inside_the_callers_transaction(partner, scope_of):
    from cuntao.ledger.services import cash_payment, post_new_events

    with pytest.raises(RuntimeError):  # in autocommit, a failure between the two inserts would split a posting
        post_new_events(scope=scope_of(partner.user), station=partner.station,
                        postings=[cash_payment(amount_fen=5, reference=order_ref())])
    assert not Transaction.objects.exists()
