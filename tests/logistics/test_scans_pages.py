"""The warehouse scanning page, the station receipt page and the station home panel."""

import pytest

from cuntao.logistics.models import ParcelStatus
from cuntao.logistics.services import warehouse_scan
from tests.logistics.factories import ParcelFactory

pytestmark = pytest.mark.django_db


def test_warehouse_page_has_one_focused_input_and_the_scanner_script(clerk_client):
    html = clerk_client.get("/logistics/warehouse/").content.decode()
    assert 'name="code"' in html and "autofocus" in html
    assert "/api/v1/scans/warehouse" in html and "Idempotency-Key" in html


def test_warehouse_form_fallback_sorts_and_shows_station_loudly(clerk_client, station):
    parcel = ParcelFactory(station=station)
    html = clerk_client.post("/logistics/warehouse/", {"code": parcel.code}).content.decode()
    assert "SORTED" in html and station.code in html and station.village.name in html
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.SORTED


def test_warehouse_form_fallback_says_unknown_and_damaged(clerk_client, station):
    assert "UNKNOWN" in clerk_client.post("/logistics/warehouse/", {"code": "CTNOPE"}).content.decode()
    parcel = ParcelFactory(station=station)
    html = clerk_client.post("/logistics/warehouse/", {"code": parcel.code, "damaged": "on"}).content.decode()
    assert "DAMAGED" in html


def test_partner_does_not_get_the_warehouse_page(partner_client):
    assert partner_client.get("/logistics/warehouse/").status_code == 404


def test_receipt_page_scans_in_and_lists_expected_and_arrived(partner_client, station, clerk, scope_of):
    arrived, still_coming = ParcelFactory(station=station), ParcelFactory(station=station)
    for p in (arrived, still_coming):
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=p.code)
    url = f"/logistics/stations/{station.code}/receipt/"
    html = partner_client.post(url, {"code": arrived.code, "shelf_position": "A2"}).content.decode()
    assert "RECEIVED" in html and still_coming.code in html and 'value="A2"' in html
    response = partner_client.post(f"/logistics/stations/{station.code}/receipt/close/", follow=True)
    assert "1 parcel missing" in response.content.decode()
    still_coming.refresh_from_db()
    assert still_coming.status == ParcelStatus.MISSING


def test_receipt_page_of_another_station_is_404(partner_client, other_station):
    assert partner_client.get(f"/logistics/stations/{other_station.code}/receipt/").status_code == 404
    assert partner_client.post(f"/logistics/stations/{other_station.code}/receipt/close/").status_code == 404


def test_station_home_panel_counts_waiting_and_long_waiting(partner_client, partner, station, clerk, scope_of):
    from datetime import timedelta

    from django.utils import timezone

    ParcelFactory(station=station, status="at_station", arrived_at_station_at=timezone.now())
    ParcelFactory(station=station, status="at_station", arrived_at_station_at=timezone.now() - timedelta(days=4))
    from cuntao.logistics.selectors import station_parcel_counts

    assert station_parcel_counts(scope=scope_of(partner.user), station_id=station.pk) == {
        "waiting": 2, "waiting_long": 1, "expected": 0, "return_due": 0, "shelved": 2, "capacity": 60,
        "over_capacity": 0}
    home = partner_client.get("/station/").content.decode()
    assert "waiting on the shelf" in home and "waiting over 3 days" in home
    shelf = partner_client.get(f"/logistics/stations/{station.code}/shelf/").content.decode()
    assert shelf.count("over 3 days") == 1


def test_scanner_script_request_passes_csrf_with_the_pages_token(clerk, station):
    """What the page's script sends (session, X-CSRFToken, Idempotency-Key) is accepted."""
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    html = client.get("/logistics/warehouse/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    parcel = ParcelFactory(station=station)
    response = client.post("/api/v1/scans/warehouse", {"code": parcel.code}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token, HTTP_IDEMPOTENCY_KEY="js-1")
    assert response.status_code == 200 and response.json()["outcome"] == "sorted"
    assert client.post("/api/v1/scans/warehouse", {"code": parcel.code}, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="js-2").status_code == 403
