"""Farm records: checked at once against the standard; breaches are saved and flagged, never refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import DomainError, NotFound
from cuntao.produce.models import FarmRecord, HarvestLot, Violation, ViolationKind
from cuntao.produce.selectors import plot_calendar, plot_get_for_actor
from cuntao.produce.services import record_harvest, record_input_applied, record_observation, record_task_done
from tests.produce.factories import harvest, png

pytestmark = pytest.mark.django_db
MAY = datetime.date(2026, 5, 10)


def apply(kiwi, scope, *, name="有机肥", dose="300", unit="kg", on=MAY):
    plot = plot_get_for_actor(scope=scope, plot_id=kiwi.plot.pk)
    return record_input_applied(scope=scope, plot=plot, input_name=name, dose_total=dose, dose_unit=unit, applied_on=on)


def kinds(record):
    return sorted(v.kind for v in record.violations.all())


def test_allowed_input_within_dose_is_compliant(kiwi, partner, scope_of):
    record = apply(kiwi, scope_of(partner.user), dose="300")  # 150 kg/mu on 2 mu
    assert record.compliant and record.dose_per_mu == 150 and record.allowed_input == kiwi.manure
    assert record.recorded_by == partner.user and record.station == partner.station
    assert not Violation.objects.exists()


def test_input_not_on_list_is_recorded_and_flagged(kiwi, partner, scope_of):
    record = apply(kiwi, scope_of(partner.user), name="百草枯", dose="1", unit="L")
    assert FarmRecord.objects.filter(pk=record.pk, compliant=False, input_name="百草枯", allowed_input=None).exists()
    assert kinds(record) == [ViolationKind.INPUT_NOT_ALLOWED]
    assert "百草枯" in record.violations.get().detail


def test_dose_over_the_maximum_per_mu_is_flagged(kiwi, partner, scope_of):
    record = apply(kiwi, scope_of(partner.user), dose="401")  # 200.5 kg/mu > 200
    assert not record.compliant and kinds(record) == [ViolationKind.DOSE_OVER_MAX]
    assert "200.5" in record.violations.get().detail


def test_dose_exactly_at_the_maximum_is_allowed(kiwi, partner, scope_of):
    assert apply(kiwi, scope_of(partner.user), dose="400").compliant


def test_dose_in_another_unit_is_flagged_not_compared(kiwi, partner, scope_of):
    record = apply(kiwi, scope_of(partner.user), name="阿维菌素", dose="5", unit="L")
    assert kinds(record) == [ViolationKind.UNIT_MISMATCH]


def test_county_staff_record_too_and_names_match_without_spaces(kiwi, clerk, scope_of):
    record = apply(kiwi, scope_of(clerk), name=" 有机肥 ")
    assert record.allowed_input == kiwi.manure


def test_spraying_within_the_interval_before_the_season_starts_is_flagged(kiwi, partner, scope_of):
    record = apply(kiwi, scope_of(partner.user), name="阿维菌素", dose="20", unit="ml", on=datetime.date(2026, 8, 25))
    assert kinds(record) == [ViolationKind.PRE_HARVEST_INTERVAL]
    assert "2026-09-08" in record.violations.get().detail


def test_harvest_inside_the_pre_harvest_interval_is_recorded_and_flagged(kiwi, partner, scope_of):
    scope = scope_of(partner.user)
    apply(kiwi, scope, name="阿维菌素", dose="20", unit="ml", on=datetime.date(2026, 9, 15))
    lot = record_harvest(scope=scope, plot=kiwi.plot, kg="800", harvested_on=datetime.date(2026, 9, 20))
    assert HarvestLot.objects.filter(pk=lot.pk, compliant=False, kg=800).exists()
    violation = lot.record.violations.get()
    assert violation.kind == ViolationKind.PRE_HARVEST_INTERVAL and violation.status == "open"


def test_harvest_after_the_interval_is_compliant(kiwi, partner, scope_of):
    scope = scope_of(partner.user)
    apply(kiwi, scope, name="阿维菌素", dose="20", unit="ml", on=datetime.date(2026, 9, 1))
    lot = record_harvest(scope=scope, plot=kiwi.plot, kg="800", harvested_on=datetime.date(2026, 9, 15))
    assert lot.compliant and not lot.record.violations.exists()


def test_backdated_spraying_before_a_recorded_harvest_is_flagged(kiwi, partner, scope_of):
    scope = scope_of(partner.user)
    harvest(kiwi, on=datetime.date(2026, 9, 20))
    record = apply(kiwi, scope, name="阿维菌素", dose="20", unit="ml", on=datetime.date(2026, 9, 18))
    assert ViolationKind.PRE_HARVEST_INTERVAL in kinds(record)


@pytest.mark.parametrize("dose", ["0", "-3", "abc", "", None, "NaN", "1e9"])
def test_a_bad_dose_is_refused_with_a_field_error(kiwi, partner, scope_of, dose):
    with pytest.raises(ValidationError) as err:
        apply(kiwi, scope_of(partner.user), dose=dose)
    assert "dose_total" in err.value.message_dict
    assert not FarmRecord.objects.exists()


def test_a_missing_input_name_is_refused(kiwi, partner, scope_of):
    with pytest.raises(ValidationError) as err:
        apply(kiwi, scope_of(partner.user), name="  ")
    assert "input_name" in err.value.message_dict


def test_a_date_in_the_future_is_refused(kiwi, partner, scope_of):
    with pytest.raises(ValidationError) as err:
        apply(kiwi, scope_of(partner.user), on=datetime.date.today() + datetime.timedelta(days=2))
    assert "applied_on" in err.value.message_dict


def test_a_plot_of_another_station_is_not_found_for_a_partner(kiwi, other_station, scope_of):
    partner_next_door = other_station.partners.get().user
    with pytest.raises(NotFound):
        plot_get_for_actor(scope=scope_of(partner_next_door), plot_id=kiwi.plot.pk)


def test_a_plot_of_another_county_is_not_found_for_its_staff(kiwi, far_station, scope_of):
    from django.contrib.auth import get_user_model

    far_clerk = get_user_model().objects.get(username="far-clerk")
    with pytest.raises(NotFound):
        plot_get_for_actor(scope=scope_of(far_clerk), plot_id=kiwi.plot.pk)


def test_a_crop_without_a_standard_is_refused(kiwi, partner, scope_of):
    plot = kiwi.plot
    plot.crop = "tea"
    with pytest.raises(DomainError) as err:
        record_input_applied(scope=scope_of(partner.user), plot=plot, input_name="有机肥", dose_total=1, applied_on=MAY)
    assert err.value.code == "no_standard"


def test_task_done_and_the_plot_calendar(kiwi, partner, scope_of):
    scope = scope_of(partner.user)
    record_task_done(scope=scope, plot=kiwi.plot, sop_task_id=kiwi.thinning.pk, done_on=datetime.date(2026, 5, 20))
    calendar = plot_calendar(plot=kiwi.plot, on=datetime.date(2026, 6, 1))
    assert [(row["task"].name, row["state"]) for row in calendar] == [("疏果", "done")]


def test_task_of_another_standard_is_refused(kiwi, partner, scope_of):
    with pytest.raises(ValidationError) as err:
        record_task_done(scope=scope_of(partner.user), plot=kiwi.plot, sop_task_id=999999, done_on=MAY)
    assert "sop_task_id" in err.value.message_dict


def test_observation_with_a_photo(kiwi, partner, scope_of):
    record = record_observation(scope=scope_of(partner.user), plot=kiwi.plot, observed_on=MAY, note="叶片有虫眼",
                                photos=[png()])
    assert record.photos.count() == 1


def test_observation_with_a_file_that_is_not_an_image_is_refused(kiwi, partner, scope_of):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as err:
        record_observation(scope=scope_of(partner.user), plot=kiwi.plot, observed_on=MAY, note="x",
                           photos=[SimpleUploadedFile("a.png", b"not an image", content_type="image/png")])
    assert "photos" in err.value.message_dict
    assert not FarmRecord.objects.exists()


def test_empty_observation_is_refused(kiwi, partner, scope_of):
    with pytest.raises(ValidationError):
        record_observation(scope=scope_of(partner.user), plot=kiwi.plot, observed_on=MAY, note=" ")


@pytest.mark.parametrize("kg", ["0", "-1", "x", "1000001"])
def test_a_bad_harvest_weight_is_refused(kiwi, partner, scope_of, kg):
    with pytest.raises(ValidationError) as err:
        record_harvest(scope=scope_of(partner.user), plot=kiwi.plot, kg=kg, harvested_on=datetime.date(2026, 9, 20))
    assert "kg" in err.value.message_dict
    assert not HarvestLot.objects.exists()


def test_the_service_itself_refuses_a_partner_of_another_station(kiwi, other_station, scope_of):
    with pytest.raises(NotFound):
        record_observation(scope=scope_of(other_station.partners.get().user), plot=kiwi.plot, observed_on=MAY, note="x")
    assert not FarmRecord.objects.exists()
