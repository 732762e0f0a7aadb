"""The shop's pages: a public window, the buyer's cart, checkout and orders, the cooperative's work."""

import uuid
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.core.money import parse_yuan
from cuntao.shop import selectors, services
from cuntao.shop.feed import feed_csv, feed_row
from cuntao.shop.forms import (
    BuyerLoginForm,
    BuyerRegisterForm,
    DeliveryForm,
    QuantityForm,
    ReasonForm,
    RefundForm,
    ShipForm,
)
from cuntao.shop.models import Buyer, ShopOrderStatus


def _is_buyer(request) -> bool:
    return request.user.is_authenticated and Buyer.objects.filter(user_id=request.user.pk).exists()


def buyer_required(view):
    """Send a visitor who is not signed in as a buyer to the shop's sign-in, and back."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _is_buyer(request):
            return redirect(f"{reverse('shop:login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)
    return wrapped


def _shop_context(request) -> dict:
    return {"cart_count": selectors.cart_count(scope=request.scope) if request.user.is_authenticated else 0,
            "is_buyer": _is_buyer(request), "language": get_language()}


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**_shop_context(request), **context}, status=status)


# --- the public window ------------------------------------------------------------------

def shop_index(request, brand_slug: str | None = None, cooperative_slug: str | None = None):
    """Every product on sale, or one brand's or one cooperative's: two queries, no images to wait for."""
    brand = selectors.public_brand(slug=brand_slug) if brand_slug else None
    cooperative = selectors.public_cooperative(slug=cooperative_slug) if cooperative_slug else None
    listings = selectors.public_listings(brand_slug=brand_slug, cooperative_slug=cooperative_slug)
    for listing in listings:
        listing.title = listing.title_in(get_language())
    return _render(request, "shop/index.html", {
        "listings": listings, "brand": brand, "cooperative": cooperative,
        "brands": selectors.public_brands(), "cooperatives": selectors.public_cooperatives(),
    })


def product_detail(request, listing_id: int):
    listing = selectors.public_listing(listing_id=listing_id)
    standard = listing.pack_size.standard
    brand = standard.brand
    english = get_language().startswith("en")
    story = (brand.story_en if english and brand and brand.story_en else (brand.story if brand else "")) or listing.story
    return _render(request, "shop/product.html", {
        "listing": listing, "title": listing.title_in(get_language()), "standard": standard, "brand": brand,
        "story": story, "trace_url": selectors.trace_url_of(selectors.sample_box(listing=listing)),
        "form": QuantityForm(),
    })


@cache_control(max_age=300)
def product_feed(request):
    """The product feed as CSV; when settings.SHOP_FEED_TOKEN is set, only with ?token=<it>."""
    token = getattr(settings, "SHOP_FEED_TOKEN", "")
    if token and not constant_time_compare(request.GET.get("token", ""), token):
        return HttpResponse(_("A valid ?token= is required for this feed."), status=403,
                            content_type="text/plain; charset=utf-8")
    default_image = static("cuntao/icon.svg")
    rows = [feed_row(listing, absolute=request.build_absolute_uri, currency=settings.CURRENCY,
                     default_image=default_image) for listing in selectors.public_listings()]
    response = HttpResponse(feed_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="cuntao-products.csv"'
    return response


# --- buyers ---------------------------------------------------------------------------

def buyer_register_view(request):
    form = BuyerRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            buyer = services.buyer_register(name=form.cleaned_data["name"], phone=form.cleaned_data["phone"],
                                            password=form.cleaned_data["password"])
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            login(request, buyer.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome, %(name)s. Your account is ready.") % {"name": buyer.name})
            return redirect(_safe_next(request) or reverse("shop:index"))
    return _render(request, "shop/register.html", {"form": form, "next": request.GET.get("next", "")})


def _safe_next(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else ""


class BuyerLoginView(LoginView):
    form_class = BuyerLoginForm
    template_name = "shop/login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return reverse("shop:index")


# --- cart -----------------------------------------------------------------------------

def _act(request, action, success: str | None = None) -> bool:
    """Run a service call for a form post; show its refusal as a message. True when it went through."""
    try:
        action()
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return False
    except DomainError as e:
        messages.error(request, str(e.message))
        return False
    if success:
        messages.success(request, success)
    return True


@require_POST
def cart_add(request, listing_id: int):
    if not _is_buyer(request):
        return redirect(f"{reverse('shop:login')}?{urlencode({'next': reverse('shop:product', args=[listing_id])})}")
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("quantity", [])))
        return redirect("shop:product", listing_id=listing_id)
    if _act(request, lambda: services.cart_put(scope=request.scope, listing_id=listing_id,
                                               quantity=form.cleaned_data["quantity"], add=True),
            _("Added to your cart.")):
        return redirect("shop:cart")
    return redirect("shop:product", listing_id=listing_id)


@buyer_required
def cart_view(request):
    return _render(request, "shop/cart.html", {"groups": selectors.cart_groups(scope=request.scope)})


@buyer_required
@require_POST
def cart_update(request, listing_id: int):
    if request.POST.get("action") == "remove":
        _act(request, lambda: services.cart_remove(scope=request.scope, listing_id=listing_id))
    else:
        form = QuantityForm(request.POST)
        if form.is_valid():
            _act(request, lambda: services.cart_put(scope=request.scope, listing_id=listing_id,
                                                    quantity=form.cleaned_data["quantity"]))
        else:
            messages.error(request, " ".join(form.errors.get("quantity", [])))
    return redirect("shop:cart")


# --- checkout and the buyer's orders ------------------------------------------------------

@buyer_required
def checkout_view(request, cooperative_slug: str):
    """Delivery address for one cooperative's boxes, then the order and off to pay."""
    cooperative = selectors.public_cooperative(slug=cooperative_slug)
    group = next((g for g in selectors.cart_groups(scope=request.scope) if g.cooperative.pk == cooperative.pk), None)
    if group is None:
        messages.info(request, _("Your cart holds nothing from %(name)s.") % {"name": cooperative.name})
        return redirect("shop:cart")
    buyer = services.buyer_of(request.scope)
    initial = {"recipient_name": buyer.name, "recipient_phone": buyer.phone}
    form = DeliveryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            delivery = services.clean_delivery(**form.cleaned_data)
            order = services.shop_checkout(scope=request.scope,
                                           lines=[(line.listing_id, line.quantity) for line in group.lines],
                                           delivery=delivery, idempotency_key=request.POST.get("idempotency_key", ""))
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            return _go_pay(request, order)
    return _render(request, "shop/checkout.html", {
        "group": group, "form": form, "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex})


def _go_pay(request, order):
    try:
        checkout = services.shop_order_pay(scope=request.scope, order=order,
                                           return_url=request.build_absolute_uri(order.get_absolute_url()))
    except DomainError as e:
        messages.error(request, str(e.message))
        return redirect(order.get_absolute_url())
    return redirect(checkout.pay_url)


@buyer_required
def my_orders(request):
    return _render(request, "shop/orders.html", {"orders": selectors.buyer_orders(scope=request.scope)[:100]})


def order_view(request, number: str):
    """The order page: the buyer follows it here; the cooperative's staff pack, ship and refund from it."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('shop:login')}?{urlencode({'next': request.get_full_path()})}")
    order = selectors.buyer_order_get(scope=request.scope, number=number)
    staff = services.may_manage_cooperative(request.scope, order.cooperative)
    steps = [(s, s.label) for s in (ShopOrderStatus.PAID, ShopOrderStatus.PACKED, ShopOrderStatus.SHIPPED,
                                    ShopOrderStatus.DELIVERED)]
    return _render(request, "shop/order.html", {
        "order": order, **selectors.order_detail(order=order), "staff": staff, "steps": steps,
        "reason_form": ReasonForm(), "refund_form": RefundForm(), "ship_form": ShipForm(),
        "refundable": order.goods_total_fen - order.refunded_fen,
    })


@require_POST
def order_action(request, number: str, action: str):
    order = selectors.buyer_order_get(scope=request.scope, number=number)
    scope = request.scope
    if action == "pay":
        return _go_pay(request, order)
    actions = {
        "cancel": lambda: services.shop_order_cancel(scope=scope, order=order, reason=request.POST.get("reason", "")),
        "delivered": lambda: services.shop_order_deliver(scope=scope, order=order),
        "pack": lambda: services.shop_order_pack(scope=scope, order=order),
        "ship": lambda: services.shop_order_ship(scope=scope, order=order,
                                                 carrier=request.POST.get("carrier", "").strip(),
                                                 carrier_tracking_no=request.POST.get("carrier_tracking_no", "").strip()),
        "refund": lambda: services.shop_order_refund(scope=scope, order=order, amount_fen=_fen_of(request),
                                                     reason=request.POST.get("reason", "")),
    }
    if action not in actions:
        raise Http404
    _act(request, actions[action], _("Saved."))
    return redirect(order.get_absolute_url())


def _fen_of(request) -> int:
    try:
        fen = parse_yuan(request.POST.get("amount", ""))
    except ValueError:
        fen = None
    if fen is None:
        raise ValidationError({"amount_fen": [_("Enter the amount in yuan, such as 12.50.")]})
    return fen


# --- the cooperative's staff ------------------------------------------------------------

def _staff_login(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
    return None


def cooperative_orders_view(request, slug: str):
    if (response := _staff_login(request)) is not None:
        return response
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    status = request.GET.get("status") or None
    if status not in (None, *ShopOrderStatus.values):
        status = None
    orders = selectors.cooperative_orders(scope=request.scope, cooperative=cooperative, status=status)[:200]
    return _render(request, "shop/coop_orders.html", {"cooperative": cooperative, "orders": orders, "status": status,
                                                      "statuses": ShopOrderStatus.choices})


def payouts_view(request, slug: str):
    if (response := _staff_login(request)) is not None:
        return response
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    return _render(request, "shop/payouts.html", {
        "cooperative": cooperative, "rows": selectors.payout_totals(scope=request.scope, cooperative=cooperative)})


def statement_view(request, slug: str, member_id: int):
    if (response := _staff_login(request)) is not None:
        return response
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    data = selectors.farmer_statement(scope=request.scope, cooperative=cooperative, member_id=member_id)
    return _render(request, "shop/statement.html", {"cooperative": cooperative, **data})
