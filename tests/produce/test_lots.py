"""Harvest lots -> grading -> graded lots -> packed boxes, with append-only lineage."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, Forbidden
from cuntao.produce.models import (
    AppendOnlyError,
    BoxStatus,
    GradedContribution,
    GradedLot,
    Grading,
    HarvestLot,
    LotStatus,
    PackedBox,
    Standard,
    Transformation,
    TransformationItem,
)
from cuntao.produce.selectors import harvest_lots_for_grading, lineage_of_box
from cuntao.produce.services import (
    box_reserve,
    box_set_status,
    grading_record,
    inspection_record,
    plot_code,
    violation_clear,
)
from tests.produce.factories import another_plot, boxes_of, grade, harvest, pack

pytestmark = pytest.mark.django_db


def test_grading_makes_one_lot_per_grade_and_closes_the_harvest_lots(kiwi):
    lot = harvest(kiwi, kg="1000")
    grading = grade(kiwi, [lot], grades={"A": "600", "B": "300", "C": "50"})
    assert {g.grade.code: g.kg for g in grading.graded_lots.all()} == {"A": 600, "B": 300, "C": 50}
    assert grading.loss_kg == 50 and grading.input_kg == 1000
    assert HarvestLot.objects.get(pk=lot.pk).status == LotStatus.CLOSED
    assert not grading.graded_lots.get(grade__code="C").branded
    samples = {(s.weight_g, s.grade.code) for s in grading.samples.all()}
    assert samples == {(120, "A"), (90, "B")}


def test_grades_adding_up_to_more_than_the_harvest_are_refused(kiwi):
    lot = harvest(kiwi, kg="1000")
    with pytest.raises(ValidationError) as err:
        grade(kiwi, [lot], grades={"A": "700", "B": "300.001"})
    assert "more than the 1000 kg harvested" in str(err.value.message_dict["grades"])
    assert not Grading.objects.exists() and HarvestLot.objects.get(pk=lot.pk).status == LotStatus.OPEN


def test_grades_adding_up_to_exactly_the_harvest_are_accepted(kiwi):
    grading = grade(kiwi, [harvest(kiwi, kg="900")], grades={"A": "600", "B": "300"})
    assert grading.loss_kg == 0


def test_a_grade_not_in_the_standard_is_refused(kiwi):
    with pytest.raises(ValidationError) as err:
        grade(kiwi, [harvest(kiwi)], grades={"AAA": "10"})
    assert "AAA" in str(err.value.message_dict["grades"])


def test_a_grade_no_sample_meets_is_refused(kiwi):
    with pytest.raises(ValidationError) as err:
        grade(kiwi, [harvest(kiwi)], grades={"A": "100"}, samples=[(130, "14.9"), (99, "18")])
    assert "A needs ≥100 g and ≥15.0 °Brix" in str(err.value.message_dict["samples"])


@pytest.mark.parametrize("samples", [[], [(0, "15")], [(120, "41")], [("x", "15")], [(120,)]])
def test_bad_samples_are_refused(kiwi, samples):
    with pytest.raises(ValidationError):
        grade(kiwi, [harvest(kiwi)], samples=samples)


def test_a_harvest_lot_graded_once_cannot_be_graded_again(kiwi):
    lot = harvest(kiwi)
    grade(kiwi, [lot])
    with pytest.raises(Conflict) as err:
        grade(kiwi, [HarvestLot.objects.get(pk=lot.pk)])
    assert err.value.code == "lot_closed"


def test_grading_before_the_harvest_is_refused(kiwi):
    with pytest.raises(ValidationError):
        grade(kiwi, [harvest(kiwi, on=datetime.date(2026, 9, 25))], on=datetime.date(2026, 9, 24))


def test_a_partner_may_not_grade(kiwi, partner, scope_of):
    with pytest.raises(Forbidden):
        grading_record(scope=scope_of(partner.user), harvest_lots=[harvest(kiwi)], grade_kg={"A": 1},
                       samples=[(120, 16)], graded_on=datetime.date(2026, 9, 22))


def test_unknown_harvest_lot_codes_are_not_found(kiwi, clerk, scope_of):
    from cuntao.core.errors import NotFound

    with pytest.raises(NotFound):
        harvest_lots_for_grading(scope=scope_of(clerk), codes=["H000000-XXXXX"])


def test_contributions_share_each_grade_by_harvest_weight(kiwi, other_station):
    mine = harvest(kiwi, kg="100")
    theirs = harvest(kiwi, plot=another_plot(kiwi, village=other_station.village), kg="200")
    grading = grade(kiwi, [mine, theirs], grades={"A": "100", "B": "100"})
    lot_a = grading.graded_lots.get(grade__code="A")
    shares = {c.harvest_lot_id: c.kg for c in lot_a.contributions.all()}
    assert shares == {mine.pk: Decimal("33.333"), theirs.pk: Decimal("66.667")}
    assert sum(GradedContribution.objects.values_list("kg", flat=True)) == 200


def test_packing_makes_boxes_with_unique_codes_and_counts_packed_kg(kiwi):
    lot_a, boxes = boxes_of(kiwi, count=10)
    assert len({b.code for b in boxes}) == 10 and all(b.status == BoxStatus.IN_STOCK for b in boxes)
    assert GradedLot.objects.get(pk=lot_a.pk).packed_kg == 50


def test_packing_more_than_was_graded_is_refused(kiwi):
    lot_a = grade(kiwi, [harvest(kiwi)]).graded_lots.get(grade__code="A")  # 600 kg
    pack(kiwi, lot_a, boxes=100)  # 500 kg
    with pytest.raises(ValidationError) as err:
        pack(kiwi, GradedLot.objects.get(pk=lot_a.pk), boxes=21)
    assert "the lot has 100 kg left" in str(err.value.message_dict["box_count"])
    assert PackedBox.objects.count() == 100


def test_packing_the_last_kilograms_closes_the_lot(kiwi):
    lot_a = grade(kiwi, [harvest(kiwi)], grades={"A": "12"}).graded_lots.get()
    pack(kiwi, lot_a, boxes=2)
    assert GradedLot.objects.get(pk=lot_a.pk).status == LotStatus.CLOSED
    with pytest.raises(Conflict):
        pack(kiwi, GradedLot.objects.get(pk=lot_a.pk), boxes=1)


@pytest.mark.parametrize("count", [0, -1, 2001, "3", True])
def test_a_bad_box_count_is_refused(kiwi, count):
    lot_a = grade(kiwi, [harvest(kiwi)]).graded_lots.get(grade__code="A")
    with pytest.raises(ValidationError):
        pack(kiwi, lot_a, boxes=count)


def test_packing_a_pack_of_another_grade_is_refused(kiwi):
    lot_a = grade(kiwi, [harvest(kiwi)]).graded_lots.get(grade__code="A")
    with pytest.raises(ValidationError) as err:
        pack(kiwi, lot_a, pack_size=kiwi.pack_b)
    assert "pack_size_id" in err.value.message_dict


def test_unbranded_grade_cannot_be_packed_into_branded_boxes(kiwi):
    lot_c = grade(kiwi, [harvest(kiwi)], grades={"C": "100"}).graded_lots.get()
    with pytest.raises(Conflict) as err:
        pack(kiwi, lot_c)
    assert err.value.code == "not_branded"


def test_an_open_violation_blocks_branded_packing_until_an_inspector_clears_it(kiwi, inspector, scope_of):
    lot_a = grade(kiwi, [harvest(kiwi)]).graded_lots.get(grade__code="A")
    inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result="failed",
                      inspected_on=datetime.date(2026, 9, 22), note="残留超标")
    with pytest.raises(Conflict) as err:
        pack(kiwi, lot_a)
    assert err.value.code == "open_violation"
    violation = kiwi.plot.violations.get()
    violation_clear(scope=scope_of(inspector), violation=violation, note="复检合格")
    assert pack(kiwi, lot_a).boxes.count() == 10


def test_lineage_leads_from_a_box_back_to_every_contributing_plot(kiwi, other_station):
    second = another_plot(kiwi, village=other_station.village)
    lots = [harvest(kiwi, kg="500"), harvest(kiwi, plot=second, kg="500")]
    lot_a = grade(kiwi, lots).graded_lots.get(grade__code="A")
    box = pack(kiwi, lot_a, boxes=1).boxes.get()
    found = lineage_of_box(code=box.code)
    assert found["plot"] == {plot_code(kiwi.plot), plot_code(second)}
    assert found["harvest_lot"] == {lot.code for lot in lots}
    assert found["graded_lot"] == {lot_a.code}


def test_lineage_rows_are_append_only(kiwi):
    harvest(kiwi)
    step = Transformation.objects.get()
    with pytest.raises(AppendOnlyError):
        step.save()
    with pytest.raises(AppendOnlyError):
        step.delete()
    with pytest.raises(AppendOnlyError):
        TransformationItem.objects.first().save()


def test_box_reserved_once_then_refused_for_another_order(kiwi):
    _lot, boxes = boxes_of(kiwi, count=2)
    assert box_reserve(box_ids=[boxes[0].pk], order_ref="ORD-1") == 1
    with pytest.raises(Conflict) as err:
        box_reserve(box_ids=[boxes[0].pk, boxes[1].pk], order_ref="ORD-2")
    assert err.value.code == "box_sold"
    assert PackedBox.objects.get(pk=boxes[1].pk).status == BoxStatus.IN_STOCK  # all or none


def test_box_moves_through_sold_and_shipped_and_not_back(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    box_reserve(box_ids=[boxes[0].pk], order_ref="ORD-1")
    box = box_set_status(box=boxes[0], to_status=BoxStatus.SOLD)
    box = box_set_status(box=box, to_status=BoxStatus.SHIPPED)
    assert list(box.events.values_list("to_status", flat=True)) == ["reserved", "sold", "shipped"]
    with pytest.raises(Conflict):
        box_set_status(box=box, to_status=BoxStatus.IN_STOCK)


def test_the_database_refuses_a_box_out_of_stock_without_an_order(kiwi):
    from django.db import IntegrityError, transaction

    _lot, boxes = boxes_of(kiwi, count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PackedBox.objects.filter(pk=boxes[0].pk).update(status=BoxStatus.SOLD)


def test_a_sold_box_goes_back_to_stock_before_it_ships(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    box_reserve(box_ids=[boxes[0].pk], order_ref="ORD-1", to_status=BoxStatus.SOLD)
    box = box_set_status(box=boxes[0], to_status=BoxStatus.IN_STOCK, note="order cancelled")
    assert box.status == BoxStatus.IN_STOCK and box.order_ref == ""
    assert box_reserve(box_ids=[box.pk], order_ref="ORD-2") == 1


def test_branded_packing_needs_the_pre_harvest_inspections_the_plan_asks_for(kiwi, inspector, scope_of):
    Standard.objects.filter(pk=kiwi.standard.pk).update(inspections_before_harvest=1)
    lot_a = grade(kiwi, [harvest(kiwi, on=datetime.date(2026, 9, 20))]).graded_lots.get(grade__code="A")
    inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result="passed",
                      inspected_on=datetime.date(2026, 9, 21))  # after the harvest: does not count
    with pytest.raises(Conflict) as err:
        pack(kiwi, GradedLot.objects.get(pk=lot_a.pk))
    assert err.value.code == "inspections_missing"
    inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result="passed",
                      inspected_on=datetime.date(2026, 9, 15))
    assert pack(kiwi, GradedLot.objects.get(pk=lot_a.pk)).box_count == 10
