"""Registering parcels, the scoped list and detail, and the API's answers."""

from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, Forbidden, NotFound
from cuntao.logistics.models import Parcel, ParcelEvent, ParcelStatus, PickupAttempt
from cuntao.logistics.selectors import parcel_get_for_actor, parcel_list
from cuntao.logistics.services import (
    handover_with_code,
    parcel_register,
    parcel_set_addressee,
    parcels_dispatch,
    station_receive_scan,
    warehouse_scan,
)
from tests.conftest import login
from tests.factories import VillagerFactory
from tests.logistics.factories import PICKUP_CODE, ParcelFactory

pytestmark = pytest.mark.django_db


def register(scope, station, **kwargs):
    data = {"source": "carrier", "carrier": "YTO", "carrier_tracking_no": "YT0001", "fee_fen": 40} | kwargs
    return parcel_register(scope=scope, station=station, **data)


def test_register_makes_an_announced_parcel_with_a_short_code_and_an_event(clerk, station, scope_of):
    villager = VillagerFactory(station=station)
    parcel = register(scope_of(clerk), station, villager=villager, weight_g=900)
    assert parcel.status == ParcelStatus.ANNOUNCED and parcel.county == station.county
    assert parcel.code.startswith("CT") and len(parcel.code) == 10 and parcel.code.isalnum()
    assert len(parcel.tracking_token) >= 20
    assert parcel.addressee_name == villager.name
    event = parcel.events.get()
    assert (event.kind, event.to_status, event.actor) == ("registered", "announced", clerk)


def test_unknown_addressee_is_allowed_and_flagged(clerk, station, scope_of):
    parcel = register(scope_of(clerk), station, addressee_name="陌生人")
    assert parcel.villager is None and parcel.events.get().note == "addressee unknown"


def test_same_carrier_tracking_number_twice_is_a_conflict(clerk, station, scope_of):
    register(scope_of(clerk), station)
    with pytest.raises(Conflict):
        register(scope_of(clerk), station)
    assert register(scope_of(clerk), station, carrier="ZTO").carrier == "ZTO"  # another carrier may reuse it


def test_fee_only_for_carrier_parcels(clerk, station, scope_of):
    with pytest.raises(ValidationError) as caught:
        register(scope_of(clerk), station, source="our_order", fee_fen=40)
    assert "fee_fen" in caught.value.message_dict


def test_fee_constraint_is_the_last_line_of_defence(station):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        ParcelFactory(station=station, source="our_order", fee_fen=10)


def test_carrier_parcel_needs_its_tracking_number(clerk, station, scope_of):
    with pytest.raises(ValidationError) as caught:
        register(scope_of(clerk), station, carrier_tracking_no="")
    assert "carrier_tracking_no" in caught.value.message_dict


def test_villager_of_another_station_is_refused(clerk, station, other_station, scope_of):
    with pytest.raises(ValidationError) as caught:
        register(scope_of(clerk), station, villager=VillagerFactory(station=other_station))
    assert "villager" in caught.value.message_dict


def test_partner_registers_only_outbound_parcels(partner, station, scope_of):
    with pytest.raises(Forbidden):
        register(scope_of(partner.user), station)
    parcel = register(scope_of(partner.user), station, direction="outbound", source="our_order", fee_fen=0,
                      carrier="", carrier_tracking_no="")
    assert parcel.direction == "outbound"


def test_county_staff_cannot_register_for_another_county(clerk, far_station, scope_of):
    with pytest.raises(NotFound):
        register(scope_of(clerk), far_station)


def test_scoped_list_partner_sees_only_own_station_and_staff_only_own_county(
        partner, clerk, station, other_station, far_station, scope_of):
    mine, next_door, far = (ParcelFactory(station=s) for s in (station, other_station, far_station))
    assert list(parcel_list(scope=scope_of(partner.user))) == [mine]
    assert set(parcel_list(scope=scope_of(clerk))) == {mine, next_door}
    with pytest.raises(NotFound):
        parcel_get_for_actor(scope=scope_of(partner.user), code=next_door.code)
    with pytest.raises(NotFound):
        parcel_get_for_actor(scope=scope_of(clerk), code=far.code)


def test_every_state_change_appends_one_event(clerk, partner, station, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)
    parcel = register(scope_of(clerk), station)
    parcel_set_addressee(scope=scope_of(partner.user), parcel=parcel, villager=VillagerFactory(station=station))
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    parcels_dispatch(scope=scope_of(clerk), station=station)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE)
    events = list(ParcelEvent.objects.filter(parcel=parcel).order_by("pk"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "announced"), ("announced", "announced"), ("announced", "sorted"), ("sorted", "in_transit"),
        ("in_transit", "at_station"), ("at_station", "handed_over")]
    assert all(e.county_id == station.county_id and e.actor_id for e in events)
    # Each event's from is the previous event's to: no change went unrecorded.
    assert all(a.to_status == b.from_status for a, b in pairwise(events))


# --- API ------------------------------------------------------------------------


