"""factory_boy factories for the network and villagers apps."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cuntao.core.pinyin import name_initials, name_pinyin
from cuntao.network.models import County, Partner, Province, StaffMembership, Station, Village
from cuntao.villagers.models import Household, MigrantRelative, Villager

PASSWORD = "a-good-test-password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("name",)

    name = "安徽省"


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = County

    province = factory.SubFactory(ProvinceFactory)
    name = factory.Sequence(lambda n: f"测试{n}县")
    code = factory.Sequence(lambda n: f"T{n:03d}")
    centre_lat, centre_lon = 31.7, 115.9
    warehouse_lat, warehouse_lon = 31.69, 115.92


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    county = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"桃园{n}村")
    lat, lon = 31.75, 115.95


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    village = factory.SubFactory(VillageFactory)
    county = factory.SelfAttribute("village.county")
    code = factory.Sequence(lambda n: f"TS-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"{o.village.name}服务站")
    status = "open"
    opened_at = factory.LazyFunction(timezone.now)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    station = factory.SubFactory(StationFactory)
    county = factory.SelfAttribute("station.county")
    user = factory.SubFactory(UserFactory)
    full_name = "李秀兰"
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    status = "active"
    contract_start = datetime.date(2026, 1, 1)
    contract_end = datetime.date(2028, 1, 1)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    role = "county_staff"
    county = factory.SubFactory(CountyFactory)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    station = factory.SubFactory(StationFactory)
    county = factory.SelfAttribute("station.county")
    name = "王家"


class VillagerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Villager

    station = factory.SubFactory(StationFactory)
    county = factory.SelfAttribute("station.county")
    name = "王秀英"
    name_pinyin = factory.LazyAttribute(lambda o: name_pinyin(o.name))
    name_initials = factory.LazyAttribute(lambda o: name_initials(o.name))
    birth_year = 1950
    gender = "female"
    consent_at = factory.LazyFunction(timezone.now)


class RelativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MigrantRelative

    villager = factory.SubFactory(VillagerFactory)
    county = factory.SelfAttribute("villager.county")
    station = factory.SelfAttribute("villager.station")
    name = "王建国"
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    relation = "son"
    city = "深圳"
