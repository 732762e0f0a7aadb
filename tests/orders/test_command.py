from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from cuntao.orders.models import Order
from cuntao.orders.services import order_advance, order_hand_over
from tests.orders.factories import place, rice_cooker, villager_at


def test_daily_command_completes_orders_whose_window_passed_and_no_others(partner, clerk, station, scope_of):
    scope, staff = scope_of(partner.user), scope_of(clerk)
    cooker = rice_cooker()
    old, fresh = (place(scope, station, villager_at(station), cooker) for _ in range(2))
    for order in (old, fresh):
        for status in ("shipped", "at_county_warehouse", "at_station"):
            order = order_advance(scope=staff, order=order, to_status=status)
        order_hand_over(scope=scope, order=order)
    Order.objects.filter(pk=old.pk).update(handed_over_at=timezone.now() - timedelta(days=8))
    out = StringIO()
    call_command("orders_complete_due", stdout=out)
    assert "completed 1 orders" in out.getvalue()
    assert dict(Order.objects.values_list("pk", "status")) == {old.pk: "completed", fresh.pk: "handed_over"}
    assert Order.objects.get(pk=old.pk).commission_state == "earned"
