"""Orders placed for villagers on other marketplaces: recorded, tracked, never duplicated, no station cash."""

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict
from cuntao.ledger.models import Transaction
from cuntao.orders.models import ExternalOrder, ExternalOrderEvent
from cuntao.orders.services import (
    external_order_cancel,
    external_order_hand_over,
    external_order_parcel_arrived,
    external_order_parcel_arrived_by_tracking,
    external_order_record,
)
from tests.conftest import login
from tests.orders.factories import villager_at


@pytest.fixture
def villager(station):
    return villager_at(station, name="赵桂兰")


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


def record(scope, station, villager, number="3921 8800 1234", **kwargs):
    fields = {"platform": "pinduoduo", "platform_order_number": number, "amount_fen": 4590,
              "description": "老人手机壳", "carrier": "中通", "tracking_number": "zt 7300 1122"} | kwargs
    return external_order_record(scope=scope, station=station, villager=villager, **fields)


def test_recorded_order_is_cleaned_tracked_and_posts_no_money(scope, station, villager):
    order = record(scope, station, villager)
    assert order.platform_order_number == "392188001234" and order.tracking_number == "ZT73001122"
    assert order.status == "placed" and order.county_id == station.county_id
    assert not Transaction.objects.exists()
    order = external_order_parcel_arrived(scope=scope, external_order=order)
    order = external_order_hand_over(scope=scope, external_order=order)
    assert order.status == "handed_over" and order.closed_at is not None
    assert [e.to_status for e in ExternalOrderEvent.objects.filter(external_order=order)] == [
        "placed", "parcel_arrived", "handed_over"]
    assert not Transaction.objects.exists()


def test_the_same_platform_order_twice_at_a_station_is_a_conflict(scope, station, villager):
    record(scope, station, villager)
    with pytest.raises(Conflict) as refused:
        record(scope, station, villager, number="392188001234")
    assert refused.value.code == "duplicate_external_order" and refused.value.status == 409
    assert ExternalOrder.objects.count() == 1
    record(scope, station, villager, platform="taobao")  # another platform's number may coincide
    assert ExternalOrder.objects.count() == 2


@pytest.mark.parametrize(("field", "value"), [
    ("platform", "amazon"), ("platform_order_number", "  "), ("amount_fen", 0), ("amount_fen", -5),
    ("amount_fen", "45.90"), ("amount_fen", 10**12), ("description", ""), ("tracking_number", "X" * 41),
])
def test_bad_input_is_a_field_error_and_records_nothing(scope, station, villager, field, value):
    with pytest.raises(ValidationError) as refused:
        record(scope, station, villager, **{field: value})
    assert field in refused.value.message_dict
    assert not ExternalOrder.objects.exists()


def test_steps_out_of_order_are_refused_and_repeats_change_nothing(scope, station, villager):
    order = record(scope, station, villager)
    with pytest.raises(Conflict):
        external_order_hand_over(scope=scope, external_order=order)
    order = external_order_parcel_arrived(scope=scope, external_order=order)
    external_order_parcel_arrived(scope=scope, external_order=order)
    assert ExternalOrderEvent.objects.filter(external_order=order).count() == 2
    with pytest.raises(ValidationError):
        external_order_cancel(scope=scope, external_order=order, reason=" ")
    order = external_order_cancel(scope=scope, external_order=order, reason="村民在平台上退了")
    assert order.status == "cancelled"
    with pytest.raises(Conflict):
        external_order_hand_over(scope=scope, external_order=order)


def test_logistics_can_match_an_arriving_parcel_by_tracking_number(scope, station, villager):
    order = record(scope, station, villager)
    assert external_order_parcel_arrived_by_tracking(scope=scope, station=station, tracking_number="ZT999") is None
    matched = external_order_parcel_arrived_by_tracking(scope=scope, station=station, tracking_number="zt73001122")
    assert matched.pk == order.pk and matched.status == "parcel_arrived"
    assert "ZT73001122" in ExternalOrderEvent.objects.filter(external_order=order).last().note


def test_villager_of_another_station_is_refused(scope, station, other_station):
    with pytest.raises(ValidationError) as refused:
        record(scope, station, villager_at(other_station))
    assert "villager" in refused.value.message_dict


