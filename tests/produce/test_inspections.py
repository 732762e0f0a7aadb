"""Inspectors: scoped to assigned cooperatives; a failure opens a violation; clearing needs a note."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, Forbidden, NotFound
from cuntao.produce.models import InspectorAssignment, ViolationStatus
from cuntao.produce.selectors import inspector_plot_get, inspector_plots
from cuntao.produce.services import inspection_record, inspector_assign, record_input_applied, violation_clear
from tests.factories import UserFactory
from tests.produce.factories import kiwi_cooperative, png

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 8, 30)


def inspect(scope, kiwi, result="passed", note="", **kwargs):
    return inspection_record(scope=scope, plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result=result,
                             inspected_on=DAY, note=note, **kwargs)


def test_a_passed_inspection_with_photos(kiwi, inspector, scope_of):
    inspection = inspect(scope_of(inspector), kiwi, note="果面干净", photos=[png(), png("b.png")])
    assert inspection.result == "passed" and inspection.photos.count() == 2
    assert not kiwi.plot.violations.exists()


def test_a_failed_inspection_opens_a_violation_on_the_plot(kiwi, inspector, scope_of):
    inspect(scope_of(inspector), kiwi, result="failed", note="发现违禁农药空瓶")
    violation = kiwi.plot.violations.get()
    assert violation.status == ViolationStatus.OPEN and "发现违禁农药空瓶" in violation.detail


def test_a_failed_inspection_needs_a_note(kiwi, inspector, scope_of):
    with pytest.raises(ValidationError) as err:
        inspect(scope_of(inspector), kiwi, result="failed")
    assert "note" in err.value.message_dict


def test_a_bad_result_or_checkpoint_is_refused(kiwi, inspector, scope_of):
    with pytest.raises(ValidationError):
        inspect(scope_of(inspector), kiwi, result="maybe")
    with pytest.raises(ValidationError):
        inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=999999, result="passed", inspected_on=DAY)


def test_an_inspector_sees_only_assigned_cooperatives(kiwi, inspector, station, scope_of):
    other = kiwi_cooperative(station=station, slug="other")
    scope = scope_of(inspector)
    assert list(inspector_plots(scope=scope)) == [kiwi.plot]
    with pytest.raises(NotFound):
        inspector_plot_get(scope=scope, plot_id=other.plot.pk)
    with pytest.raises(NotFound):
        inspection_record(scope=scope, plot=other.plot, checkpoint_id=other.checkpoint.pk, result="passed", inspected_on=DAY)


def test_county_staff_without_an_assignment_cannot_inspect(kiwi, clerk, scope_of):
    with pytest.raises(NotFound):
        inspect(scope_of(clerk), kiwi)


def test_county_staff_assign_inspectors_once(kiwi, clerk, scope_of):
    user = UserFactory(username="new-inspector")
    inspector_assign(scope=scope_of(clerk), user=user, cooperative=kiwi.coop)
    assert InspectorAssignment.objects.filter(user=user, cooperative=kiwi.coop, assigned_by=clerk).exists()
    with pytest.raises(Conflict):
        inspector_assign(scope=scope_of(clerk), user=user, cooperative=kiwi.coop)


def test_a_partner_cannot_assign_inspectors(kiwi, partner, scope_of):
    with pytest.raises(Forbidden):
        inspector_assign(scope=scope_of(partner.user), user=partner.user, cooperative=kiwi.coop)


def test_staff_of_another_county_cannot_assign(kiwi, far_station, scope_of):
    from django.contrib.auth import get_user_model

    far_clerk = get_user_model().objects.get(username="far-clerk")
    with pytest.raises(NotFound):
        inspector_assign(scope=scope_of(far_clerk), user=far_clerk, cooperative=kiwi.coop)


def test_an_inspector_clears_a_violation_with_a_note_once(kiwi, inspector, scope_of):
    record = record_input_applied(scope=kiwi.scope, plot=kiwi.plot, input_name="百草枯", dose_total=1, dose_unit="L",
                                  applied_on=datetime.date(2026, 5, 1))
    violation = record.violations.get()
    with pytest.raises(ValidationError):
        violation_clear(scope=scope_of(inspector), violation=violation, note="  ")
    cleared = violation_clear(scope=scope_of(inspector), violation=violation, note="已铲除并复检合格")
    assert cleared.status == ViolationStatus.CLEARED and cleared.cleared_by == inspector
    with pytest.raises(Conflict):
        violation_clear(scope=scope_of(inspector), violation=violation, note="again")


def test_a_partner_cannot_clear_a_violation(kiwi, partner, scope_of):
    record = record_input_applied(scope=kiwi.scope, plot=kiwi.plot, input_name="百草枯", dose_total=1, dose_unit="L",
                                  applied_on=datetime.date(2026, 5, 1))
    with pytest.raises(NotFound):
        violation_clear(scope=scope_of(partner.user), violation=record.violations.get(), note="ok")
