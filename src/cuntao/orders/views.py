import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cuntao.catalog.selectors import product_search
from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.core.money import format_fen, plain_yuan
from cuntao.network.selectors import county_get_for_actor, station_get_for_actor
from cuntao.orders.forms import (
    CreditLimitForm,
    CreditRepayForm,
    ExternalOrderForm,
    FlagReviewForm,
    OrderHeaderForm,
    ReasonForm,
)
from cuntao.orders.fraud import county_flags, review_list
from cuntao.orders.models import MAX_QUANTITY, OrderStatus, ReviewOutcome
from cuntao.orders.parcels import order_hand_over_at_counter, order_parcel, order_ship
from cuntao.orders.payment_views import payment_panel
from cuntao.orders.selectors import (
    ORDER_BOARD_STAGES,
    commission_summary,
    county_order_board,
    county_order_board_counts,
    credit_account_for,
    credit_debtors,
    credit_history,
    external_order_events,
    external_order_get_for_actor,
    external_order_list,
    order_detail,
    order_get_for_actor,
    order_list,
    order_next_status,
    order_preview,
)
from cuntao.orders.services import (
    CANCELLABLE,
    CREDIT_LIMIT_MAX_FEN,
    PriceChanged,
    credit_limit_set,
    credit_repay,
    external_order_act,
    external_order_record,
    flag_review,
    order_advance,
    order_cancel,
    order_place,
    order_return,
)
from cuntao.villagers.selectors import villager_get_for_actor, villager_list

STAGE_LABELS = {
    "to_ship": gettext_lazy("To ship"),
    OrderStatus.SHIPPED: OrderStatus.SHIPPED.label,
    OrderStatus.AT_COUNTY_WAREHOUSE: OrderStatus.AT_COUNTY_WAREHOUSE.label,
    OrderStatus.AT_STATION: OrderStatus.AT_STATION.label,
}

PAGE_SIZE = 30
EXTERNAL_SHOWN = 20  # the station's latest external-marketplace orders on its order page


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
        "external_orders": external_order_list(scope=request.scope, station_id=station.pk)[:EXTERNAL_SHOWN],
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
                idempotency_key=request.POST.get("idempotency_key", ""),
                relative_id=form.cleaned_data["relative"].pk if form.cleaned_data.get("relative") else None)
        except PriceChanged as e:
            price_changed = e.message
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
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
        "next_status": _staff_next_status(request, order),
        "parcel": order_parcel(scope=request.scope, order=order),
        **payment_panel(request, order),
    })


def _staff_next_status(request, order) -> OrderStatus | None:
    """The status county staff may move this order to from its page, or None."""
    next_status = order_next_status(order) if request.scope.is_staff_scope else None
    return OrderStatus(next_status) if next_status else None


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
    return _act(request, number, lambda order: order_hand_over_at_counter(scope=request.scope, order=order))


@login_required
@require_POST
def order_ship_view(request, number: str):
    """County staff: the merchant shipped the order; its parcel is announced to the warehouse."""
    return _act(request, number, lambda order: order_ship(
        scope=request.scope, order=order, carrier=request.POST.get("carrier", ""),
        tracking_number=request.POST.get("tracking_number", "")))


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


# --- credit (赊账) ---------------------------------------------------------------------

def _credit_page(request, villager, *, limit_form=None, repay_form=None, status=200):
    account = credit_account_for(scope=request.scope, villager_id=villager.pk)
    return render(request, "orders/credit.html", {
        "villager": villager, "station": villager.station, "account": account,
        "history": credit_history(scope=request.scope, villager_id=villager.pk),
        "limit_form": limit_form or CreditLimitForm(initial={"limit_fen": plain_yuan(account.limit_fen if account else 0)}),
        "repay_form": repay_form or CreditRepayForm(initial={"token": uuid.uuid4().hex}),
        "limit_max_fen": CREDIT_LIMIT_MAX_FEN,
    }, status=status)


@login_required
def credit_view(request, villager_id: int):
    """A villager's credit: the limit, what they owe, their credit orders and repayments."""
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    return _credit_page(request, villager)


