"""The hand-over page: with the pickup code or after an identity check."""

import pytest

from cuntao.logistics.models import HandoverMethod, ParcelStatus
from cuntao.logistics.services import station_receive_scan, warehouse_scan
from tests.logistics.factories import PICKUP_CODE, ParcelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_shelf(station, clerk, partner, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    return parcel


def test_right_code_on_the_page_hands_over(partner_client, on_shelf):
    response = partner_client.post(f"/logistics/parcels/{on_shelf.code}/handover/", {"method": "code", "code": PICKUP_CODE})
    assert response.status_code == 302
    on_shelf.refresh_from_db()
    assert on_shelf.status == ParcelStatus.HANDED_OVER


def test_wrong_code_on_the_page_shows_tries_left(partner_client, on_shelf):
    html = partner_client.post(f"/logistics/parcels/{on_shelf.code}/handover/",
                               {"method": "code", "code": "000000"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "4 tries left" in html
    on_shelf.refresh_from_db()
    assert on_shelf.status == ParcelStatus.AT_STATION and on_shelf.pickup_attempts == 1


def test_identity_on_the_page_hands_over_and_records_how(partner_client, on_shelf):
    response = partner_client.post(f"/logistics/parcels/{on_shelf.code}/handover/",
                                   {"method": "identity", "receiver_name": "王秀英", "how_checked": "ID card"})
    assert response.status_code == 302
    on_shelf.refresh_from_db()
    assert on_shelf.handover_method == HandoverMethod.IDENTITY and "ID card" in on_shelf.handover_note


def test_parcel_page_of_another_station_is_404(client, other_station, partner):
    from tests.conftest import login

    parcel = ParcelFactory(station=other_station)
    c = login(partner.user)
    assert c.get(f"/logistics/parcels/{parcel.code}/").status_code == 404
    assert c.get(f"/logistics/parcels/{parcel.code}/handover/").status_code == 404


def test_parcel_page_shows_scans_and_the_tracking_link(partner_client, on_shelf):
    html = partner_client.get(f"/logistics/parcels/{on_shelf.code}/").content.decode()
    assert "Scanned in at the station" in html and f"/t/{on_shelf.tracking_token}/" in html
    assert "Hand over" in html
