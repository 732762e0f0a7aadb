"""County staff take a partner applicant from application to an open station."""

import datetime
import re

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from cuntao.core.errors import Conflict, DomainError
from cuntao.network import services
from cuntao.network.models import Partner, Station, StationStatusEvent
from tests.factories import VillageFactory

APPLICANT = {"station_name": "新村服务站", "applicant_name": "刘春梅", "applicant_phone": "139 1234 0000",
             "applicant_national_id": "11010519491231002X"}


@pytest.fixture
def village(station):
    return VillageFactory(county=station.county, name="新村")


def test_application_to_open_station_records_every_step(clerk, village, scope_of):
    scope = scope_of(clerk)
    station, partner, password = services.station_apply(scope=scope, village=village, **APPLICANT)
    assert station.status == "applying" and station.code.startswith(village.county.code + "-")
    assert partner.user.username == "13912340000"
    assert authenticate(RequestFactory().post("/"), username="13912340000", password=password) == partner.user

    with pytest.raises(Conflict):
        services.station_start_training(scope=scope, station=station)  # identity first
    services.partner_verify_identity(scope=scope, station=station)
    services.station_start_training(scope=scope, station=station, note="训练营三月班")
    services.station_open(scope=scope, station=station, contract_start=datetime.date(2026, 12, 1),
                          contract_end=datetime.date(2028, 11, 30))
    station.refresh_from_db()
    partner.refresh_from_db()
    assert station.status == "open" and station.opened_at is not None
    assert partner.status == "active" and partner.contract_end == datetime.date(2028, 11, 30)
    steps = list(StationStatusEvent.objects.filter(station=station).values_list("from_status", "to_status", "actor"))
    assert steps == [("", "applying", clerk.pk), ("applying", "training", clerk.pk), ("training", "open", clerk.pk)]


def test_new_partner_reaches_own_station_once_training(clerk, village, scope_of):
    station, partner, _ = services.station_apply(scope=scope_of(clerk), village=village, **APPLICANT)
    assert not scope_of(partner.user).station_ids
    services.partner_verify_identity(scope=scope_of(clerk), station=station)
    services.station_start_training(scope=scope_of(clerk), station=station)
    assert scope_of(Partner.objects.get(pk=partner.pk).user).station_ids == {station.pk}


@pytest.mark.parametrize("field, value", [
    ("applicant_phone", "12345"),
    ("applicant_national_id", "110105194912310021"),
    ("applicant_name", "刘" * 10_000),
    ("station_name", "站" * 10_000),
])
def test_bad_application_names_the_field_and_writes_nothing(clerk, village, scope_of, field, value):
    with pytest.raises(ValidationError) as caught:
        services.station_apply(scope=scope_of(clerk), village=village, **{**APPLICANT, field: value})
    assert set(caught.value.message_dict) & {field, "name"}
    assert not Station.objects.filter(village=village).exists()
    assert not Partner.objects.filter(phone="+8613912340000").exists()


def test_second_application_with_same_phone_is_refused(clerk, village, scope_of, station):
    services.station_apply(scope=scope_of(clerk), village=village, **APPLICANT)
    other = VillageFactory(county=station.county, name="旧村")
    with pytest.raises(ValidationError) as caught:
        services.station_apply(scope=scope_of(clerk), village=other, **{**APPLICANT, "station_name": "旧村站"})
    assert "applicant_phone" in caught.value.message_dict


def test_village_with_a_live_station_cannot_get_a_second(clerk, station, scope_of):
    with pytest.raises(ValidationError):
        services.station_apply(scope=scope_of(clerk), village=station.village, **APPLICANT)


def test_impossible_transition_is_refused(clerk, station, partner, scope_of):
    with pytest.raises(Conflict):
        services.station_start_training(scope=scope_of(clerk), station=station)  # open -> training
    services.station_close(scope=scope_of(clerk), station=station, note="搬迁")
    with pytest.raises(Conflict):
        services.station_reopen(scope=scope_of(clerk), station=station)


def test_suspend_needs_a_reason_and_pauses_the_partner(clerk, station, partner, scope_of):
    with pytest.raises(ValidationError):
        services.station_suspend(scope=scope_of(clerk), station=station, note=" ")
    services.station_suspend(scope=scope_of(clerk), station=station, note="账目待查")
    partner.refresh_from_db()
    assert partner.status == "suspended"
    assert scope_of(partner.user).station_ids == frozenset()


def test_partner_cannot_move_their_own_station(partner, scope_of):
    with pytest.raises(DomainError):
        services.station_suspend(scope=scope_of(partner.user), station=partner.station, note="x")


def test_console_walks_an_application_through(clerk_client, village):
    response = clerk_client.post(f"/county/{village.county_id}/apply/", {
        "village": village.pk, "station_name": "新村服务站", "applicant_name": "刘春梅",
        "applicant_phone": "13912340000", "applicant_national_id": "11010519491231002X",
        "opens_at": "08:00", "closes_at": "20:00", "shelf_capacity": "80",
    })
    assert response.status_code == 200
    station = Station.objects.get(village=village)
    assert response.context["password"]
    for action, data in [("verify", {}), ("train", {}),
                         ("open", {"contract_start": "2026-12-01", "contract_end": "2028-11-30"})]:
        assert clerk_client.post(f"/county/stations/{station.code}/{action}/", data).status_code == 302
    station.refresh_from_db()
    assert station.status == "open"
    page = clerk_client.get(f"/county/stations/{station.code}/")
    assert page.status_code == 200 and len(page.context["history"]) == 3


def test_console_shows_a_refused_step_as_a_message(clerk_client, station, partner):
    response = clerk_client.post(f"/county/stations/{station.code}/open/",
                                 {"contract_start": "2026-12-01", "contract_end": "2026-01-01"}, follow=True)
    assert [str(m) for m in response.context["messages"]]
    station.refresh_from_db()
    assert station.status == "open"


def test_county_page_lists_stations_with_partners_in_few_queries(clerk_client, station, other_station,
                                                                  django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = clerk_client.get(f"/county/{station.county_id}/")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2


def test_open_form_offers_dates_the_browser_date_picker_can_show(clerk_client, station):
    station.status = "training"
    station.save()
    page = clerk_client.get(f"/county/stations/{station.code}/").content.decode()
    assert 'type="date"' in page
    assert re.search(r'name="contract_start" value="\d{4}-\d{2}-\d{2}"', page)