def test_partner_records_on_the_page_and_sees_it_on_the_station_order_list(partner_client, station, villager):
    url = f"/stations/{station.code}/external-orders/new/"
    assert partner_client.get(url).status_code == 200
    data = {"villager": villager.pk, "platform": "jd", "platform_order_number": "JD-88", "amount_fen": "129.5",
            "description": "电热毯", "carrier": "", "tracking_number": ""}
    response = partner_client.post(url, data)
    order = ExternalOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/external-orders/{order.pk}/"
    assert order.amount_fen == 12950
    listing = partner_client.get(f"/stations/{station.code}/orders/").content.decode()
    assert "JD-88" in listing and "电热毯" in listing and "¥129.50" in listing
    duplicate = partner_client.post(url, data)
    assert duplicate.status_code == 400 and "already recorded" in duplicate.content.decode()
    assert ExternalOrder.objects.count() == 1
    partner_client.post(f"/external-orders/{order.pk}/act/", {"action": "parcel_arrived"})
    page = partner_client.get(f"/external-orders/{order.pk}/").content.decode()
    assert "Parcel arrived" in page and "Hand over to the villager" in page


def test_api_creates_lists_moves_and_answers_a_duplicate_with_409(partner_client, station, villager):
    body = {"villager_id": villager.pk, "platform": "taobao", "platform_order_number": "TB123", "amount_fen": 9900,
            "description": "保温杯", "tracking_number": "SF100"}
    first = partner_client.post("/api/v1/external-orders", body, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="ext-1")
    assert first.status_code == 201, first.content
    replay = partner_client.post("/api/v1/external-orders", body, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY="ext-1")
    assert replay.status_code == 201 and replay.json() == first.json()
    duplicate = partner_client.post("/api/v1/external-orders", body, content_type="application/json",
                                    HTTP_IDEMPOTENCY_KEY="ext-2")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "duplicate_external_order"
    pk = first.json()["id"]
    listed = partner_client.get("/api/v1/external-orders", {"station": station.code}).json()
    assert [item["id"] for item in listed["items"]] == [pk]
    moved = partner_client.post(f"/api/v1/external-orders/{pk}/status", {"action": "parcel_arrived"},
                                content_type="application/json")
    assert moved.status_code == 200 and moved.json()["status"] == "parcel_arrived"
    assert [e["to_status"] for e in moved.json()["events"]] == ["placed", "parcel_arrived"]
    bad = partner_client.post(f"/api/v1/external-orders/{pk}/status", {"action": "teleported"},
                              content_type="application/json")
    assert bad.status_code == 422


def test_another_station_cannot_see_the_external_order(scope, station, villager, other_station):
    order = record(scope, station, villager)
    client = login(other_station.partners.get().user)
    assert client.get(f"/external-orders/{order.pk}/").status_code == 404
    assert client.get(f"/api/v1/external-orders/{order.pk}").status_code == 404
    assert client.post(f"/external-orders/{order.pk}/act/", {"action": "handed_over"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_partners_phones_recording_the_same_platform_order_at_once_record_it_once(partner, station, scope_of):
    from tests.orders.test_races import run_in_threads

    scope = scope_of(partner.user)
    villager = villager_at(station)

    def try_record(i):
        try:
            record(scope, station, villager, number="PDD-RACE")
            return "recorded"
        except Conflict as e:
            return e.code

    outcomes, errors = run_in_threads(4, try_record)
    assert not errors, errors
    assert sorted(outcomes) == ["duplicate_external_order"] * 3 + ["recorded"]
    assert ExternalOrder.objects.count() == 1 and ExternalOrderEvent.objects.count() == 1


def test_station_order_page_reads_a_fixed_number_of_queries_however_many_orders(partner_client, scope, station,
                                                                              django_assert_max_num_queries):
    for i in range(8):
        record(scope, station, villager_at(station, name=f"村民{i}"), number=f"N{i}")
    with django_assert_max_num_queries(10):
        assert partner_client.get(f"/stations/{station.code}/orders/").status_code == 200
