"""The logistics demo seed: on the demo network, once, through the services."""

import pytest

from cuntao.logistics.demo import COMING_TO_STATION, WAITING_AT_STATION, logistics_seed_demo
from cuntao.logistics.models import CountyFleet, HomeLocation, Parcel, ParcelStatus
from cuntao.notify.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_network():
    from cuntao.demo.services import network_seed_demo

    network_seed_demo()


def test_seed_gives_jinzhai_a_fleet_and_parcels_to_see(demo_network):
    made = logistics_seed_demo()
    assert made > WAITING_AT_STATION + COMING_TO_STATION
    assert CountyFleet.objects.get(county__code="JZ").vehicle_count == 3
    home = Parcel.objects.filter(station__code="JZ-0001")
    assert home.filter(status=ParcelStatus.AT_STATION).count() == WAITING_AT_STATION
    assert home.filter(status=ParcelStatus.IN_TRANSIT).count() == COMING_TO_STATION
    oldest = home.filter(status=ParcelStatus.AT_STATION).order_by("arrived_at_station_at").first()
    assert oldest.events.order_by("at").last().at <= oldest.arrived_at_station_at
    assert Parcel.objects.filter(county__code="JZ", status=ParcelStatus.SORTED).exclude(
        station__code="JZ-0001").values("station").distinct().count() >= 2
    assert Notice.objects.filter(kind="pickup_code").count() == WAITING_AT_STATION
    assert HomeLocation.objects.filter(station__code="JZ-0001").count() == WAITING_AT_STATION + COMING_TO_STATION - 1
    assert logistics_seed_demo() == 0
    assert Parcel.objects.count() == made
