"""Payments through a provider: start, the verified webhook, refund; and the sandbox provider.

The contract other apps code against (the shop app for city buyers, orders for online
and relative-pays orders):

    payment_start(purpose=, reference=, amount_fen=, county_id=, description=, return_url=,
                  expires_at=None) -> (Payment, Checkout)
    register_payment_handler(purpose, on_succeeded, on_failed=None)   # in AppConfig.ready()
    payment_refund(payment=, amount_fen=, reason=) -> Payment

The provider is the class settings.PAYMENT_PROVIDER names (default the sandbox). A
provider makes checkouts, refunds, and turns a webhook request into a verified
WebhookEvent; it never changes a Payment itself: only webhook_receive does, under the
payment's row lock, after recording the event id once (a replayed event changes nothing).
Lock order: the payment row before the row of what it pays for (an order), everywhere.

The sandbox behaves like a real provider: its checkout page queues a signed webhook,
which `cuntao worker` (or sandbox_deliver_webhooks) delivers later.
"""

import hashlib
import hmac
import json
import logging
import secrets
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, DomainError, NotFound
from cuntao.core.money import format_fen
from cuntao.orders.models import Payment, PaymentStatus, PaymentWebhookEvent, SandboxWebhook

logger = logging.getLogger("cuntao.payments")

DEFAULT_PROVIDER = "cuntao.orders.payments.SandboxProvider"
SIGNATURE_HEADER = "X-Sandbox-Signature"
# Refused when older than this (or this far in the future): a captured webhook cannot be replayed
# once its id has been forgotten, and a clock far off is a misconfiguration worth seeing.
WEBHOOK_TOLERANCE_SECONDS = 300
MAX_WEBHOOK_BYTES = 64 * 1024
SUCCEEDED, FAILED = "payment.succeeded", "payment.failed"


