from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cuntao.core.validators import validate_national_id, validate_phone


class Province(models.Model):
    """A province (省)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        ordering = ["name"]

    def __str__(self):
        return self.name


class County(models.Model):
    """A county (县) with its operation centre (县级运营中心) and warehouse.

    The county is the unit of operation and the shard key: rows below it carry it.
    """

    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="counties", verbose_name=_("province"))
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("Short letters that start every station code here, such as JZ."))
    specialty = models.CharField(_("local specialty"), max_length=100, blank=True)
    centre_address = models.CharField(_("operation centre address"), max_length=200, blank=True)
    centre_lat = models.DecimalField(_("operation centre latitude"), max_digits=9, decimal_places=6)
    centre_lon = models.DecimalField(_("operation centre longitude"), max_digits=9, decimal_places=6)
    warehouse_address = models.CharField(_("warehouse address"), max_length=200, blank=True)
    warehouse_lat = models.DecimalField(_("warehouse latitude"), max_digits=9, decimal_places=6)
    warehouse_lon = models.DecimalField(_("warehouse longitude"), max_digits=9, decimal_places=6)
    road_winding_factor = models.DecimalField(
        _("road winding factor"), max_digits=4, decimal_places=2, default=1.3,
        help_text=_("Road distance divided by straight-line distance; mountain counties are higher."),
    )

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(road_winding_factor__gte=1), name="county_winding_factor_at_least_one",
                violation_error_message=_("Roads are never shorter than a straight line: the winding factor is at least 1."),
            ),
        ]

    def __str__(self):
        return self.name


class Village(models.Model):
    """An administrative village (行政村)."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="villages", verbose_name=_("county"))
    name = models.CharField(_("name"), max_length=50)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    population = models.PositiveIntegerField(_("population"), default=0)
    households = models.PositiveIntegerField(_("households"), default=0)

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["county", "name"]
        constraints = [
            models.UniqueConstraint(fields=["county", "name"], name="village_name_unique_in_county",
                                    violation_error_message=_("This county already has a village of that name.")),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                                   name="village_coordinates_on_earth",
                                   violation_error_message=_("Latitude is between -90 and 90, longitude between -180 and 180.")),
        ]

    def __str__(self):
        return self.name


class StationStatus(models.TextChoices):
    APPLYING = "applying", _("Applying")
    TRAINING = "training", _("Training")
    OPEN = "open", _("Open")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Station(models.Model):
    """A village service station (村级服务站), run by one partner.

    Its code is public: villagers check it on the verification page before trusting
    anyone who claims to run an official station.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="stations", verbose_name=_("county"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="stations", verbose_name=_("village"))
    code = models.CharField(_("station code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=StationStatus, default=StationStatus.APPLYING)
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    opens_at = models.TimeField(_("opens at"), default="08:00")
    closes_at = models.TimeField(_("closes at"), default="20:00")
    shelf_capacity = models.PositiveIntegerField(_("shelf capacity (parcels)"), default=80)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["code"]
        indexes = [models.Index(fields=["county", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["village"], condition=~Q(status="closed"), name="one_live_station_per_village",
                                    violation_error_message=_("This village already has a station that is not closed.")),
            models.CheckConstraint(condition=Q(opens_at__lt=models.F("closes_at")), name="station_opens_before_it_closes",
                                   violation_error_message=_("The opening time must be before the closing time.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("network:station_detail", args=[self.code])


class StationStatusEvent(models.Model):
    """One change of a station's status (站点状态变更): who, when, from, to, why."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="status_events", verbose_name=_("station"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    from_status = models.CharField(_("from"), max_length=12, choices=StationStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=StationStatus)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("station status change")
        verbose_name_plural = _("station status changes")
        ordering = ["station", "at", "pk"]

    def __str__(self):
        return f"{self.station_id}: {self.from_status} -> {self.to_status}"


class PartnerStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    TRAINING = "training", _("In training")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Contract ended")


class Partner(models.Model):
    """The partner who runs a station, the xiao'er (村小二); a user with a contract."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner", verbose_name=_("user"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="partners", verbose_name=_("station"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="partners", verbose_name=_("county"))
    full_name = models.CharField(_("full name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    national_id = models.CharField(_("ID number"), max_length=18, blank=True, validators=[validate_national_id])
    identity_verified_at = models.DateTimeField(_("identity verified at"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+", verbose_name=_("identity verified by"))
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=PartnerStatus, default=PartnerStatus.APPLICANT)
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["station__code"]
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="partner_phone_unique",
                                    violation_error_message=_("A partner with this phone number is already registered.")),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True) | Q(contract_start__isnull=True) | Q(contract_end__gt=models.F("contract_start")),
                name="partner_contract_ends_after_start",
                violation_error_message=_("The contract must end after it starts."),
            ),
        ]

    def __str__(self):
        return self.full_name


class StaffRole(models.TextChoices):
    PROGRAMME_ADMIN = "programme_admin", _("Programme admin")
    COUNTY_STAFF = "county_staff", _("County staff")


class StaffMembership(models.Model):
    """A staff member's place in the network: programme-wide, or one county (员工权限)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=StaffRole)
    county = models.ForeignKey(County, on_delete=models.CASCADE, null=True, blank=True, related_name="staff", verbose_name=_("county"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "county"], name="membership_unique"),
            models.CheckConstraint(
                condition=(Q(role="county_staff") & Q(county__isnull=False)) | (Q(role="programme_admin") & Q(county__isnull=True)),
                name="membership_county_matches_role",
                violation_error_message=_("County staff belong to one county; programme admins to none."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.county or '*'}"
