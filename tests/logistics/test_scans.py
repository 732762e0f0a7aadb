"""Scans at the county warehouse and at the station, and the receipt's discrepancies."""

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, Forbidden, NotFound
from cuntao.logistics.models import (
    DiscrepancyKind,
    ParcelEvent,
    ParcelStatus,
    ReceiptDiscrepancy,
    ScanKind,
)
from cuntao.logistics.services import (
    UnknownParcel,
    parcels_dispatch,
    station_receipt_close,
    station_receive_scan,
    warehouse_scan,
)
from cuntao.notify.models import Notice
from tests.logistics.factories import ParcelFactory, run_in_threads

pytestmark = pytest.mark.django_db


def test_warehouse_scan_sorts_the_parcel_and_names_station_and_village(clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    result = warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code.lower())
    parcel.refresh_from_db()
    assert result.outcome == "sorted"
    assert (result.station_code, result.village) == (station.code, station.village.name)
    assert parcel.status == ParcelStatus.SORTED
    event = parcel.events.get(kind=ScanKind.WAREHOUSE_SCAN)
    assert (event.from_status, event.to_status, event.actor, event.place) == ("announced", "sorted", clerk, "WH")


def test_warehouse_scan_finds_a_parcel_by_carrier_tracking_number(clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    assert warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.carrier_tracking_no).parcel == parcel


def test_duplicate_warehouse_scan_is_idempotent(clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    again = warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    assert again.outcome == "duplicate" and again.station_code == station.code
    assert parcel.events.filter(kind=ScanKind.WAREHOUSE_SCAN).count() == 1
    assert type(parcel).objects.count() == 1


def test_unknown_code_at_the_warehouse_says_what_to_do(clerk, station, scope_of):
    with pytest.raises(UnknownParcel) as caught:
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number="CTNOSUCH1")
    assert caught.value.status == 404
    assert "register it" in caught.value.message


def test_empty_scan_is_a_field_error(clerk, scope_of):
    with pytest.raises(ValidationError) as caught:
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number="  ")
    assert "code" in caught.value.message_dict


def test_damaged_scan_holds_the_parcel_at_the_warehouse(clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    result = warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code, damaged=True)
    parcel.refresh_from_db()
    assert result.outcome == "damaged"
    assert parcel.status == ParcelStatus.DAMAGED and parcel.is_damaged
    assert parcel.events.get(kind=ScanKind.WAREHOUSE_SCAN).note == "damaged"


def test_parcel_without_known_villager_is_sorted_and_flagged(clerk, station, scope_of):
    parcel = ParcelFactory(station=station, villager=None, addressee_name="张三")
    result = warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    assert result.outcome == "no_addressee"


def test_partner_cannot_scan_at_the_warehouse(partner, station, scope_of):
    parcel = ParcelFactory(station=station)
    with pytest.raises(Forbidden):
        warehouse_scan(scope=scope_of(partner.user), code_or_tracking_number=parcel.code)


def test_county_staff_cannot_scan_another_countys_parcel(clerk, far_station, scope_of):
    parcel = ParcelFactory(station=far_station)
    with pytest.raises(UnknownParcel):
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.ANNOUNCED


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_warehouse_scans_make_one_arrival_event(clerk, station, scope_of):
    parcel = ParcelFactory(station=station)
    results, errors = run_in_threads(
        lambda: warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code).outcome, [(), ()])
    assert not errors
    assert sorted(results) == ["duplicate", "sorted"]
    assert ParcelEvent.objects.filter(parcel=parcel, kind=ScanKind.WAREHOUSE_SCAN).count() == 1


def sorted_parcel(clerk, scope_of, **kwargs):
    parcel = ParcelFactory(**kwargs)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    return parcel


def test_station_scan_puts_the_parcel_on_the_shelf_and_queues_a_pickup_notice(clerk, partner, station, scope_of):
    parcel = sorted_parcel(clerk, scope_of, station=station, villager__phone="+8613900001111")
    parcels_dispatch(scope=scope_of(clerk), station=station)
    result = station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code,
                                  shelf_position="A3")
    parcel.refresh_from_db()
    assert result.outcome == "received"
    assert (parcel.status, parcel.shelf_position) == (ParcelStatus.AT_STATION, "A3")
    assert parcel.arrived_at_station_at is not None and len(parcel.pickup_code_digest) == 64
    notice = Notice.objects.get(dedupe_key=f"pickup:{parcel.pk}")
    assert notice.kind == "pickup_code" and notice.villager_id == parcel.villager_id
    assert list(parcel.events.values_list("kind", flat=True)) == ["warehouse_scan", "dispatched", "station_scan"]