def post(client, url, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, content_type="application/json", **extra)


def test_api_register_is_idempotent(clerk_client, station):
    body = {"station": station.code, "source": "carrier", "carrier": "JD", "carrier_tracking_no": "JD1", "fee_fen": 30}
    first = post(clerk_client, "/api/v1/parcels", body, "k1")
    again = post(clerk_client, "/api/v1/parcels", body, "k1")
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"] and Parcel.objects.count() == 1


def test_api_warehouse_scan_unknown_code_says_what_to_do(clerk_client):
    response = post(clerk_client, "/api/v1/scans/warehouse", {"code": "CTZZZZ"}, "s1")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_parcel" and "register" in response.json()["error"]["message"]


def test_api_warehouse_scan_retry_replays_the_answer(clerk_client, station):
    parcel = ParcelFactory(station=station)
    first = post(clerk_client, "/api/v1/scans/warehouse", {"code": parcel.code}, "s2")
    again = post(clerk_client, "/api/v1/scans/warehouse", {"code": parcel.code}, "s2")
    fresh = post(clerk_client, "/api/v1/scans/warehouse", {"code": parcel.code}, "s3")
    assert first.json()["outcome"] == again.json()["outcome"] == "sorted"
    assert again["Idempotent-Replayed"] == "true"
    assert fresh.json()["outcome"] == "duplicate" and fresh.json()["station"] == station.code
    assert parcel.events.count() == 1


def test_api_partner_cannot_scan_at_the_warehouse(partner_client, station):
    parcel = ParcelFactory(station=station)
    assert post(partner_client, "/api/v1/scans/warehouse", {"code": parcel.code}).status_code == 403


def test_api_station_scan_and_wrong_station(partner_client, station, other_station, clerk, scope_of):
    mine, theirs = ParcelFactory(station=station), ParcelFactory(station=other_station)
    for p in (mine, theirs):
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=p.code)
    ok = post(partner_client, "/api/v1/scans/station", {"code": mine.code, "shelf_position": "C2"}, "r1")
    assert ok.status_code == 200 and ok.json()["outcome"] == "received"
    wrong = post(partner_client, "/api/v1/scans/station", {"code": theirs.code}, "r2")
    assert wrong.status_code == 409 and other_station.code in wrong.json()["error"]["message"]


def test_api_handover_wrong_code_is_counted_once_per_key(partner_client, partner, clerk, station, scope_of,
                                                        monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    url = f"/api/v1/parcels/{parcel.code}/handover"
    wrong = post(partner_client, url, {"code": "000000"}, "h1")
    post(partner_client, url, {"code": "000000"}, "h1")
    assert wrong.status_code == 422 and wrong.json()["attempts_left"] == 4
    assert PickupAttempt.objects.filter(parcel=parcel).count() == 1
    right = post(partner_client, url, {"code": PICKUP_CODE}, "h2")
    assert right.status_code == 200 and right.json()["status"] == "handed_over"


def test_api_handover_by_identity(partner_client, partner, clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    response = post(partner_client, f"/api/v1/parcels/{parcel.code}/handover",
                    {"receiver_name": "王秀英", "how_checked": "known in person"})
    assert response.status_code == 200 and response.json()["handover_method"] == "identity"


def test_api_partner_cannot_see_or_hand_over_another_stations_parcel(partner_client, other_station):
    parcel = ParcelFactory(station=other_station)
    assert partner_client.get(f"/api/v1/parcels/{parcel.code}").status_code == 404
    assert post(partner_client, f"/api/v1/parcels/{parcel.code}/handover", {"code": "123456"}).status_code == 404
    assert partner_client.get("/api/v1/parcels").json()["count"] == 0


def test_api_list_filters_and_detail_with_events(clerk_client, station, clerk, scope_of):
    sorted_one, announced = ParcelFactory(station=station), ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=sorted_one.code)
    listed = clerk_client.get("/api/v1/parcels", {"status": "sorted"}).json()
    assert [p["code"] for p in listed["items"]] == [sorted_one.code]
    detail = clerk_client.get(f"/api/v1/parcels/{sorted_one.code}").json()
    assert [e["kind"] for e in detail["events"]] == ["warehouse_scan"]
    assert "pickup_code_digest" not in detail
    assert clerk_client.get("/api/v1/parcels", {"q": announced.carrier_tracking_no}).json()["count"] == 1


def test_api_list_query_count_does_not_grow_with_parcels(clerk_client, station, django_assert_max_num_queries):
    ParcelFactory.create_batch(15, station=station)
    with django_assert_max_num_queries(12):
        assert clerk_client.get("/api/v1/parcels").json()["count"] == 15


def test_far_clerk_cannot_scan_this_countys_parcels_through_the_api(far_station, station):
    from cuntao.network.models import StaffMembership

    parcel = ParcelFactory(station=station)
    client = login(StaffMembership.objects.get(county=far_station.county).user)
    assert post(client, "/api/v1/scans/warehouse", {"code": parcel.code}).status_code == 404