@login_required
@require_POST
def credit_limit_view(request, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    form = CreditLimitForm(request.POST)
    if form.is_valid():
        try:
            credit_limit_set(scope=request.scope, villager=villager, limit_fen=form.cleaned_data["limit_fen"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The credit limit of %(villager)s is now %(limit)s.")
                             % {"villager": villager.name, "limit": format_fen(form.cleaned_data["limit_fen"])})
            return redirect("orders:credit", villager_id=villager.pk)
    return _credit_page(request, villager, limit_form=form, status=400)


@login_required
@require_POST
def credit_repay_view(request, villager_id: int):
    """Take cash paid back: it goes into the station's cash in hand through the ledger."""
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    form = CreditRepayForm(request.POST)
    if form.is_valid():
        try:
            credit_repay(scope=request.scope, villager=villager, amount_fen=form.cleaned_data["amount_fen"],
                         dedupe_key=f"page:{villager.pk}:{form.cleaned_data['token']}")
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(amount)s cash taken from %(villager)s; put it with the station's cash.")
                             % {"amount": format_fen(form.cleaned_data["amount_fen"]), "villager": villager.name})
            return redirect("orders:credit", villager_id=villager.pk)
    return _credit_page(request, villager, repay_form=form, status=400)


@login_required
def credit_index(request, code: str):
    """The station's villagers who owe money on credit, the largest debt first."""
    station = station_get_for_actor(scope=request.scope, code=code)
    villager_id = _int(request.GET.get("villager"))
    if villager_id:  # "give credit to someone new": the picker below sends the villager here
        return redirect("orders:credit", villager_id=villager_id)
    debtors = list(credit_debtors(scope=request.scope, station_id=station.pk))
    return render(request, "orders/credit_index.html", {
        "station": station, "debtors": debtors, "total_fen": sum(a.outstanding_fen for a in debtors),
        "villagers": villager_list(scope=request.scope, station_id=station.pk)})


# --- county staff moving orders along --------------------------------------------------

def _require_staff(request) -> None:
    if not request.scope.is_staff_scope:
        raise PermissionDenied(_("Only county staff move orders along their way."))


@login_required
def county_orders(request, county_id: int):
    """County staff's board: orders by stage, oldest first, with a button to move them on."""
    _require_staff(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    stage = request.GET.get("stage") or "to_ship"
    if stage not in ORDER_BOARD_STAGES:
        stage = "to_ship"
    orders = county_order_board(scope=request.scope, county_id=county.pk, stage=stage)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = county_order_board_counts(scope=request.scope, county_id=county.pk)
    stages = [(key, STAGE_LABELS[key], counts[key]) for key in ORDER_BOARD_STAGES]
    next_status = ORDER_BOARD_STAGES[stage]
    return render(request, "orders/county_orders.html", {
        "county": county, "stage": stage, "stages": stages, "page": page,
        "next_status": next_status, "next_label": OrderStatus(next_status).label if next_status else "",
    })


@login_required
@require_POST
def county_orders_advance(request, county_id: int):
    """Move the ticked orders to the next stage; each on its own, so one refusal keeps the rest."""
    _require_staff(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    to_status = request.POST.get("to_status", "")
    stage = request.POST.get("stage", "to_ship")
    moved, refused = 0, []
    for number in request.POST.getlist("number")[:PAGE_SIZE * 4]:
        try:
            order = order_get_for_actor(scope=request.scope, number=number)
            if order.county_id != county.pk:
                continue
            order_advance(scope=request.scope, order=order, to_status=to_status)
        except ValidationError as e:
            refused.append(" ".join(e.messages))
        except DomainError as e:
            refused.append(str(e.message))
        else:
            moved += 1
    if moved:
        messages.success(request, ngettext("%(count)s order moved.", "%(count)s orders moved.", moved)
                         % {"count": moved})
    elif not refused:
        messages.info(request, _("Tick the orders to move first."))
    for message in refused[:10]:
        messages.error(request, message)
    return redirect(f"{reverse('orders:county_orders', args=[county.pk])}?stage={stage}")


@login_required
@require_POST
def order_advance_view(request, number: str):
    return _act(request, number, lambda order: order_advance(
        scope=request.scope, order=order, to_status=request.POST.get("to_status", "")))


# --- external-marketplace orders -------------------------------------------------------

@login_required
def external_new(request, code: str):
    """Record an order placed for a villager on Taobao, Pinduoduo, JD, Douyin or elsewhere."""
    station = station_get_for_actor(scope=request.scope, code=code)
    villagers = villager_list(scope=request.scope, station_id=station.pk)
    form = ExternalOrderForm(request.POST or None, villagers=villagers,
                             initial={"villager": _int(request.GET.get("villager"))})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = external_order_record(
                scope=request.scope, station=station, villager=data["villager"], platform=data["platform"],
                platform_order_number=data["platform_order_number"], amount_fen=data["amount_fen"],
                description=data["description"], carrier=data["carrier"], tracking_number=data["tracking_number"])
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(order)s is recorded; the station tracks it until it is handed over.")
                             % {"order": order})
            return redirect("orders:external_detail", external_order_id=order.pk)
    return render(request, "orders/external_form.html", {"station": station, "form": form},
                  status=400 if form.errors else 200)


@login_required
def external_detail(request, external_order_id: int):
    order = external_order_get_for_actor(scope=request.scope, external_order_id=external_order_id)
    return render(request, "orders/external_detail.html", {
        "order": order, "station": order.station, "events": external_order_events(external_order=order),
        "reason_form": ReasonForm(),
    })


@login_required
@require_POST
def external_act(request, external_order_id: int):
    order = external_order_get_for_actor(scope=request.scope, external_order_id=external_order_id)
    try:
        external_order_act(scope=request.scope, external_order=order, action=request.POST.get("action", ""),
                           reason=request.POST.get("reason", ""))
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("Saved."))
    return redirect("orders:external_detail", external_order_id=order.pk)


# --- fraud signals ---------------------------------------------------------------------

def _flags_page(request, county, *, form_errors=None, status=200):
    flags = county_flags(scope=request.scope, county_id=county.pk)
    return render(request, "orders/fraud_flags.html", {
        "county": county, "flags": flags, "open_count": sum(1 for f in flags if f.review is None),
        "reviews": review_list(scope=request.scope, county_id=county.pk),
        "outcomes": ReviewOutcome.choices, "form_errors": form_errors or {},
    }, status=status)


@login_required
def fraud_flags(request, county_id: int):
    """Fraud signals for county review, each with the orders behind it; flags, not punishment."""
    _require_staff(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    return _flags_page(request, county)


@login_required
@require_POST
def fraud_flag_review(request, county_id: int):
    _require_staff(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    form = FlagReviewForm(request.POST)
    key = request.POST.get("flag_key", "")
    if form.is_valid():
        try:
            flag_review(scope=request.scope, county_id=county.pk, flag_key=form.cleaned_data["flag_key"],
                        outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"])
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Review saved."))
            return redirect("orders:fraud_flags", county_id=county.pk)
    return _flags_page(request, county, form_errors={key: form.errors}, status=400)
