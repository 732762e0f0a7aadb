"""Home delivery on the partner's phone and through the API."""

import base64

import pytest

from cuntao.logistics.models import DeliveryRun, HomeLocation, ParcelStatus, StopOutcome
from tests.catalog.factories import tiny_image
from tests.logistics.factories import PICKUP_CODE
from tests.logistics.test_delivery import on_shelf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def plan(client, station, *parcels):
    return client.post(f"/logistics/stations/{station.code}/delivery/", {"parcels": [p.code for p in parcels]})


def test_partner_plans_a_run_and_sees_the_stops_and_the_picture(station, partner_client):
    first, second = on_shelf(station), on_shelf(station)
    page = partner_client.get(f"/logistics/stations/{station.code}/delivery/").content.decode()
    assert first.code in page and second.code in page and "village only" in page
    response = plan(partner_client, station, first, second)
    run = DeliveryRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/logistics/delivery/{run.pk}/"
    page = partner_client.get(response["Location"]).content.decode()
    assert "<svg" in page and 'class="route-map"' in page and first.code in page and second.code in page
    assert page.count("At this stop") == 2


def test_planning_nothing_is_a_clear_400(station, partner_client):
    response = plan(partner_client, station)
    assert response.status_code == 400 and "Choose at least one parcel" in response.content.decode()


def test_deliver_with_the_code_on_the_stop_page(station, partner_client):
    parcel = on_shelf(station)
    plan(partner_client, station, parcel)
    run = DeliveryRun.objects.get()
    url = f"/logistics/delivery/{run.pk}/stops/1/"
    wrong = partner_client.post(url, {"action": "code", "code": "000000"})
    assert wrong.status_code == 400 and "Wrong code" in wrong.content.decode()
    assert partner_client.post(url, {"action": "code", "code": PICKUP_CODE}).status_code == 302
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.HANDED_OVER


