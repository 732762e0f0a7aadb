"""The API's one error shape, token auth and the OpenAPI spec."""

import pytest
from django.test import Client

from cuntao.core.models import ApiToken
from cuntao.villagers.models import Villager
from tests.conftest import login

GOOD = {"name": "张桂兰", "birth_year": 1952, "gender": "female", "consent": True}


def error_of(response):
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_openapi_spec_and_docs_are_served(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/villagers" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_unauthenticated_call_gets_401_in_the_error_shape(client, db):
    assert error_of(client.get("/api/v1/villagers"))["code"] == "unauthenticated"


def test_forged_token_gets_401(partner):
    client = Client(HTTP_AUTHORIZATION="Bearer ct_forged-token-value")
    response = client.get("/api/v1/villagers")
    assert response.status_code == 401


def test_token_is_shown_once_stored_hashed_and_works_until_revoked(partner_client, partner):
    made = partner_client.post("/api/v1/tokens", {"name": "收银手机"}, content_type="application/json")
    assert made.status_code == 201
    secret = made.json()["token"]
    row = ApiToken.objects.get()
    assert secret not in (row.key_hash, row.hint) and len(row.key_hash) == 64
    assert "token" not in partner_client.get("/api/v1/tokens").json()[0]

    device = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    created = device.post("/api/v1/villagers", GOOD, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["station"] == partner.station.code
    assert device.get("/api/v1/me").json()["role"] == "partner"

    assert partner_client.delete(f"/api/v1/tokens/{row.pk}").status_code == 200
    assert device.get("/api/v1/villagers").status_code == 401


def test_user_cannot_revoke_someone_elses_token(partner_client, other_station):
    from cuntao.core.services import token_create
    from cuntao.core.scope import resolve_scope
    from cuntao.network.models import Partner

    neighbour = Partner.objects.get(station=other_station).user
    token, _ = token_create(scope=resolve_scope(neighbour), name="x")
    assert partner_client.delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("payload, field", [
    ({**GOOD, "phone": "12345"}, "phone"),
    ({**GOOD, "national_id": "110105194912310021"}, "national_id"),
    ({**GOOD, "birth_year": 3000}, "birth_year"),
    ({**GOOD, "name": "张" * 10_000}, "name"),
    ({k: v for k, v in GOOD.items() if k != "birth_year"}, "birth_year"),
    ({**GOOD, "birth_year": "old"}, "birth_year"),
    ({**GOOD, "gender": "robot"}, "gender"),
])
def test_bad_villager_gets_422_naming_the_field_and_writes_nothing(partner_client, payload, field):
    response = partner_client.post("/api/v1/villagers", payload, content_type="application/json",
                                   HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    error = error_of(response)
    assert field in error["fields"], error
    assert not Villager.objects.exists()


def test_errors_come_in_the_callers_language(partner_client):
    payload = {k: v for k, v in GOOD.items() if k != "birth_year"}
    zh = error_of(partner_client.post("/api/v1/villagers", payload, content_type="application/json",
                                      HTTP_ACCEPT_LANGUAGE="zh-hans"))
    en = error_of(partner_client.post("/api/v1/villagers", payload, content_type="application/json",
                                      HTTP_ACCEPT_LANGUAGE="en"))
    assert en["fields"]["birth_year"] == ["This field is required."]
    assert zh["fields"]["birth_year"] != en["fields"]["birth_year"]


def test_unknown_station_is_404_not_500(partner_client):
    response = partner_client.post("/api/v1/villagers", {**GOOD, "station": "NO-SUCH"}, content_type="application/json")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_malformed_json_is_a_4xx(partner_client):
    response = partner_client.post("/api/v1/villagers", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_county_staff_must_name_the_station(clerk_client):
    response = clerk_client.post("/api/v1/villagers", GOOD, content_type="application/json")
    assert response.status_code == 400
    assert "station" in error_of(response)["fields"]


def test_patch_changes_only_given_fields(partner_client, partner):
    created = partner_client.post("/api/v1/villagers", {**GOOD, "phone": "13812345678"}, content_type="application/json").json()
    patched = partner_client.patch(f"/api/v1/villagers/{created['id']}", {"needs_voice": True},
                                   content_type="application/json").json()
    assert patched["needs_voice"] is True and patched["phone"] == "+8613812345678"


def test_session_writes_need_csrf(partner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner.user)
    response = client.post("/api/v1/villagers", GOOD, content_type="application/json")
    assert response.status_code in (401, 403)
    assert not Villager.objects.exists()


def test_villager_api_list_query_count_is_flat(partner_client, partner, django_assert_max_num_queries):
    from tests.factories import VillagerFactory

    for i in range(30):
        VillagerFactory(station=partner.station, name=f"李{i}")
    with django_assert_max_num_queries(8):
        assert len(partner_client.get("/api/v1/villagers?limit=100").json()["items"]) == 30


def test_relatives_and_households_round_trip(partner_client):
    household = partner_client.post("/api/v1/households", {"name": "陈家"}, content_type="application/json").json()
    villager = partner_client.post("/api/v1/villagers", {**GOOD, "household_id": household["id"]},
                                   content_type="application/json").json()
    relative = partner_client.post(f"/api/v1/villagers/{villager['id']}/relatives",
                                   {"name": "陈强", "phone": "13700001234", "relation": "son", "city": "深圳"},
                                   content_type="application/json")
    assert relative.status_code == 201
    listed = partner_client.get(f"/api/v1/villagers/{villager['id']}/relatives").json()
    assert [r["phone"] for r in listed] == ["+8613700001234"]
    households = partner_client.get("/api/v1/households").json()["items"]
    assert households[0]["member_count"] == 1


def test_programme_admin_login_reaches_admin(programme_admin):
    programme_admin.is_staff = programme_admin.is_superuser = True
    programme_admin.save()
    assert login(programme_admin).get("/admin/villagers/villager/").status_code == 200
