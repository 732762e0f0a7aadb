"""A partner never reaches another station's villagers; county staff never another county.

Outside the scope, objects answer 404 exactly as missing ones do, on pages and the API.
"""

import pytest

from tests.conftest import login
from tests.factories import HouseholdFactory, RelativeFactory, VillagerFactory


@pytest.fixture
def neighbour(other_station):
    return VillagerFactory(station=other_station, name="赵大娘")


def page_urls(villager):
    return [
        f"/villagers/{villager.pk}/",
        f"/villagers/{villager.pk}/edit/",
        f"/villagers/{villager.pk}/relatives/new/",
        f"/stations/{villager.station.code}/villagers/",
        f"/stations/{villager.station.code}/villagers/new/",
    ]


def api_urls(villager):
    return [
        f"/api/v1/villagers/{villager.pk}",
        f"/api/v1/villagers/{villager.pk}/relatives",
        f"/api/v1/stations/{villager.station.code}",
        f"/api/v1/villagers?station={villager.station.code}",
        f"/api/v1/households?station={villager.station.code}",
    ]


def test_partner_gets_404_for_every_page_of_another_station(partner_client, neighbour):
    for url in page_urls(neighbour):
        assert partner_client.get(url).status_code == 404, url
        assert partner_client.post(url, {"name": "改名"}).status_code == 404, url
    neighbour.refresh_from_db()
    assert neighbour.name == "赵大娘"


def test_partner_gets_404_for_every_api_route_of_another_station(partner_client, neighbour):
    for url in api_urls(neighbour):
        response = partner_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    response = partner_client.patch(f"/api/v1/villagers/{neighbour.pk}", {"name": "改名"}, content_type="application/json")
    assert response.status_code == 404
    response = partner_client.post(f"/api/v1/villagers/{neighbour.pk}/relatives",
                                   {"name": "x", "phone": "13812345678", "relation": "son"}, content_type="application/json")
    assert response.status_code == 404
    response = partner_client.post("/api/v1/villagers", {"station": neighbour.station.code, "name": "x", "birth_year": 1950,
                                                         "gender": "female", "consent": True}, content_type="application/json")
    assert response.status_code == 404
    neighbour.refresh_from_db()
    assert neighbour.name == "赵大娘"


def test_missing_and_out_of_scope_look_the_same(partner_client, neighbour):
    hidden = partner_client.get(f"/api/v1/villagers/{neighbour.pk}").json()
    missing = partner_client.get("/api/v1/villagers/999999").json()
    assert hidden == missing


def test_partner_list_shows_only_own_station(partner_client, partner, neighbour):
    VillagerFactory(station=partner.station, name="钱大爷")
    names = [v["name"] for v in partner_client.get("/api/v1/villagers").json()["items"]]
    assert names == ["钱大爷"]
    stations = [s["code"] for s in partner_client.get("/api/v1/stations").json()["items"]]
    assert stations == [partner.station.code]


def test_partner_cannot_use_household_of_another_station_through_the_api(partner_client, neighbour):
    foreign = HouseholdFactory(station=neighbour.station)
    response = partner_client.post("/api/v1/villagers", {"name": "x", "birth_year": 1950, "gender": "female",
                                                         "consent": True, "household_id": foreign.pk},
                                   content_type="application/json")
    assert response.status_code == 404


def test_county_staff_reach_their_county_and_not_another(clerk_client, station, other_station, far_station):
    mine = VillagerFactory(station=other_station)
    theirs = VillagerFactory(station=far_station)
    RelativeFactory(villager=theirs)
    assert clerk_client.get(f"/api/v1/villagers/{mine.pk}").status_code == 200
    assert clerk_client.get(f"/villagers/{mine.pk}/").status_code == 200
    for url in page_urls(theirs) + api_urls(theirs):
        assert clerk_client.get(url).status_code == 404, url
    assert clerk_client.get(f"/county/{far_station.county_id}/").status_code == 404
    assert clerk_client.get(f"/county/stations/{far_station.code}/").status_code == 404
    assert clerk_client.post(f"/county/stations/{far_station.code}/suspend/", {"note": "x"}).status_code == 404
    far_station.refresh_from_db()
    assert far_station.status == "open"
    codes = {s["code"] for s in clerk_client.get("/api/v1/stations").json()["items"]}
    assert codes == {station.code, other_station.code}


def test_partner_cannot_use_the_county_console(partner_client, station):
    assert partner_client.get(f"/county/{station.county_id}/").status_code == 404
    assert partner_client.post(f"/county/stations/{station.code}/suspend/", {"note": "x"}).status_code == 404
    station.refresh_from_db()
    assert station.status == "open"


def test_programme_admin_reaches_every_county(programme_admin, station, far_station):
    client = login(programme_admin)
    codes = {s["code"] for s in client.get("/api/v1/stations").json()["items"]}
    assert {station.code, far_station.code} <= codes
    assert client.get(f"/county/{far_station.county_id}/").status_code == 200


def test_user_without_role_sees_nothing(db, station):
    from tests.factories import UserFactory

    client = login(UserFactory(username="nobody"))
    assert client.get("/").status_code == 403
    assert client.get("/api/v1/stations").json()["items"] == []


def test_out_of_scope_page_is_a_friendly_404_in_the_users_language(partner_client, neighbour):
    response = partner_client.get(f"/villagers/{neighbour.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert "页面" in response.content.decode() or "不存在" in response.content.decode()
