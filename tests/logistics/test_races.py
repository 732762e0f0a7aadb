"""Races at the station: two scanners on one parcel, two phones planning runs with one parcel.

Each thread has its own database connection (tests.logistics.factories.run_in_threads);
exactly one writer wins and the other is answered, never a second event or notice.
"""

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict
from cuntao.logistics.delivery import delivery_run_create
from cuntao.logistics.models import DeliveryRun, DeliveryStop, ParcelEvent, ScanKind
from cuntao.logistics.services import parcels_dispatch, station_receive_scan, warehouse_scan
from cuntao.notify.models import Notice
from tests.logistics.factories import ParcelFactory, run_in_threads
from tests.logistics.test_delivery import on_shelf

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_station_scans_of_one_parcel_receive_it_once(clerk, partner, station, scope_of):
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    parcels_dispatch(scope=scope_of(clerk), station=station)

    def scan():
        return station_receive_scan(scope=scope_of(partner.user), station=station,
                                    code_or_tracking_number=parcel.code, shelf_position="C1").outcome

    results, errors = run_in_threads(scan, [(), ()])
    assert not errors, errors
    assert sorted(results) == ["duplicate", "received"]
    assert ParcelEvent.objects.filter(parcel=parcel, kind=ScanKind.STATION_SCAN).count() == 1
    assert Notice.objects.filter(dedupe_key=f"pickup:{parcel.pk}").count() == 1


def test_two_phones_planning_runs_with_one_parcel_make_one_run(partner, station, scope_of):
    parcel = on_shelf(station)

    def plan():
        try:
            return delivery_run_create(scope=scope_of(partner.user), station=station, parcel_codes=[parcel.code]).pk
        except Conflict as e:  # both chose it before either wrote: the lock decides
            return e.code
        except ValidationError:  # the other run was written before this one chose
            return "parcel_on_a_run"

    results, errors = run_in_threads(plan, [(), ()])
    assert not errors, errors
    assert DeliveryRun.objects.count() == 1
    assert sorted(map(str, results)) == sorted([str(DeliveryRun.objects.get().pk), "parcel_on_a_run"])
    assert DeliveryStop.objects.filter(parcel=parcel).count() == 1
