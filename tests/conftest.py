import pytest
from django.test import Client

from tests.factories import PartnerFactory, StaffFactory, StationFactory, UserFactory


@pytest.fixture
def station(db):
    return StationFactory()


@pytest.fixture
def partner(station):
    return PartnerFactory(station=station, user=UserFactory(username="xiaoer"))


@pytest.fixture
def other_station(db, station):
    """A station in the same county as `station`, with its own partner."""
    other = StationFactory(village__county=station.county)
    PartnerFactory(station=other, user=UserFactory(username="xiaoer-next-door"))
    return other


@pytest.fixture
def far_station(db):
    """A station in another county, with its own partner and staff."""
    far = StationFactory()
    PartnerFactory(station=far, user=UserFactory(username="xiaoer-far"))
    StaffFactory(county=far.county, user=UserFactory(username="far-clerk"))
    return far


@pytest.fixture
def clerk(station):
    """County staff of `station`'s county."""
    return StaffFactory(county=station.county, user=UserFactory(username="clerk")).user


@pytest.fixture
def programme_admin(db):
    return StaffFactory(role="programme_admin", county=None, user=UserFactory(username="boss")).user


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def partner_client(partner):
    return login(partner.user)


@pytest.fixture
def clerk_client(clerk):
    return login(clerk)


@pytest.fixture
def scope_of():
    from cuntao.core.scope import resolve_scope

    return resolve_scope
