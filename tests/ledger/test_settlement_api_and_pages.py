"""Hand-overs through the API (with Idempotency-Key) and the pages, for partner and county staff."""

import pytest

from cuntao.ledger.models import Settlement, Transaction
from cuntao.ledger.services import accrue_commission, earn_commission, record_cash_payment
from tests.ledger.factories import order_ref


@pytest.fixture
def cash(partner, station, scope_of):
    record_cash_payment(scope=scope_of(partner.user), station=station, amount_fen=10000, reference=order_ref())


def post(client, path, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body, content_type="application/json", **extra)


def test_partner_declares_by_api_and_a_retry_with_the_key_creates_one(partner_client, cash):
    first = post(partner_client, "/api/v1/ledger/settlements", {"amount_fen": 6000, "note": "周五"}, key="s-1")
    again = post(partner_client, "/api/v1/ledger/settlements", {"amount_fen": 6000, "note": "周五"}, key="s-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["status"] == "submitted" and first.json()["events"][0]["to_status"] == "submitted"
    assert Settlement.objects.count() == 1


@pytest.mark.parametrize("body, field", [
    ({"amount_fen": 60.5}, "amount_fen"),
    ({"amount_fen": "6000"}, "amount_fen"),
    ({"amount_fen": 0}, "amount_fen"),
    ({"amount_fen": 10001}, "amount_fen"),
    ({}, "amount_fen"),
])
def test_bad_declared_amount_is_a_422_naming_the_field(partner_client, cash, body, field):
    response = post(partner_client, "/api/v1/ledger/settlements", body, key="bad")
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not Settlement.objects.exists()


def test_county_staff_confirm_by_api_and_a_partner_cannot(partner_client, clerk_client, cash):
    settlement_id = post(partner_client, "/api/v1/ledger/settlements", {"amount_fen": 6000}).json()["id"]
    refused = post(partner_client, f"/api/v1/ledger/settlements/{settlement_id}/confirm", {"counted_fen": 6000})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    short = post(clerk_client, f"/api/v1/ledger/settlements/{settlement_id}/confirm", {"counted_fen": 5900})
    assert short.status_code == 422 and "note" in short.json()["error"]["fields"]
    done = post(clerk_client, f"/api/v1/ledger/settlements/{settlement_id}/confirm",
                {"counted_fen": 5900, "note": "少一张"})
    assert done.status_code == 200
    assert done.json()["difference_fen"] == 100 and done.json()["transaction_id"]
    twice = post(clerk_client, f"/api/v1/ledger/settlements/{settlement_id}/confirm", {"counted_fen": 5900, "note": "x"})
    assert twice.status_code == 409
    listed = clerk_client.get("/api/v1/ledger/settlements?status=confirmed").json()
    assert [s["id"] for s in listed["items"]] == [settlement_id]


def test_far_county_staff_do_not_see_the_settlement(partner_client, cash, far_station):
    from django.contrib.auth import get_user_model

    from tests.conftest import login

    settlement_id = post(partner_client, "/api/v1/ledger/settlements", {"amount_fen": 100}).json()["id"]
    far = login(get_user_model().objects.get(username="far-clerk"))
    assert far.get(f"/api/v1/ledger/settlements/{settlement_id}").status_code == 404
    assert post(far, f"/api/v1/ledger/settlements/{settlement_id}/confirm", {"counted_fen": 100}).status_code == 404
    assert far.get("/api/v1/ledger/settlements").json()["count"] == 0


def test_payout_by_api_is_idempotent_and_bounded(partner, clerk_client, station, scope_of):
    scope = scope_of(partner.user)
    ref = order_ref()
    accrue_commission(scope=scope, station=station, amount_fen=800, reference=ref)
    earn_commission(scope=scope, station=station, reference=ref)
    path = f"/api/v1/ledger/stations/{station.code}/commission-payouts"
    assert post(clerk_client, path, {"amount_fen": 900}, key="p-0").status_code == 422
    first = post(clerk_client, path, {"amount_fen": 800}, key="p-1")
    again = post(clerk_client, path, {"amount_fen": 800}, key="p-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Transaction.objects.filter(kind="commission_payout").count() == 1


def test_partner_hands_over_on_the_page_and_clerk_confirms_on_the_page(partner_client, clerk_client, station, cash):
    page = f"/ledger/stations/{station.code}/"
    too_much = partner_client.post(page, {"amount_fen": "100.01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert too_much.status_code == 200 and "amount_fen" in too_much.context["form"].errors
    assert partner_client.post(page, {"amount_fen": "60.50", "note": ""}).status_code == 302
    settlement = Settlement.objects.get()
    assert settlement.declared_fen == 6050
    detail = f"/ledger/settlements/{settlement.pk}/"
    assert partner_client.post(detail, {"counted_fen": "60.50"}).status_code == 404
    differs = clerk_client.post(detail, {"counted_fen": "60.00"})
    assert differs.status_code == 200 and "note" in differs.context["form"].errors
    assert clerk_client.post(detail, {"counted_fen": "60.50"}).status_code == 302
    settlement.refresh_from_db()
    assert settlement.status == "confirmed" and settlement.counted_fen == 6050
    county_page = clerk_client.get(f"/ledger/county/{station.county_id}/").content.decode()
    assert "¥39.50" in county_page  # what the station still holds


def test_clerk_pays_commission_on_the_page_once_per_form(partner, clerk_client, station, scope_of):
    scope = scope_of(partner.user)
    ref = order_ref()
    accrue_commission(scope=scope, station=station, amount_fen=500, reference=ref)
    earn_commission(scope=scope, station=station, reference=ref)
    form = clerk_client.get(f"/ledger/stations/{station.code}/payout/").context["form"]
    token = form.initial["token"]
    for _ in range(2):  # a double tap sends the same form twice
        clerk_client.post(f"/ledger/stations/{station.code}/payout/", {"amount_fen": "5.00", "token": token})
    assert Transaction.objects.filter(kind="commission_payout").count() == 1
