import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.catalog.selectors import product_search
from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.network.selectors import station_get_for_actor
from cuntao.orders.forms import OrderHeaderForm, ReasonForm
from cuntao.orders.models import MAX_QUANTITY
from cuntao.orders.selectors import (
    commission_summary,
    order_detail,
    order_get_for_actor,
    order_list,
    order_preview,
)
from cuntao.orders.services import (
    CANCELLABLE,
    PriceChanged,
    order_cancel,
    order_hand_over,
    order_place,
    order_return,
)
from cuntao.villagers.selectors import villager_list

PAGE_SIZE = 30


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _chosen_lines(post) -> list[tuple[int, int, int | None]]:
    """(product id, quantity, price seen) from the form: carried lines and quantities typed in the results."""
    lines: dict[int, tuple[int, int | None]] = {}
    for pid, qty, price in zip(post.getlist("line_product"), post.getlist("line_quantity"),
                               post.getlist("line_price"), strict=False):
        if _int(pid) and _int(qty) is not None:
            lines[_int(pid)] = (_int(qty), _int(price))
    for name, value in post.items():
        if name.startswith("qty_") and _int(name[4:]) and (_int(value) or 0) != 0:
            lines[_int(name[4:])] = (_int(value), None)
    return [(pid, qty, price) for pid, (qty, price) in lines.items() if qty != 0 or price is not None]


@login_required
def order_index(request, code: str):
    """The station's orders, newest first, each with its commission and the commission's state."""
    station = station_get_for_actor(scope=request.scope, code=code)
    orders = order_list(scope=request.scope, station_id=station.pk, status=request.GET.get("status") or None)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/index.html", {
        "station": station, "page": page,
        "commission": commission_summary(scope=request.scope, station_id=station.pk),
    })


@login_required
def order_new(request, code: str):
    """The partner's order form: find products, set quantities, preview, place."""
    station = station_get_for_actor(scope=request.scope, code=code)
    villagers = villager_list(scope=request.scope, station_id=station.pk)
    data = request.POST if request.method == "POST" else None
    initial = {"villager": _int(request.GET.get("villager"))}
    form = OrderHeaderForm(data, villagers=villagers, initial=initial)
    q = (request.POST.get("q") if data else request.GET.get("q", "")) or ""
    q = q.strip()[:50]
    results = list(product_search(scope=request.scope, q=q, limit=20)) if q else []
    chosen = _chosen_lines(request.POST) if data else []
    price_changed = None
    unconfirmed = any(price is None for _pid, _qty, price in chosen)
    if data and request.POST.get("action") == "place" and unconfirmed:
        messages.info(request, _("Check the new lines and the total with the villager, then place the order."))
    elif data and request.POST.get("action") == "place" and form.is_valid():
        try:
            order = order_place(
                scope=request.scope, station=station, villager=form.cleaned_data["villager"],
                payment_method=form.cleaned_data["payment_method"],
                lines=[(pid, qty, price) for pid, qty, price in chosen],
                idempotency_key=request.POST.get("idempotency_key", ""))
        except PriceChanged as e:
            price_changed = e.message
        except ValidationError as e:
            add_service_errors(form, e)
        except DomainError as e:
            form.add_error(None, e.message)
        else:
            messages.success(request, _("Order %(number)s is placed.") % {"number": order.number})
            return redirect("orders:detail", number=order.number)
    preview = order_preview(scope=request.scope,
                            lines=[(pid, qty) for pid, qty, _p in chosen if 1 <= qty <= MAX_QUANTITY])
    bad_quantities = [pid for pid, qty, _p in chosen if not 1 <= qty <= MAX_QUANTITY]
    return render(request, "orders/form.html", {
        "station": station, "form": form, "q": q, "results": results, "preview": preview,
        "bad_quantities": bad_quantities, "price_changed": price_changed, "max_quantity": MAX_QUANTITY,
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
    })


@login_required
def order_detail_view(request, number: str):
    order = order_get_for_actor(scope=request.scope, number=number)
    lines, events = order_detail(order=order)
    return render(request, "orders/detail.html", {
        "order": order, "station": order.station, "lines": lines, "events": events, "reason_form": ReasonForm(),
        "can_cancel": order.status in CANCELLABLE,
    })


def _act(request, number: str, action):
    order = order_get_for_actor(scope=request.scope, number=number)
    try:
        action(order)
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("Saved."))
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_hand_over_view(request, number: str):
    return _act(request, number, lambda order: order_hand_over(scope=request.scope, order=order))


@login_required
@require_POST
def order_cancel_view(request, number: str):
    return _act(request, number, lambda order: order_cancel(
        scope=request.scope, order=order, reason=request.POST.get("reason", "")))


@login_required
@require_POST
def order_return_view(request, number: str):
    return _act(request, number, lambda order: order_return(
        scope=request.scope, order=order, reason=request.POST.get("reason", "")))
