"""Real races: threads, each with its own database connection, meeting at a barrier."""

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict
from cuntao.produce.models import BoxEvent, GradedLot, Grading, PackedBox
from cuntao.produce.services import box_reserve
from tests.orders.test_races import run_in_threads
from tests.produce.factories import boxes_of, grade, harvest, pack

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_buyers_racing_for_the_last_box_one_wins(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)

    def buy(i):
        try:
            box_reserve(box_ids=[boxes[0].pk], order_ref=f"ORDER-{i}")
            return "won"
        except Conflict as e:
            assert e.code == "box_sold"
            return "lost"

    outcomes, errors = run_in_threads(8, buy)
    assert not errors, errors
    assert outcomes.count("won") == 1 and outcomes.count("lost") == 7
    box = PackedBox.objects.get()
    assert box.status == "reserved" and BoxEvent.objects.get().order_ref == box.order_ref


def test_two_gradings_of_one_harvest_lot_make_one(kiwi):
    lot = harvest(kiwi)

    def grade_it(i):
        try:
            grade(kiwi, [lot])
            return "graded"
        except Conflict as e:
            assert e.code == "lot_closed"
            return "closed"

    outcomes, errors = run_in_threads(4, grade_it)
    assert not errors, errors
    assert outcomes.count("graded") == 1 and Grading.objects.count() == 1


def test_concurrent_packings_never_pack_more_than_was_graded(kiwi):
    lot_a = grade(kiwi, [harvest(kiwi)], grades={"A": "50"}).graded_lots.get()  # room for 10 boxes

    def pack_some(i):
        try:
            return pack(kiwi, GradedLot.objects.get(pk=lot_a.pk), boxes=4).box_count
        except (ValidationError, Conflict):
            return 0

    outcomes, errors = run_in_threads(4, pack_some)
    assert not errors, errors
    assert sum(outcomes) == 8 and PackedBox.objects.count() == 8
    assert GradedLot.objects.get(pk=lot_a.pk).packed_kg == 40