@dataclass(frozen=True)
class Checkout:
    pay_url: str  # absolute path or URL to send the payer to
    qr_text: str  # what a QR code for a phone to scan holds


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook the provider signed, already verified."""

    event_id: str
    kind: str  # SUCCEEDED or FAILED
    provider_ref: str
    amount_fen: int


class BadSignature(DomainError):
    code = "bad_signature"


class StaleWebhook(DomainError):
    code = "stale_webhook"


class AmountMismatch(DomainError):
    code = "amount_mismatch"


# --- handlers ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Handler:
    on_succeeded: Callable[[Payment], None]
    on_failed: Callable[[Payment], None] | None


_handlers: dict[str, _Handler] = {}


def register_payment_handler(purpose: str, on_succeeded: Callable[[Payment], None],
                             on_failed: Callable[[Payment], None] | None = None) -> None:
    """Say what to do when a payment for `purpose` succeeds (or fails); call from AppConfig.ready().

    The handler runs inside the webhook's transaction, after the payment is locked and
    marked, exactly once per payment. An exception in it rolls the whole webhook back,
    so the provider sends it again later.
    """
    _handlers[purpose] = _Handler(on_succeeded, on_failed)


# --- providers -----------------------------------------------------------------------

def get_provider():
    return import_string(getattr(settings, "PAYMENT_PROVIDER", DEFAULT_PROVIDER))()


def full_url(path: str) -> str:
    """An address a phone can open: the configured public base before a path (unchanged if absolute)."""
    if "://" in path:
        return path
    return getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + path


class SandboxProvider:
    """A provider for the demo and the tests, with a real provider's shape: checkout page, signed webhooks."""

    name = "sandbox"

    def new_ref(self) -> str:
        return "sbx_" + secrets.token_urlsafe(18)

    def checkout(self, payment: Payment) -> Checkout:
        path = reverse("orders:sandbox_checkout", args=[payment.provider_ref])
        return Checkout(pay_url=path, qr_text=full_url(path))

    def refund(self, payment: Payment, amount_fen: int, reason: str) -> str:
        """The sandbox's bank always agrees; a real provider's refusal would raise a DomainError here."""
        return "sbxr_" + secrets.token_urlsafe(12)

    def verify(self, body: bytes, headers) -> WebhookEvent:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature.encode(), sandbox_sign(body).encode()):
            raise BadSignature(_("The webhook's signature is not valid."))
        try:
            data = json.loads(body)
            event = WebhookEvent(event_id=str(data["id"]), kind=str(data["type"]),
                                 provider_ref=str(data["data"]["provider_ref"]),
                                 amount_fen=int(data["data"]["amount_fen"]))
            sent = int(data["timestamp"])
        except (ValueError, KeyError, TypeError) as e:
            raise DomainError(_("The webhook's body is not understood."), code="bad_webhook") from e
        tolerance = getattr(settings, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS", WEBHOOK_TOLERANCE_SECONDS)
        if abs(timezone.now().timestamp() - sent) > tolerance:
            raise StaleWebhook(_("The webhook is too old (or from the future); it is refused."))
        return event


def _sandbox_secret() -> bytes:
    secret = getattr(settings, "PAYMENT_SANDBOX_SECRET", "") or ""
    if secret:
        return secret.encode()
    # Derived, so the deployment needs no new secret, and unlike SECRET_KEY itself.
    return hashlib.sha256(b"cuntao.sandbox-webhook:" + settings.SECRET_KEY.encode()).digest()


def sandbox_sign(body: bytes) -> str:
    return hmac.new(_sandbox_secret(), body, hashlib.sha256).hexdigest()


# --- start, refund, expire -------------------------------------------------------------

@transaction.atomic
def payment_start(*, purpose: str, reference: str, amount_fen: int, county_id: int | None, description: str,
                  return_url: str, expires_at: datetime | None = None) -> tuple[Payment, Checkout]:
    """A pending payment for (purpose, reference) and the provider's checkout for it.

    A second call while one is pending returns that one (the one-pending unique index
    makes a concurrent twin wait, then find it).
    """
    if type(amount_fen) is not int or amount_fen <= 0:
        raise DomainError(_("A payment must be for some money."), code="invalid_amount")
    provider = get_provider()
    existing = _pending(purpose, reference)
    if existing is not None:
        return existing, provider.checkout(existing)
    payment = Payment(purpose=purpose, reference=reference, amount_fen=amount_fen, county_id=county_id,
                      provider=provider.name, provider_ref=provider.new_ref(), description=description[:200],
                      return_url=return_url[:500], created_at=timezone.now(), expires_at=expires_at)
    try:
        with transaction.atomic():
            payment.save()
    except IntegrityError:
        existing = _pending(purpose, reference)
        if existing is None:
            raise
        return existing, provider.checkout(existing)
    checkout = provider.checkout(payment)
    payment.checkout_url = checkout.pay_url[:500]
    payment.save(update_fields=["checkout_url"])
    return payment, checkout


def _pending(purpose: str, reference: str) -> Payment | None:
    return Payment.objects.filter(purpose=purpose, reference=reference, status=PaymentStatus.PENDING).first()


def payment_lock(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


@transaction.atomic
def payment_refund(*, payment: Payment, amount_fen: int, reason: str) -> Payment:
    """Give back (part of) a succeeded payment through the provider; never more than is left."""
    payment = payment_lock(payment.pk)
    if type(amount_fen) is not int or amount_fen <= 0:
        raise DomainError(_("Refund a whole number of fen, more than zero."), code="invalid_amount",
                          fields={"amount_fen": [_("More than zero.")]})
    if amount_fen > payment.refundable_fen:
        raise DomainError(_("Only %(left)s of this payment can be refunded; %(amount)s is more.")
                          % {"left": format_fen(payment.refundable_fen), "amount": format_fen(amount_fen)},
                          code="refund_too_large", fields={"amount_fen": [_("More than was paid.")]})
    provider = get_provider()
    provider.refund(payment, amount_fen, reason)
    payment.refunded_fen += amount_fen
    payment.status = (PaymentStatus.REFUNDED if payment.refunded_fen == payment.amount_fen
                      else PaymentStatus.PARTIALLY_REFUNDED)
    payment.save(update_fields=["refunded_fen", "status"])
    logger.info("payment %s refunded %s fen: %s", payment.provider_ref, amount_fen, reason[:100])
    return payment


def payment_expire(payment: Payment) -> Payment:
    """A pending payment no longer wanted (its order expired or was cancelled); the caller holds its lock."""
    if payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.EXPIRED
        payment.save(update_fields=["status"])
    return payment


# --- the webhook -----------------------------------------------------------------------

def webhook_receive(*, provider_name: str, body: bytes, headers) -> str:
    """Verify and apply one provider webhook; returns "applied", "replayed" or "ignored".

    Refusals (bad signature, stale, unknown payment, wrong amount) raise a DomainError and
    change nothing, not even the event's record, so the provider's honest retry can
    still be applied.
    """
    provider = get_provider()
    if provider_name != provider.name:
        raise NotFound(detail="payment provider")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise DomainError(_("The webhook is too large."), code="bad_webhook")
    event = provider.verify(body, headers)
    return _apply(provider.name, event)


@transaction.atomic
def _apply(provider_name: str, event: WebhookEvent) -> str:
    payment = Payment.objects.filter(provider=provider_name, provider_ref=event.provider_ref).first()
    if payment is None:
        raise DomainError(_("No payment %(ref)s is known.") % {"ref": event.provider_ref[:64]},
                          code="unknown_payment")
    payment = payment_lock(payment.pk)
    try:
        with transaction.atomic():
            PaymentWebhookEvent.objects.create(provider=provider_name, event_id=event.event_id[:100], kind=event.kind[:40],
                                               payment=payment, received_at=timezone.now())
    except IntegrityError:
        return "replayed"
    if event.amount_fen != payment.amount_fen:
        raise AmountMismatch(_("The webhook says %(paid)s was paid, but the payment is for %(amount)s.")
                             % {"paid": format_fen(event.amount_fen), "amount": format_fen(payment.amount_fen)})
    handler = _handlers.get(payment.purpose)
    if event.kind == SUCCEEDED and payment.status in (PaymentStatus.PENDING, PaymentStatus.EXPIRED,
                                                      PaymentStatus.FAILED):
        # Money arrived even if we had given up on it (expired): record it; the handler decides
        # whether to keep it or refund it.
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = timezone.now()
        payment.save(update_fields=["status", "paid_at"])
        if handler is not None:
            handler.on_succeeded(payment)
        return "applied"
    if event.kind == FAILED and payment.status == PaymentStatus.PENDING:
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=["status"])
        if handler is not None and handler.on_failed is not None:
            handler.on_failed(payment)
        return "applied"
    return "ignored"


# --- the sandbox's side: checkout page actions and webhook delivery ----------------------

def sandbox_payment_for_checkout(provider_ref: str) -> Payment:
    payment = Payment.objects.filter(provider=SandboxProvider.name, provider_ref=provider_ref).first()
    if payment is None:
        raise NotFound(detail="sandbox payment")
    return payment


def sandbox_payable(payment: Payment, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return payment.status == PaymentStatus.PENDING and (payment.expires_at is None or payment.expires_at > now)


@transaction.atomic
def sandbox_pay(*, provider_ref: str, approve: bool) -> SandboxWebhook:
    """The payer pressed Pay (or Decline) on the sandbox checkout: queue the provider's webhook.

    The payment itself is untouched until the webhook arrives. A second press while the
    first webhook is queued returns that one: a provider charges a checkout once.
    """
    payment = payment_lock(sandbox_payment_for_checkout(provider_ref).pk)
    queued = SandboxWebhook.objects.filter(provider_ref=provider_ref).first()
    if queued is not None:
        return queued
    if not sandbox_payable(payment):
        raise Conflict(_("This payment can no longer be paid."), code="payment_closed")
    now = timezone.now()
    return SandboxWebhook.objects.create(
        event_id="evt_" + secrets.token_urlsafe(18), kind=SUCCEEDED if approve else FAILED,
        provider_ref=provider_ref, amount_fen=payment.amount_fen, created_at=now, next_attempt_at=now)


def sandbox_webhook_body(hook: SandboxWebhook, *, now: datetime | None = None) -> bytes:
    """The webhook as the sandbox sends it: JSON, stamped with the time of sending."""
    now = now or timezone.now()
    return json.dumps({"id": hook.event_id, "type": hook.kind, "timestamp": int(now.timestamp()),
                       "data": {"provider_ref": hook.provider_ref, "amount_fen": hook.amount_fen}},
                      separators=(",", ":")).encode()


def sandbox_deliver_webhooks(*, limit: int = 50, now: datetime | None = None) -> dict:
    """Deliver the queued sandbox webhooks that are due; a failure is retried later, with back-off.

    Delivered to settings.PAYMENT_SANDBOX_WEBHOOK_URL over HTTP when it is set, else to
    webhook_receive in this process (the same code the API endpoint runs).
    """
    now = now or timezone.now()
    counts = {"delivered": 0, "failed": 0}
    due = list(SandboxWebhook.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
               .values_list("pk", flat=True)[:limit])
    for pk in due:
        counts["delivered" if _deliver_one(pk, now) else "failed"] += 1
    return counts


def _deliver_one(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        hook = SandboxWebhook.objects.select_for_update().filter(pk=pk, delivered_at__isnull=True).first()
        if hook is None:  # another worker delivered it
            return True
        # Claimed for a minute, so a second worker skips it while this one sends.
        hook.attempts += 1
        hook.next_attempt_at = now + timedelta(seconds=min(60 * 2 ** min(hook.attempts, 10), 3600))
        hook.save(update_fields=["attempts", "next_attempt_at"])
    body = sandbox_webhook_body(hook)
    error = _post_webhook(body)
    if error:
        SandboxWebhook.objects.filter(pk=pk).update(last_error=error[:300])
        logger.warning("sandbox webhook %s not delivered (attempt %s): %s", hook.event_id, hook.attempts, error)
        return False
    SandboxWebhook.objects.filter(pk=pk).update(delivered_at=timezone.now(), last_error="")
    return True


def _post_webhook(body: bytes) -> str:
    """Send one signed webhook; returns "" when the receiver accepted it, else what went wrong."""
    headers = {SIGNATURE_HEADER: sandbox_sign(body), "Content-Type": "application/json"}
    url = getattr(settings, "PAYMENT_SANDBOX_WEBHOOK_URL", "")
    if url:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - configured URL
                return "" if 200 <= response.status < 300 else f"HTTP {response.status}"
        except OSError as e:
            return str(e)
    try:
        webhook_receive(provider_name=SandboxProvider.name, body=body, headers=headers)
    except DomainError as e:
        return f"{e.code}: {e.message}"
    except Exception as e:  # noqa: BLE001 - like an HTTP 500: the receiver failed; send again later
        logger.exception("sandbox webhook: the receiver failed")
        return f"{type(e).__name__}: {e}"
    return ""