def test_pickup_code_is_stored_only_as_a_digest(clerk, partner, station, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: "271828")
    parcel = sorted_parcel(clerk, scope_of, station=station)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    parcel.refresh_from_db()
    assert "271828" not in parcel.pickup_code_digest
    assert "271828" in Notice.objects.get(dedupe_key=f"pickup:{parcel.pk}").text


def test_duplicate_station_scan_changes_nothing(clerk, partner, station, scope_of):
    parcel = sorted_parcel(clerk, scope_of, station=station)
    scope = scope_of(partner.user)
    station_receive_scan(scope=scope, station=station, code_or_tracking_number=parcel.code, shelf_position="A1")
    again = station_receive_scan(scope=scope, station=station, code_or_tracking_number=parcel.code, shelf_position="B2")
    parcel.refresh_from_db()
    assert again.outcome == "duplicate" and parcel.shelf_position == "A1"
    assert parcel.events.filter(kind=ScanKind.STATION_SCAN).count() == 1
    assert Notice.objects.filter(dedupe_key=f"pickup:{parcel.pk}").count() == 1


def test_parcel_of_another_station_is_refused_naming_the_right_station(clerk, partner, station, other_station,
                                                                       scope_of):
    parcel = sorted_parcel(clerk, scope_of, station=other_station)
    with pytest.raises(Conflict) as caught:
        station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    assert caught.value.code == "wrong_station" and other_station.code in caught.value.message
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.SORTED


def test_partner_cannot_scan_in_at_another_station(clerk, partner, other_station, scope_of):
    parcel = sorted_parcel(clerk, scope_of, station=other_station)
    with pytest.raises(NotFound):
        station_receive_scan(scope=scope_of(partner.user), station=other_station, code_or_tracking_number=parcel.code)


def test_unknown_code_at_the_station_is_recorded_as_unexpected(partner, station, scope_of):
    result = station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number="YT999")
    assert result.outcome == "unknown"
    row = ReceiptDiscrepancy.objects.get()
    assert (row.kind, row.scanned_code, row.station) == (DiscrepancyKind.UNEXPECTED, "YT999", station)


def test_parcel_never_sorted_is_taken_in_but_reported_unexpected(partner, station, scope_of):
    parcel = ParcelFactory(station=station)  # never scanned at the warehouse
    result = station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    assert result.outcome == "unexpected"
    assert ReceiptDiscrepancy.objects.get().parcel == parcel
    assert parcel.events.get(kind=ScanKind.UNEXPECTED).to_status == ParcelStatus.AT_STATION


def test_closing_the_receipt_marks_expected_but_unscanned_parcels_missing(clerk, partner, station, other_station,
                                                                          scope_of):
    arrived = sorted_parcel(clerk, scope_of, station=station)
    lost = sorted_parcel(clerk, scope_of, station=station)
    elsewhere = sorted_parcel(clerk, scope_of, station=other_station)
    scope = scope_of(partner.user)
    station_receive_scan(scope=scope, station=station, code_or_tracking_number=arrived.code)
    station_receive_scan(scope=scope, station=station, code_or_tracking_number="SF-STRAY")
    receipt = station_receipt_close(scope=scope, station=station)
    for p in (arrived, lost, elsewhere):
        p.refresh_from_db()
    assert (arrived.status, lost.status, elsewhere.status) == ("at_station", "missing", "sorted")
    assert receipt.closed_at is not None and receipt.closed_by == partner.user
    kinds = sorted(receipt.discrepancies.values_list("kind", "parcel_id", "scanned_code"))
    assert kinds == [("missing", lost.pk, ""), ("unexpected", None, "SF-STRAY")]
    assert lost.events.get(kind=ScanKind.MISSING).from_status == "sorted"


def test_after_closing_the_next_scan_opens_a_new_receipt(partner, station, scope_of):
    scope = scope_of(partner.user)
    first = station_receipt_close(scope=scope, station=station)
    station_receive_scan(scope=scope, station=station, code_or_tracking_number="X1")
    assert ReceiptDiscrepancy.objects.get().receipt != first


def test_missing_parcel_that_turns_up_is_taken_in_as_unexpected(clerk, partner, station, scope_of):
    parcel = sorted_parcel(clerk, scope_of, station=station)
    scope = scope_of(partner.user)
    station_receipt_close(scope=scope, station=station)
    result = station_receive_scan(scope=scope, station=station, code_or_tracking_number=parcel.code)
    parcel.refresh_from_db()
    assert result.outcome == "unexpected" and parcel.status == ParcelStatus.AT_STATION
