"""The public tracking link: the journey without login and without personal data."""

import pytest

from cuntao.logistics.services import (
    handover_with_code,
    parcel_register,
    station_receive_scan,
    warehouse_scan,
)
from tests.factories import VillagerFactory
from tests.logistics.factories import PICKUP_CODE

pytestmark = pytest.mark.django_db


@pytest.fixture
def journey(station, clerk, partner, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)
    villager = VillagerFactory(station=station, name="赵桂兰", phone="+8613912345678")
    parcel = parcel_register(scope=scope_of(clerk), station=station, villager=villager, source="carrier",
                             carrier="ZTO", carrier_tracking_no="ZT7788990011", fee_fen=50)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code,
                         shelf_position="B7")
    parcel.refresh_from_db()
    return parcel


def test_tracking_page_shows_the_journey_without_login(client, journey, station):
    response = client.get(f"/t/{journey.tracking_token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert station.name in html and "At the station" in html and "Sorted to its station" in html


def test_tracking_page_shows_no_personal_data(client, journey, partner):
    html = client.get(f"/t/{journey.tracking_token}/").content.decode()
    for secret in ("赵桂兰", "13912345678", PICKUP_CODE, partner.full_name, "B7", journey.carrier_tracking_no):
        assert secret not in html
    assert "<img" not in html and len(html) < 4000


def test_tracking_api_is_public_and_minimal(client, journey, station):
    data = client.get(f"/api/v1/track/{journey.tracking_token}").json()
    assert data["status"] == "at_station" and data["station"] == station.name
    assert [s["status"] for s in data["steps"]] == ["announced", "sorted", "at_station"]
    assert set(data) == {"status", "label", "station", "steps"}
    assert set(data["steps"][0]) == {"at", "status", "label", "place"}


def test_wrong_tracking_token_is_404(client, journey):
    assert client.get("/t/not-a-real-token/").status_code == 404
    assert client.get("/api/v1/track/not-a-real-token").status_code == 404


def test_tracking_shows_the_hand_over(client, journey, partner, scope_of):
    handover_with_code(scope=scope_of(partner.user), parcel=journey, code=PICKUP_CODE)
    data = client.get(f"/api/v1/track/{journey.tracking_token}").json()
    assert data["status"] == "handed_over" and data["steps"][-1]["status"] == "handed_over"
