import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cuntao.network.models import County, Station
from cuntao.villagers.models import MigrantRelative, Villager


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    VOICE = "voice", _("Voice call")
    IN_PERSON = "in_person", _("Tell in person")


# Channels a gateway delivers; in-person notices wait on the station's list instead.
GATEWAY_CHANNELS = (Channel.SMS, Channel.VOICE)


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", pgettext_lazy("notice status", "Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Notice(models.Model):
    """One notice (通知) to one person, kept in the outbox until it is delivered.

    Written in the same transaction as the business change it tells of, sent afterwards
    by `cuntao worker` through the gateway (text or voice), or told in person by the
    partner for a villager who cannot be reached by phone. `reference` is the client
    reference every send passes to the gateway, so a resend after a crash is
    recognised by the gateway and not delivered twice.
    """

    reference = models.UUIDField(_("client reference"), default=uuid.uuid4, unique=True, editable=False)
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, null=True, blank=True, related_name="notices",
                                 verbose_name=_("villager"))
    relative = models.ForeignKey(MigrantRelative, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="notices", verbose_name=_("relative"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164; empty when told in person."))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    kind = models.CharField(_("kind"), max_length=40)
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus, default=NoticeStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    lease_token = models.CharField(_("claim token"), max_length=32, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("told by"))
    gateway_message_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    dedupe_key = models.CharField(_("business event"), max_length=150,
                                  help_text=_("Names the business event, such as order:42:placed."))
    recipient_key = models.CharField(_("recipient key"), max_length=40, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The worker's two claim queries and the station's in-person list.
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending", channel__in=["sms", "voice"]),
                         name="notice_due_idx"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="notice_lease_idx"),
            models.Index(fields=["station", "created_at"], condition=Q(status="pending", channel="in_person"),
                         name="notice_tell_idx"),
            models.Index(fields=["county", "status", "created_at"], name="notice_county_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "dedupe_key", "recipient_key"], name="notice_once_per_event_and_recipient",
                violation_error_message=_("This business event already has a notice for this person."),
            ),
            models.CheckConstraint(
                condition=Q(villager__isnull=False) | Q(relative__isnull=False), name="notice_has_recipient",
                violation_error_message=_("A notice is for a villager or a relative."),
            ),
            models.CheckConstraint(
                condition=(Q(channel="in_person") & Q(phone="") & Q(station__isnull=False) & Q(villager__isnull=False))
                | (Q(channel__in=["sms", "voice"]) & ~Q(phone="")),
                name="notice_channel_matches_phone",
                violation_error_message=_("A text or call needs a phone number; a notice told in person needs "
                                          "a villager and a station and has no phone."),
            ),
            models.CheckConstraint(
                condition=~Q(status="pending", channel__in=["sms", "voice"]) | Q(next_attempt_at__isnull=False),
                name="notice_pending_has_due_time",
                violation_error_message=_("A waiting text or call has a time for its next attempt."),
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | (Q(lease_until__isnull=False) & ~Q(lease_token="")),
                name="notice_sending_is_claimed",
                violation_error_message=_("A notice being sent is claimed by a worker until a set time."),
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notice_sent_has_time",
                violation_error_message=_("A sent notice records when it was sent."),
            ),
            models.CheckConstraint(
                condition=Q(status="sent") | Q(sent_at__isnull=True), name="notice_only_sent_has_sent_time",
                violation_error_message=_("Only a sent notice has a sending time."),
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.phone or self.get_channel_display()} ({self.get_status_display()})"

    @property
    def kind_label(self) -> str:
        from cuntao.notify.kinds import notice_kind_label

        return notice_kind_label(self.kind)

    @property
    def recipient_name(self) -> str:
        if self.relative_id is not None:
            return self.relative.name
        return self.villager.name if self.villager_id is not None else ""


class NoticeEvent(models.Model):
    """One step in a notice's life (通知记录): a claim, a send attempt and its outcome, a retry.

    Append-only: who (a user, or none for the worker), when, from which status to which,
    the attempt number, and the gateway's answer.
    """

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="events", verbose_name=_("notice"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    from_status = models.CharField(_("from"), max_length=10, choices=NoticeStatus)
    to_status = models.CharField(_("to"), max_length=10, choices=NoticeStatus)
    attempt = models.PositiveSmallIntegerField(_("attempt"), null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    gateway_message_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("notice event")
        verbose_name_plural = _("notice events")
        ordering = ["notice", "at", "pk"]

    def __str__(self):
        return f"{self.notice_id}: {self.from_status} -> {self.to_status}"


class DeliveredMessage(models.Model):
    """A message the database gateway delivered (已发消息): what a real gateway would have sent.

    One row per client reference: a second send with the same reference returns the
    first row, as a real SMS provider's deduplication does.
    """

    reference = models.CharField(_("client reference"), max_length=64, unique=True)
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    phone = models.CharField(_("phone"), max_length=20)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("delivered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivered message")
        verbose_name_plural = _("delivered messages")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.channel} {self.phone} ({self.reference})"

    @property
    def message_id(self) -> str:
        return f"db-{self.pk}"
