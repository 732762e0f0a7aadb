"""Registering villagers through the service, the page and the API; bad input changes nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cuntao.core.errors import Conflict
from cuntao.villagers.models import Household, MigrantRelative, Villager
from cuntao.villagers.services import relative_add, villager_register, villager_update
from tests.factories import HouseholdFactory, VillagerFactory

GOOD = {"name": "张桂兰", "birth_year": 1952, "gender": "female", "consent": True}


def test_partner_registers_villager_with_pinyin_household_and_consent_time(partner, scope_of):
    villager = villager_register(scope=scope_of(partner.user), station=partner.station, phone="13812345678",
                                 new_household_name="张家", **GOOD)
    assert villager.name_pinyin == "zhangguilan"
    assert villager.name_initials == "zgl"
    assert villager.phone == "+8613812345678"
    assert villager.household.name == "张家"
    assert villager.county_id == partner.station.county_id
    assert villager.consent_at is not None
    assert villager.registered_by == partner.user


@pytest.mark.parametrize("changes, field", [
    ({"phone": "12345"}, "phone"),
    ({"national_id": "110105194912310021"}, "national_id"),
    ({"birth_year": timezone.localdate().year + 1}, "birth_year"),
    ({"name": "张" * 10_000}, "name"),
    ({"name": ""}, "name"),
    ({"consent": False}, "consent"),
    ({"gender": "robot"}, "gender"),
])
def test_bad_input_names_the_field_and_writes_nothing(partner, scope_of, changes, field):
    with pytest.raises(ValidationError) as caught:
        villager_register(scope=scope_of(partner.user), station=partner.station,
                          **{**GOOD, "new_household_name": "张家", **changes})
    assert field in caught.value.message_dict
    assert not Villager.objects.exists()
    assert not Household.objects.exists()


def test_id_number_must_agree_with_birth_year(partner, scope_of):
    with pytest.raises(ValidationError) as caught:
        villager_register(scope=scope_of(partner.user), station=partner.station,
                          **{**GOOD, "birth_year": 1950, "national_id": "11010519491231002X"})
    assert "1949" in caught.value.message_dict["national_id"][0]


def test_household_of_another_station_is_refused(partner, other_station, scope_of):
    foreign = HouseholdFactory(station=other_station)
    with pytest.raises(ValidationError) as caught:
        villager_register(scope=scope_of(partner.user), station=partner.station, household=foreign, **GOOD)
    assert "household" in caught.value.message_dict


def test_suspended_station_takes_no_new_villagers(partner, scope_of):
    partner.station.status = "suspended"
    partner.station.save()
    with pytest.raises(Conflict):
        villager_register(scope=scope_of(partner.user), station=partner.station, **GOOD)


def test_update_keeps_fields_not_given_and_recomputes_pinyin(partner, scope_of):
    villager = VillagerFactory(station=partner.station, phone="+8613812345678")
    updated = villager_update(scope=scope_of(partner.user), villager=villager, name="李秀英")
    assert updated.name_pinyin == "lixiuying"
    assert updated.phone == "+8613812345678"


def test_relative_with_malformed_phone_is_refused(partner, scope_of):
    villager = VillagerFactory(station=partner.station)
    with pytest.raises(ValidationError) as caught:
        relative_add(scope=scope_of(partner.user), villager=villager, name="王强", phone="555", relation="son")
    assert "phone" in caught.value.message_dict
    assert not MigrantRelative.objects.exists()


def test_register_page_shows_errors_next_to_fields_and_keeps_nothing(partner_client, partner):
    response = partner_client.post(f"/stations/{partner.station.code}/villagers/new/", {
        "name": "王大妈", "gender": "female", "birth_year": "2999", "phone": "12", "language": "zh-hans",
        "consent": "on",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "birth_year" in errors and "phone" in errors
    assert not Villager.objects.exists()


def test_register_page_creates_villager_and_redirects_to_it(partner_client, partner):
    response = partner_client.post(f"/stations/{partner.station.code}/villagers/new/", {
        "name": "王大妈", "gender": "female", "birth_year": "1948", "phone": "13912345678",
        "new_household_name": "王家", "language": "zh-hans", "consent": "on",
    })
    villager = Villager.objects.get()
    assert response.status_code == 302
    assert response.url == f"/villagers/{villager.pk}/"


def test_register_page_answers_in_chinese_by_default(partner_client, partner):
    response = partner_client.post(f"/stations/{partner.station.code}/villagers/new/", {
        "name": "王大妈", "gender": "female", "birth_year": "1948", "language": "zh-hans",
    })
    assert "consent" in response.context["form"].errors
    assert response.context["LANGUAGE_CODE"] == "zh-hans"
