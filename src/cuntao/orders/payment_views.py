"""Pages of payments through the provider: the relative's pay link, the sandbox checkout, and
the partner's QR panel on an order.

The pay link and the checkout need no login: the unguessable token (or the provider's
reference) in the address is the permission, as with any provider's checkout page.
"""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import Conflict, DomainError
from cuntao.orders import payments
from cuntao.orders.models import PROVIDER_PAYMENT_METHODS, Order, OrderStatus, PayLink, PaymentStatus, SandboxWebhook
from cuntao.orders.selectors import order_detail, order_get_for_actor, order_payment_current, pay_link_by_token
from cuntao.orders.services import PaymentClosed, order_checkout, pay_link_url


def qr_svg(text: str) -> str:
    """An inline SVG QR code (no image request, works offline)."""
    return segno.make(text, error="m").svg_inline(scale=5, border=2, title=_("QR code to pay"))


def payment_panel(request, order: Order) -> dict:
    """What the partner's order page shows of an online or relative-pays payment (empty for cash and credit)."""
    if order.payment_method not in PROVIDER_PAYMENT_METHODS:
        return {}
    payment = order_payment_current(order=order)
    panel = {"payment": payment, "awaiting_payment": order.status == OrderStatus.AWAITING_PAYMENT}
    link = PayLink.objects.select_related("relative").filter(order=order).first()
    if link is not None:
        panel["pay_link"] = link
        panel["pay_link_url"] = request.build_absolute_uri(pay_link_url(link))
    elif panel["awaiting_payment"] and payment is not None and payment.status == PaymentStatus.PENDING:
        pay_url = request.build_absolute_uri(payment.checkout_url)
        panel["pay_url"] = pay_url
        panel["qr"] = qr_svg(pay_url)
    panel["can_restart"] = (panel["awaiting_payment"] and link is None
                            and (payment is None or payment.status != PaymentStatus.PENDING))
    return panel


@login_required
@require_POST
def order_payment_restart(request, number: str):
    """A new QR after the villager's payment was declined."""
    order = order_get_for_actor(scope=request.scope, number=number)
    try:
        order_checkout(order=order)
    except DomainError as e:
        messages.error(request, str(e.message))
    return redirect("orders:detail", number=order.number)


# --- the relative's pay link ------------------------------------------------------------

def _link_state(link: PayLink) -> str:
    order = link.order
    if order.paid_at is not None:
        return "paid"
    if order.status != OrderStatus.AWAITING_PAYMENT or link.expires_at <= timezone.now():
        return "expired"
    return "payable"


def _render_link(request, link: PayLink, state: str, error: str = ""):
    lines, _events = order_detail(order=link.order)
    return render(request, "orders/pay_link.html", {
        "link": link, "order": link.order, "lines": lines, "state": state, "error": error,
    }, status=410 if state == "expired" else 200)


def pay_link_view(request, token: str):
    link = pay_link_by_token(token=token)
    if link.opened_at is None:  # so the partner can tell the villager the relative has seen it
        PayLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=timezone.now())
    return _render_link(request, link, _link_state(link))


@require_POST
def pay_link_pay(request, token: str):
    """Pay: to the provider's checkout for this order; never a second payment of a paid order."""
    link = pay_link_by_token(token=token)
    try:
        _payment, checkout = order_checkout(order=link.order)
    except PaymentClosed:
        return _render_link(request, link, "expired")
    except Conflict:
        link.order.refresh_from_db()
        return _render_link(request, link, "paid")
    return redirect(checkout.pay_url)


def pay_done(request):
    """Where the provider sends the payer back: the result arrives by webhook, so nothing is decided here."""
    return render(request, "orders/pay_done.html")


# --- the sandbox provider's checkout -------------------------------------------------------

def sandbox_checkout(request, ref: str):
    """The sandbox provider's own page: Pay or Decline queue its webhook; the payment waits for it."""
    payment = payments.sandbox_payment_for_checkout(ref)
    state = "payable" if payments.sandbox_payable(payment) else "closed"
    if SandboxWebhook.objects.filter(provider_ref=ref).exists() or payment.status != PaymentStatus.PENDING:
        state = "closed" if payment.status in (PaymentStatus.EXPIRED, PaymentStatus.FAILED) else "done"
    if request.method == "POST" and state == "payable":
        try:
            payments.sandbox_pay(provider_ref=ref, approve=request.POST.get("action") != "decline")
            state = "sent"
        except Conflict:
            state = "closed"
    return render(request, "orders/sandbox_checkout.html", {
        "payment": payment, "state": state,
        "qr": qr_svg(request.build_absolute_uri()) if state == "payable" else "",
    }, status=410 if state == "closed" else 200)
