"""The daily cash sheet and statements: selector, page, PDF and API, each within the caller's scope."""

import datetime

import pytest
from django.utils import translation
from django.utils import timezone

from cuntao.ledger.models import Entry, Settlement, Transaction
from cuntao.ledger.selectors import cash_sheet, station_statement
from cuntao.ledger.services import (
    record_cash_payment,
    record_cash_refund,
    record_credit_repayment,
    record_credit_sale,
    settlement_confirm,
    settlement_submit,
)
from tests.conftest import login
from tests.ledger.factories import order_ref
from tests.ledger.pdftext import pdf_text

DAY = datetime.date(2026, 3, 2)


def at(txn: Transaction, day: datetime.date, hour: int, minute: int = 0) -> Transaction:
    """Move a posting to a fixed local time, so no test depends on today's date."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
    Transaction.objects.filter(pk=txn.pk).update(created_at=moment)
    Entry.objects.filter(transaction=txn).update(created_at=moment)
    return txn


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def day_of_business(scope, station, clerk, scope_of):
    """The day before: 100 yuan taken. The day: payment, credit repayment, refund, a confirmed hand-over."""
    before = DAY - datetime.timedelta(days=1)
    at(record_cash_payment(scope=scope, station=station, amount_fen=10000, reference=order_ref()), before, 15)
    at(record_credit_sale(scope=scope, station=station, amount_fen=3000, reference=order_ref()), before, 16)
    paid = order_ref()
    at(record_cash_payment(scope=scope, station=station, amount_fen=5000, reference=paid, memo="电饭煲"), DAY, 9)
    at(record_credit_repayment(scope=scope, station=station, amount_fen=2000, reference=order_ref()), DAY, 10)
    at(record_cash_refund(scope=scope, station=station, amount_fen=1500, reference=paid), DAY, 11)
    settlement = settlement_submit(scope=scope, station=station, amount_fen=12000)
    confirmed = settlement_confirm(scope=scope_of(clerk), settlement=settlement, counted_fen=12000)
    at(confirmed.transaction, DAY, 17)
    # The next day's first sale is not on this day's sheet.
    at(record_cash_payment(scope=scope, station=station, amount_fen=700, reference=order_ref()),
       DAY + datetime.timedelta(days=1), 0, 5)
    return station


def test_closing_cash_is_opening_plus_the_days_movements_each_with_its_reason(scope, day_of_business):
    sheet = cash_sheet(scope=scope, station=day_of_business, day=DAY)
    assert sheet.opening_fen == 10000
    assert [row.amount_fen for row in sheet.rows] == [5000, 2000, -1500, -12000]
    assert [row.entry.transaction.kind for row in sheet.rows] == ["payment", "credit_repayment", "refund", "settlement"]
    assert [row.running_fen for row in sheet.rows] == [15000, 17000, 15500, 3500]
    assert sheet.closing_fen == sheet.opening_fen + sheet.movements_fen == 3500
    assert sheet.to_hand_over_fen == 3500
    assert dict((kind, total) for kind, _label, total in sheet.totals) == {
        "payment": 5000, "credit_repayment": 2000, "refund": -1500, "settlement": -12000}
    with translation.override("en"):
        assert sheet.rows[0].entry.transaction.reference_display.startswith("order ")


def test_next_days_opening_is_this_days_closing(scope, day_of_business):
    today = cash_sheet(scope=scope, station=day_of_business, day=DAY)
    tomorrow = cash_sheet(scope=scope, station=day_of_business, day=DAY + datetime.timedelta(days=1))
    assert tomorrow.opening_fen == today.closing_fen
    assert tomorrow.closing_fen == today.closing_fen + 700


def test_day_follows_the_network_time_zone_not_utc(scope, station):
    # 23:30 in Shanghai is 15:30 UTC the same day; 07:30 Shanghai is the previous day in UTC.
    at(record_cash_payment(scope=scope, station=station, amount_fen=100, reference=order_ref()), DAY, 23, 30)
    at(record_cash_payment(scope=scope, station=station, amount_fen=200, reference=order_ref()), DAY, 7, 30)
    assert cash_sheet(scope=scope, station=station, day=DAY).movements_fen == 300


def test_waiting_hand_over_is_shown_and_not_asked_for_twice(scope, station):
    at(record_cash_payment(scope=scope, station=station, amount_fen=5000, reference=order_ref()), DAY, 9)
    settlement = settlement_submit(scope=scope, station=station, amount_fen=4000)
    Settlement.objects.filter(pk=settlement.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(12))))
    sheet = cash_sheet(scope=scope, station=station, day=DAY)
    assert sheet.open_settlement == settlement
    assert sheet.closing_fen == 5000 and sheet.to_hand_over_fen == 1000
    morning_before = cash_sheet(scope=scope, station=station, day=DAY - datetime.timedelta(days=1))
    assert morning_before.open_settlement is None


def test_statement_runs_the_balance_on_the_accounts_normal_side(scope, day_of_business):
    statement = station_statement(scope=scope, station=day_of_business, kind="credit_receivable",
                                  date_from=DAY - datetime.timedelta(days=1), date_to=DAY)
    assert statement.opening_fen == 0
    assert [(r.amount_fen, r.running_fen) for r in statement.rows] == [(3000, 3000), (-2000, 1000)]
    assert statement.closing_fen == 1000


def test_partner_page_shows_the_sheet_with_reasons(partner_client, day_of_business):
    response = partner_client.get(f"/ledger/stations/{day_of_business.code}/cash/?day={DAY}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "¥35.00" in body and "¥100.00" in body and "电饭煲" in body
    assert response.context["sheet"].closing_fen == 3500


def test_pdf_is_a4_and_contains_station_code_amounts_and_chinese(partner_client, day_of_business):
    response = partner_client.get(f"/ledger/stations/{day_of_business.code}/cash.pdf?day={DAY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in response.content  # A4 in points
    text = pdf_text(response.content)
    assert day_of_business.code in text
    assert day_of_business.name in text  # Chinese, in the CID font
    assert "¥35.00" in text and "电饭煲" in text


@pytest.mark.parametrize("path", [
    "/ledger/stations/{code}/",
    "/ledger/stations/{code}/cash/",
    "/ledger/stations/{code}/cash.pdf",
    "/ledger/stations/{code}/statement/",
    "/api/v1/ledger/stations/{code}/balances",
    "/api/v1/ledger/stations/{code}/statement",
    "/api/v1/ledger/stations/{code}/cash-sheet",
])
def test_partner_cannot_see_another_stations_money(partner_client, other_station, far_station, path):
    for code in (other_station.code, far_station.code, "NO-SUCH"):
        assert partner_client.get(path.format(code=code)).status_code == 404


@pytest.mark.parametrize("path", ["/ledger/stations/{code}/cash/", "/ledger/stations/{code}/cash.pdf",
                                  "/api/v1/ledger/stations/{code}/cash-sheet"])
def test_county_staff_see_their_countys_stations_only(clerk_client, station, other_station, far_station, path):
    assert clerk_client.get(path.format(code=station.code)).status_code == 200
    assert clerk_client.get(path.format(code=other_station.code)).status_code == 200
    assert clerk_client.get(path.format(code=far_station.code)).status_code == 404


def test_county_money_page_is_for_staff_of_that_county(clerk_client, partner_client, station, far_station):
    assert clerk_client.get(f"/ledger/county/{station.county_id}/").status_code == 200
    assert clerk_client.get(f"/ledger/county/{far_station.county_id}/").status_code == 404
    assert partner_client.get(f"/ledger/county/{station.county_id}/").status_code == 404


def test_api_cash_sheet_and_statement_agree_with_the_selector(partner_client, day_of_business):
    sheet = partner_client.get(f"/api/v1/ledger/stations/{day_of_business.code}/cash-sheet?day={DAY}").json()
    assert (sheet["opening_fen"], sheet["closing_fen"], sheet["to_hand_over_fen"]) == (10000, 3500, 3500)
    assert [m["kind"] for m in sheet["movements"]] == ["payment", "credit_repayment", "refund", "settlement"]
    statement = partner_client.get(f"/api/v1/ledger/stations/{day_of_business.code}/statement",
                                   {"account": "cash_in_hand", "date_from": "2026-03-01", "date_to": "2026-03-02"}).json()
    assert statement["closing_fen"] == 3500 and len(statement["entries"]) == 5
    balances = partner_client.get(f"/api/v1/ledger/stations/{day_of_business.code}/balances").json()
    assert {a["kind"]: a["shown_fen"] for a in balances["accounts"]}["cash_in_hand"] == 3500 + 700


def test_api_statement_refuses_a_county_account_kind(partner_client, station):
    response = partner_client.get(f"/api/v1/ledger/stations/{station.code}/statement?account=sales")
    assert response.status_code == 422
    assert "account" in response.json()["error"]["fields"]


def test_station_home_shows_the_money_panel(partner_client, scope, station):
    record_cash_payment(scope=scope, station=station, amount_fen=4321, reference=order_ref())
    body = partner_client.get("/station/").content.decode()
    assert "¥43.21" in body and f"/ledger/stations/{station.code}/cash/" in body


def test_other_partner_cannot_open_a_hand_over(scope, station, other_station):
    from cuntao.network.models import Partner

    at(record_cash_payment(scope=scope, station=station, amount_fen=500, reference=order_ref()), DAY, 9)
    settlement = settlement_submit(scope=scope, station=station, amount_fen=500)
    neighbour = login(Partner.objects.get(station=other_station).user)
    assert neighbour.get(f"/ledger/settlements/{settlement.pk}/").status_code == 404
    assert neighbour.get(f"/api/v1/ledger/settlements/{settlement.pk}").status_code == 404
    assert neighbour.post(f"/ledger/settlements/{settlement.pk}/withdraw/").status_code == 404


def test_cash_sheet_queries_do_not_grow_with_movements(partner_client, scope, station, django_assert_max_num_queries):
    for _ in range(25):
        at(record_cash_payment(scope=scope, station=station, amount_fen=100, reference=order_ref()), DAY, 12)
    path = f"/api/v1/ledger/stations/{station.code}/cash-sheet?day={DAY}"
    with django_assert_max_num_queries(12):
        assert len(partner_client.get(path).json()["movements"]) == 25
    with django_assert_max_num_queries(12):
        assert partner_client.get(f"/ledger/stations/{station.code}/cash/?day={DAY}").status_code == 200
