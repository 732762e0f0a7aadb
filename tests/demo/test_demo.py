"""The demo network: seeded once, shaped like a "386199 village", every login working."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from cuntao.core.scope import Role, resolve_scope
from cuntao.core.validators import normalize_national_id, normalize_phone
from cuntao.demo.services import (
    DEMO_COUNTIES,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    demo_seed_all,
    demo_village_count,
    network_seed_demo,
)
from cuntao.network.models import County, Partner, Station, Village
from cuntao.villagers.models import MigrantRelative, Villager


@pytest.fixture
def demo(db):
    assert network_seed_demo() is True


def test_demo_seeds_once(demo):
    villagers = Villager.objects.count()
    assert network_seed_demo() is False
    assert Villager.objects.count() == villagers


def test_demo_has_the_story_counties_each_with_warehouse_and_5_to_20_villages(demo):
    assert sorted(County.objects.values_list("name_en", flat=True)) == sorted(s.name_en for s in DEMO_COUNTIES)
    for county in County.objects.all():
        villages = Village.objects.filter(county=county).count()
        assert 5 <= villages <= 20
        assert county.warehouse_lat and county.warehouse_lon
    assert Village.objects.count() == demo_village_count()


def test_demo_villages_lie_near_their_county_seat(demo):
    for village in Village.objects.select_related("county"):
        assert abs(village.lat - village.county.centre_lat) < 1
        assert abs(village.lon - village.county.centre_lon) < 1


def test_demo_villages_look_like_386199_villages(demo):
    year = timezone.localdate().year
    villagers = list(Villager.objects.values("gender", "birth_year"))
    at_home = sum(1 for v in villagers if v["gender"] == "female" or year - v["birth_year"] < 18
                  or year - v["birth_year"] >= 60)
    assert at_home / len(villagers) > 0.8
    households_with_migrants = MigrantRelative.objects.values("villager__household").distinct().count()
    assert households_with_migrants / Villager.objects.values("household").distinct().count() > 0.6


def test_demo_data_passes_the_same_validation_as_typed_data(demo):
    for v in Villager.objects.exclude(phone="")[:200]:
        assert normalize_phone(v.phone) == v.phone
    for v in Villager.objects.exclude(national_id="")[:200]:
        assert normalize_national_id(v.national_id) == v.national_id
    for p in Partner.objects.all():
        assert normalize_phone(p.phone) == p.phone


@pytest.mark.parametrize("username, role, sees", DEMO_LOGINS)
def test_every_demo_login_works_and_has_its_role(db, username, role, sees):
    demo_seed_all()
    user = authenticate(RequestFactory().post("/accounts/login/"), username=username, password=DEMO_PASSWORD)
    assert user is not None
    expected = {"programme admin": Role.PROGRAMME_ADMIN, "county staff": Role.COUNTY_STAFF, "partner": Role.PARTNER,
                "inspector": Role.NONE, "city buyer": Role.NONE}
    assert resolve_scope(user).role == expected[role]
    # Inspectors and buyers reach their pages by what they are, not by a network scope.
    assert user.inspector_assignments.exists() == (role == "inspector")
    assert hasattr(user, "shop_buyer") == (role == "city buyer")


def test_demo_shows_each_step_of_onboarding(demo):
    statuses = set(Station.objects.filter(county__code="JZ").values_list("status", flat=True))
    assert {"applying", "training", "open"} <= statuses
    assert Village.objects.filter(county__code="JZ", stations__isnull=True).exists()


def test_synthetic_seed_command_makes_the_size_asked_for(db):
    call_command("seed", counties=2, villages_per_county=3, villagers_per_village=25, seed=7, quiet=True)
    assert Village.objects.count() == 6
    assert Station.objects.filter(status="open").count() == 6
    assert Villager.objects.count() == 150
    call_command("seed", counties=1, villages_per_county=2, villagers_per_village=10, seed=7, quiet=True)
    assert County.objects.count() == 3 and Villager.objects.count() == 170


def test_rows_typed_after_a_bulk_seed_get_fresh_ids(demo):
    from cuntao.villagers.services import villager_register

    partner = Partner.objects.select_related("station", "user").get(user__username="xiaoer")
    before = Villager.objects.filter(station=partner.station).count()
    villager = villager_register(scope=resolve_scope(partner.user), station=partner.station, name="新来的",
                                 birth_year=1990, gender="female", consent=True, new_household_name="新家")
    assert villager.pk > Villager.objects.exclude(pk=villager.pk).order_by("-pk").first().pk
    assert Villager.objects.filter(station=partner.station).count() == before + 1


def test_synthetic_counties_are_numbered_from_one_beside_the_demo(demo):
    call_command("seed", counties=1, villages_per_county=1, villagers_per_village=5, seed=3, quiet=True)
    assert County.objects.filter(code="S0001").exists()


@pytest.mark.django_db(transaction=True)  # the command migrates: no test transaction around it
def test_demo_command_seeds_the_catalogue_too():
    from cuntao.catalog.models import Product

    call_command("demo", no_serve=True)
    call_command("demo", no_serve=True)  # a second start keeps what is there
    assert Product.objects.filter(name__contains="电饭煲").exists()
    assert Product.objects.count() == Product.objects.values("sku").distinct().count()
    from cuntao.orders.models import Order

    assert set(Order.objects.values_list("payment_method", flat=True)) == {"cash_now", "cash_on_delivery", "credit"}
