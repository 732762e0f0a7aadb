"""The county route page: settings, matrix upload, planning, confirming and the PDF link."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cuntao.logistics import route_views
from cuntao.logistics.models import (
    CountyFleet,
    CountyTravelMatrix,
    ParcelStatus,
    PlannedStop,
    RoutePlan,
)
from tests.factories import StationFactory
from tests.logistics.factories import ParcelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch):
    monkeypatch.setattr(route_views, "PAGE_TIME_LIMIT_S", 0.2)


@pytest.fixture
def busy_county(station):
    """`station` and two more stations of its county with sorted parcels, and two trucks."""
    county = station.county
    station.village.lat, station.village.lon = 31.74, 115.95
    station.village.save()
    stations = [station, StationFactory(village__county=county, village__lat=31.66, village__lon=115.99),
                StationFactory(village__county=county, village__lat=31.72, village__lon=115.86)]
    for s in stations:
        for _ in range(3):
            ParcelFactory(station=s, status=ParcelStatus.SORTED)
    CountyFleet.objects.create(county=county, vehicle_count=2, capacity_parcels=6)
    return stations


def url(county, rest=""):
    return f"/logistics/county/{county.pk}/routes/{rest}"


def test_page_shows_the_forms_and_the_plan_button(clerk_client, station):
    html = clerk_client.get(url(station.county)).content.decode()
    assert 'id="fleet-form"' in html and 'id="matrix-form"' in html and "Plan today" in html
    assert 'type="file"' in html


def test_plan_button_plans_and_page_shows_trucks_stops_loading_list_and_picture(clerk_client, busy_county):
    county = busy_county[0].county
    response = clerk_client.post(url(county, "plan/"))
    assert response.status_code == 302
    plan = RoutePlan.objects.get()
    html = clerk_client.get(url(county)).content.decode()
    assert html.count("<polyline") == plan.routes.count() == 2
    for s in busy_county:
        assert s.code in html
    for stop in PlannedStop.objects.filter(plan=plan):
        assert all(code in html for code in stop.parcel_codes)
    assert f"/logistics/county/{county.pk}/routes/{plan.pk}/sheet.pdf" in html


def test_pdf_link_answers_a_pdf(clerk_client, busy_county):
    county = busy_county[0].county
    clerk_client.post(url(county, "plan/"))
    plan = RoutePlan.objects.get()
    response = clerk_client.get(url(county, f"{plan.pk}/sheet.pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_no_parcels_shows_a_message_and_makes_no_plan(clerk_client, station):
    response = clerk_client.post(url(station.county, "plan/"))
    assert response.status_code == 409
    assert "nothing to plan" in response.content.decode()
    assert not RoutePlan.objects.exists()


def test_no_trucks_shows_a_4xx_message_and_makes_no_plan(clerk_client, busy_county):
    county = busy_county[0].county
    CountyFleet.objects.filter(county=county).update(vehicle_count=0)
    response = clerk_client.post(url(county, "plan/"))
    assert response.status_code == 400 and 'id="plan-error"' in response.content.decode()
    assert not RoutePlan.objects.exists() and not PlannedStop.objects.exists()


def test_capacity_too_small_shows_why_and_makes_no_plan(clerk_client, busy_county):
    county = busy_county[0].county
    CountyFleet.objects.filter(county=county).update(vehicle_count=1, capacity_parcels=5)
    response = clerk_client.post(url(county, "plan/"))
    assert response.status_code == 400
    assert "too many" in response.content.decode()
    assert not RoutePlan.objects.exists()


def test_fleet_form_saves_and_refuses_bad_hours(clerk_client, clerk, station):
    data = {"vehicle_count": 3, "capacity_parcels": 200, "capacity_litres": 0, "max_route_minutes": 300,
            "speed_kmh": 35, "service_minutes": 8, "leaves_at": "07:30", "returns_by": "19:00"}
    assert clerk_client.post(url(station.county, "fleet/"), data).status_code == 302
    fleet = CountyFleet.objects.get(county=station.county)
    assert (fleet.vehicle_count, fleet.leaves_at, fleet.updated_by) == (3, dt.time(7, 30), clerk)
    response = clerk_client.post(url(station.county, "fleet/"), {**data, "returns_by": "06:00"})
    assert response.status_code == 400 and "Trucks leave before they must be back" in response.content.decode()


def test_malformed_matrix_upload_shows_the_line_next_to_the_field(clerk_client, station):
    bad = SimpleUploadedFile("roads.csv", b"from,to,metres,seconds\nWH,S1,100,10\nS1,WH,-5,10\n", "text/csv")
    response = clerk_client.post(url(station.county, "matrix/"), {"file": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Line 3" in html and 'class="field invalid"' in html
    assert not CountyTravelMatrix.objects.exists()


def test_good_matrix_upload_is_stored_with_who_and_when(clerk_client, clerk, station):
    good = SimpleUploadedFile("roads.csv", b"from,to,metres,seconds\nWH,S1,100,10\nS1,WH,120,12\n", "text/csv")
    assert clerk_client.post(url(station.county, "matrix/"), {"file": good}).status_code == 302
    matrix = CountyTravelMatrix.objects.get()
    assert matrix.uploaded_by == clerk and matrix.places == 2 and matrix.data["codes"] == ["WH", "S1"]
    assert "roads.csv" in clerk_client.get(url(station.county)).content.decode()


def test_confirm_button_dispatches_the_parcels(clerk_client, busy_county):
    county = busy_county[0].county
    clerk_client.post(url(county, "plan/"))
    plan = RoutePlan.objects.get()
    assert clerk_client.post(url(county, f"{plan.pk}/confirm/")).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "confirmed"
    for s in busy_county:
        assert set(s.parcels.values_list("status", flat=True)) == {ParcelStatus.IN_TRANSIT}
    assert "Confirm and load" not in clerk_client.get(url(county)).content.decode()


def test_other_county_staff_and_partners_get_404(busy_county, far_station, partner_client, clerk_client):
    from django.contrib.auth import get_user_model
    from django.test import Client

    county = busy_county[0].county
    clerk_client.post(url(county, "plan/"))
    plan = RoutePlan.objects.get()
    far = Client()
    far.force_login(get_user_model().objects.get(username="far-clerk"))
    for client in (far, partner_client):
        assert client.get(url(county)).status_code == 404
        assert client.post(url(county, "plan/")).status_code == 404
        assert client.get(url(county, f"{plan.pk}/sheet.pdf")).status_code == 404
        assert client.post(url(county, f"{plan.pk}/confirm/")).status_code == 404
        assert client.post(url(county, "fleet/"), {"vehicle_count": 9}).status_code == 404
    # A plan of this county reached through another county's page is missing too.
    assert far.get(f"/logistics/county/{far_station.county.pk}/routes/{plan.pk}/sheet.pdf").status_code == 404
    assert RoutePlan.objects.count() == 1 and plan.status == "draft"


def test_page_queries_do_not_grow_with_stations_and_parcels(clerk_client, busy_county):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    county = busy_county[0].county
    clerk_client.post(url(county, "plan/"))
    with CaptureQueriesContext(connection) as small:
        clerk_client.get(url(county))
    for _ in range(3):
        s = StationFactory(village__county=county, village__lat=31.70, village__lon=115.80)
        ParcelFactory(station=s, status=ParcelStatus.SORTED)
    CountyFleet.objects.filter(county=county).update(vehicle_count=4)
    clerk_client.post(url(county, "plan/"))
    assert PlannedStop.objects.filter(plan=RoutePlan.objects.first()).count() == 6
    with CaptureQueriesContext(connection) as big:
        clerk_client.get(url(county))
    assert len(small.captured_queries) <= 20
    assert len(big.captured_queries) == len(small.captured_queries)


def test_programme_admin_sees_fleets_and_plans_in_the_admin(db):
    from django.test import Client

    from tests.factories import UserFactory

    boss = UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)
    for url in ("/admin/logistics/countyfleet/", "/admin/logistics/routeplan/", "/admin/logistics/parcel/"):
        assert client.get(url).status_code == 200, url