def test_deliver_with_a_drawn_signature(station, partner_client):
    parcel = on_shelf(station)
    plan(partner_client, station, parcel)
    run = DeliveryRun.objects.get()
    drawn = "data:image/png;base64," + base64.b64encode(tiny_image().read()).decode()
    response = partner_client.post(f"/logistics/delivery/{run.pk}/stops/1/",
                                   {"action": "proof", "method": "signature", "signature": drawn,
                                    "receiver_name": "王秀英"})
    assert response.status_code == 302
    parcel.refresh_from_db()
    assert parcel.handover_method == "signature"
    detail = partner_client.get(f"/logistics/parcels/{parcel.code}/").content.decode()
    proof = parcel.events.get(kind="handed_over")
    assert f"/logistics/proofs/{proof.pk}/" in detail
    image = partner_client.get(f"/logistics/proofs/{proof.pk}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_nothing_drawn_and_no_photo_is_refused(station, partner_client):
    parcel = on_shelf(station)
    plan(partner_client, station, parcel)
    run = DeliveryRun.objects.get()
    response = partner_client.post(f"/logistics/delivery/{run.pk}/stops/1/",
                                   {"action": "proof", "method": "signature", "signature": ""})
    assert response.status_code == 400 and "Add the signature or a photo" in response.content.decode()


def test_deliver_with_a_photo_and_fail_another(station, partner_client):
    first, second = on_shelf(station), on_shelf(station)
    plan(partner_client, station, first, second)
    run = DeliveryRun.objects.get()
    stops = {s.parcel_id: s.sequence for s in run.stops.all()}
    partner_client.post(f"/logistics/delivery/{run.pk}/stops/{stops[first.pk]}/",
                        {"action": "proof", "method": "photo", "photo": tiny_image("JPEG", name="door.jpg")})
    partner_client.post(f"/logistics/delivery/{run.pk}/stops/{stops[second.pk]}/",
                        {"action": "fail", "reason": "wrong_address", "note": ""})
    outcomes = dict(run.stops.values_list("parcel_id", "outcome"))
    assert outcomes == {first.pk: StopOutcome.DELIVERED, second.pk: StopOutcome.FAILED}
    page = partner_client.get(f"/logistics/delivery/{run.pk}/").content.decode()
    assert "Wrong address" in page
    assert partner_client.post(f"/logistics/delivery/{run.pk}/close/").status_code == 302


def test_another_station_cannot_see_the_run_or_the_proof(station, other_station, partner_client):
    from cuntao.network.models import Partner
    from tests.conftest import login

    parcel = on_shelf(station)
    plan(partner_client, station, parcel)
    run = DeliveryRun.objects.get()
    other = login(Partner.objects.get(station=other_station).user)
    assert other.get(f"/logistics/delivery/{run.pk}/").status_code == 404
    assert other.get(f"/logistics/delivery/{run.pk}/stops/1/").status_code == 404
    assert other.get(f"/logistics/stations/{station.code}/delivery/").status_code == 404


def test_home_location_page_saves_the_position(station, partner_client):
    parcel = on_shelf(station)
    url = f"/logistics/villagers/{parcel.villager_id}/home/"
    assert partner_client.post(url, {"lat": "95", "lon": "115.9"}).status_code == 400
    partner_client.post(url, {"lat": "31.7612", "lon": "115.9433", "note": "红门"})
    home = HomeLocation.objects.get(villager=parcel.villager)
    assert (str(home.lat), str(home.lon), home.note) == ("31.761200", "115.943300", "红门")


def test_api_plans_delivers_and_fails_with_idempotency(station, partner_client):
    first, second = on_shelf(station), on_shelf(station)
    candidates = partner_client.get("/api/v1/delivery/candidates").json()
    assert {p["code"] for p in candidates} == {first.code, second.code}
    body = {"parcels": [first.code, second.code]}
    created = partner_client.post("/api/v1/delivery-runs", body, content_type="application/json",
                                  HTTP_IDEMPOTENCY_KEY="run-1")
    again = partner_client.post("/api/v1/delivery-runs", body, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="run-1")
    assert created.status_code == again.status_code == 201 and created.json() == again.json()
    run = created.json()
    assert DeliveryRun.objects.count() == 1 and len(run["stops"]) == 2
    by_code = {s["parcel"]: s["sequence"] for s in run["stops"]}
    base = f"/api/v1/delivery-runs/{run['id']}/stops"
    wrong = partner_client.post(f"{base}/{by_code[first.code]}/deliver", {"method": "code", "code": "999999"})
    assert wrong.status_code == 422 and wrong.json()["attempts_left"] == 4
    ok = partner_client.post(f"{base}/{by_code[first.code]}/deliver", {"method": "code", "code": PICKUP_CODE},
                             HTTP_IDEMPOTENCY_KEY="deliver-1")
    assert ok.status_code == 200
    failed = partner_client.post(f"{base}/{by_code[second.code]}/fail", {"reason": "not_home"},
                                 content_type="application/json")
    assert failed.status_code == 200
    outcomes = {s["parcel"]: s["outcome"] for s in failed.json()["stops"]}
    assert outcomes == {first.code: "delivered", second.code: "failed"}
    bad = partner_client.post(f"{base}/{by_code[second.code]}/fail", {"reason": "bored"},
                              content_type="application/json")
    assert bad.status_code in (400, 422) and "error" in bad.json()
    assert partner_client.post(f"/api/v1/delivery-runs/{run['id']}/close").json()["status"] == "closed"


def test_api_photo_upload(station, partner_client):
    parcel = on_shelf(station)
    run = partner_client.post("/api/v1/delivery-runs", {"parcels": [parcel.code]},
                              content_type="application/json").json()
    response = partner_client.post(f"/api/v1/delivery-runs/{run['id']}/stops/1/deliver",
                                   {"method": "photo", "proof": tiny_image("JPEG", name="door.jpg")})
    assert response.status_code == 200 and response.json()["stops"][0]["outcome"] == "delivered"


def test_api_home_location(station, partner_client):
    parcel = on_shelf(station)
    response = partner_client.put(f"/api/v1/villagers/{parcel.villager_id}/home-location",
                                  {"lat": 31.76, "lon": 115.94}, content_type="application/json")
    assert response.status_code == 200 and response.json()["lat"] == 31.76
    assert partner_client.put(f"/api/v1/villagers/{parcel.villager_id}/home-location",
                              {"lat": 131.76, "lon": 115.94}, content_type="application/json").status_code == 422


def test_openapi_schema_still_builds(partner_client):
    assert partner_client.get("/api/v1/openapi.json").status_code == 200


def test_run_page_is_not_slow_to_query(station, partner_client, django_assert_max_num_queries):
    parcels = [on_shelf(station) for _ in range(8)]
    plan(partner_client, station, *parcels)
    run = DeliveryRun.objects.get()
    with django_assert_max_num_queries(12):
        partner_client.get(f"/logistics/delivery/{run.pk}/")
