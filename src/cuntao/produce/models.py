"""Upward selling: cooperatives, their standards, farm records, inspections, lots and boxes.

Quantities of fruit are Decimal kilograms (three places, so grams are exact); box
weights are integer grams; money is integer fen. Every county-owned row carries its
county. Lineage (Transformation*) and scans are append-only.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cuntao.network.models import County, Station, Village
from cuntao.villagers.models import Villager

KG = {"max_digits": 12, "decimal_places": 3}
BASIS_POINTS_MAX = 10_000


class AppendOnlyError(Exception):
    """An append-only row was about to be changed or deleted."""


class AppendOnly(models.Model):
    """A row that is written once and never changed or deleted (lineage, scans)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


# --- cooperatives, members, plots -------------------------------------------------


class Cooperative(models.Model):
    """A farmers' cooperative (农民专业合作社) that sells under one standard and brand.

    fee_rate_bp is the cooperative's cut of each lot's revenue in basis points (1/100 of a
    percent) before the rest is shared among the farmers by graded kilograms.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="cooperatives", verbose_name=_("county"))
    villages = models.ManyToManyField(Village, related_name="cooperatives", blank=True, verbose_name=_("villages"))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("short name"), max_length=40, unique=True, help_text=_("Used in public addresses, such as jinzhai-kiwi."))
    registration_no = models.CharField(_("registration number"), max_length=30, unique=True,
                                       help_text=_("Unified social credit code of the registered cooperative."))
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    fee_rate_bp = models.PositiveIntegerField(_("cooperative fee (basis points)"), default=0,
                                              validators=[MaxValueValidator(BASIS_POINTS_MAX)],
                                              help_text=_("The cooperative's share of revenue: 500 means 5 percent."))
    gs1_company_prefix = models.CharField(_("GS1 company prefix"), max_length=12, blank=True,
                                          validators=[RegexValidator(r"^[0-9]{6,12}$", _("A GS1 company prefix is 6 to 12 digits."))],
                                          help_text=_("Digits assigned by GS1 China; leave empty if the cooperative has none."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cooperative")
        verbose_name_plural = _("cooperatives")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(fee_rate_bp__lte=BASIS_POINTS_MAX), name="cooperative_fee_at_most_all",
                                   violation_error_message=_("The fee is at most 10000 basis points, all of the revenue.")),
            models.CheckConstraint(condition=Q(gs1_company_prefix="") | Q(gs1_company_prefix__regex=r"^[0-9]{6,12}$"),
                                   name="cooperative_gs1_prefix_digits",
                                   violation_error_message=_("A GS1 company prefix is 6 to 12 digits.")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("produce:cooperative_detail", args=[self.slug])


class Member(models.Model):
    """A farmer who is a member (社员) of a cooperative; may also be a registered villager.

    station is the station of the member's village: its partner keeps records on the
    farmer's behalf. The public trace page shows the name and photo only with consent.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="members", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, null=True, blank=True, related_name="cooperative_memberships",
                                 verbose_name=_("villager"))
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    photo = models.ImageField(_("photo"), upload_to="produce/members/", blank=True)
    show_name_publicly = models.BooleanField(_("name may be shown publicly"), default=False)
    show_photo_publicly = models.BooleanField(_("photo may be shown publicly"), default=False)
    consent_recorded_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["cooperative", "name", "pk"]
        indexes = [models.Index(fields=["cooperative", "name"]), models.Index(fields=["station"])]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "villager"], condition=Q(villager__isnull=False),
                                    name="member_villager_once_per_cooperative",
                                    violation_error_message=_("This villager is already a member of the cooperative.")),
        ]

    def __str__(self):
        return self.name

    @property
    def public_name(self) -> str:
        """The name if the farmer agreed to show it, else only the family name and 某."""
        if self.show_name_publicly:
            return self.name
        return f"{self.name[:1]}某" if self.name else ""


class Plot(models.Model):
    """A plot of land (地块) a member farms for the cooperative."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="plots", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="plots", verbose_name=_("member"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("station"))
    name = models.CharField(_("name"), max_length=60, help_text=_("How the farmer calls it, such as 东坡 or Plot 3."))
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    area_mu = models.DecimalField(_("area (mu)"), max_digits=8, decimal_places=2)
    crop = models.CharField(_("crop"), max_length=50)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plot")
        verbose_name_plural = _("plots")
        ordering = ["cooperative", "village", "name", "pk"]
        indexes = [models.Index(fields=["member"]), models.Index(fields=["station"])]
        constraints = [
            models.CheckConstraint(condition=Q(area_mu__gt=0), name="plot_area_positive",
                                   violation_error_message=_("The area must be more than 0 mu.")),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                                   name="plot_coordinates_on_earth",
                                   violation_error_message=_("Latitude is between -90 and 90, longitude between -180 and 180.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.member})"


# --- standards: the five unified rules --------------------------------------------


class Brand(models.Model):
    """A brand (品牌) a cooperative sells under, such as 金寨猕猴桃; stable across seasons."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="brands", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    name = models.CharField(_("brand name"), max_length=60)
    name_en = models.CharField(_("English brand name"), max_length=60, blank=True)
    slug = models.SlugField(_("short name"), max_length=40, unique=True)
    story = models.TextField(_("story"), blank=True)
    story_en = models.TextField(_("story in English"), blank=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "name"], name="brand_name_unique_in_cooperative",
                                    violation_error_message=_("The cooperative already has a brand of that name.")),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    """A product a cooperative grows and grades under a standard (产品), such as kiwi."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="products", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    crop = models.CharField(_("crop"), max_length=50, help_text=_("Matches the crop of the plots it comes from."))

    class Meta:
        verbose_name = _("produce product")
        verbose_name_plural = _("produce products")
        ordering = ["cooperative", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "name"], name="produce_product_name_unique_in_cooperative",
                                    violation_error_message=_("The cooperative already has a product of that name.")),
        ]

    def __str__(self):
        return self.name


class StandardStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Standard(models.Model):
    """A versioned standard (统一标准) for one product and season: the five unified rules.

    Its sections are the rows that point at it: allowed inputs (统一投入品), SOP tasks
    (统一种植标准), grade specs (统一果品质量), inspection checkpoints (统一过程监管) and
    pack sizes with the brand fields here (统一品牌运作). Once published it never changes;
    a new season or a correction is a new version.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="standards", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="standards", verbose_name=_("product"))
    title = models.CharField(_("title"), max_length=120, help_text=_("Such as 金寨猕猴桃 2026 产季."))
    title_en = models.CharField(_("English title"), max_length=120, blank=True)
    season = models.PositiveSmallIntegerField(_("season (year)"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=StandardStatus, default=StandardStatus.DRAFT)
    harvest_starts_on = models.DateField(_("harvest starts on"), null=True, blank=True)
    harvest_ends_on = models.DateField(_("harvest ends on"), null=True, blank=True)
    # supervision section
    inspections_before_harvest = models.PositiveSmallIntegerField(_("inspections per plot before harvest"), default=1)
    # brand section
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="standards", verbose_name=_("brand"))
    label_text = models.CharField(_("label text"), max_length=200, blank=True)
    label_text_en = models.CharField(_("English label text"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("published by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["product", "-season", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["product", "season", "version"], name="standard_version_unique",
                                    violation_error_message=_("This product already has that version for the season.")),
            models.UniqueConstraint(fields=["product", "season"], condition=Q(status="published"), name="standard_one_published_per_season",
                                    violation_error_message=_("Only one version of a season's standard is published at a time.")),
            models.CheckConstraint(condition=Q(status="draft") | Q(published_at__isnull=False), name="standard_published_has_time",
                                   violation_error_message=_("A published standard records when it was published.")),
            models.CheckConstraint(condition=Q(harvest_ends_on__isnull=True) | Q(harvest_starts_on__isnull=True)
                                   | Q(harvest_ends_on__gte=F("harvest_starts_on")),
                                   name="standard_harvest_window_ordered",
                                   violation_error_message=_("The harvest cannot end before it starts.")),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status != StandardStatus.DRAFT


class InputKind(models.TextChoices):
    FERTILISER = "fertiliser", _("Fertiliser")
    ORGANIC_FERTILISER = "organic_fertiliser", _("Organic fertiliser")
    PESTICIDE = "pesticide", _("Pesticide")
    FUNGICIDE = "fungicide", _("Fungicide")
    HERBICIDE = "herbicide", _("Herbicide")
    GROWTH_REGULATOR = "growth_regulator", _("Growth regulator")
    OTHER = "other", _("Other")


class AllowedInput(models.Model):
    """An input the standard allows (允许使用的投入品), with its limits.

    max_dose_per_mu is in dose_unit per mu per application; pre_harvest_interval_days is
    the least number of days between its last application and the harvest.
    """

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="allowed_inputs", verbose_name=_("standard"))
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=InputKind)
    dose_unit = models.CharField(_("dose unit"), max_length=10, default="kg", help_text=_("kg, g, L or ml."))
    max_dose_per_mu = models.DecimalField(_("maximum dose per mu"), max_digits=10, decimal_places=3)
    pre_harvest_interval_days = models.PositiveSmallIntegerField(_("pre-harvest interval (days)"), default=0)

    class Meta:
        verbose_name = _("allowed input")
        verbose_name_plural = _("allowed inputs")
        ordering = ["standard", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "name"], name="allowed_input_unique_in_standard",
                                    violation_error_message=_("The standard already lists an input of that name.")),
            models.CheckConstraint(condition=Q(max_dose_per_mu__gt=0), name="allowed_input_dose_positive",
                                   violation_error_message=_("The maximum dose must be more than 0.")),
        ]

    def __str__(self):
        return self.name


class CentralPurchase(models.Model):
    """A central purchase of an allowed input by the cooperative (统一采购)."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    allowed_input = models.ForeignKey(AllowedInput, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("input"))
    supplier = models.CharField(_("supplier"), max_length=100)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    batch_no = models.CharField(_("batch number"), max_length=40, blank=True)
    total_fen = models.PositiveBigIntegerField(_("total paid (fen)"), default=0)
    purchased_on = models.DateField(_("purchased on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("central purchase")
        verbose_name_plural = _("central purchases")
        ordering = ["-purchased_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="central_purchase_quantity_positive",
                                   violation_error_message=_("The quantity must be more than 0.")),
        ]

    def __str__(self):
        return f"{self.allowed_input} × {self.quantity}"


class SopTask(models.Model):
    """A task of the planting SOP (种植标准作业) with its season window, such as thinning."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="sop_tasks", verbose_name=_("standard"))
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    window_starts_on = models.DateField(_("window starts on"))
    window_ends_on = models.DateField(_("window ends on"))

    class Meta:
        verbose_name = _("SOP task")
        verbose_name_plural = _("SOP tasks")
        ordering = ["standard", "window_starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "name"], name="sop_task_unique_in_standard",
                                    violation_error_message=_("The standard already has a task of that name.")),
            models.CheckConstraint(condition=Q(window_ends_on__gte=F("window_starts_on")), name="sop_task_window_ordered",
                                   violation_error_message=_("A task's window cannot end before it starts.")),
        ]

    def __str__(self):
        return self.name


class GradeSpec(models.Model):
    """A grade of the quality section (果品分级标准): the least weight and sugar for it.

    rank 1 is the best grade. Fruit of a grade with branded=False (culls, juice fruit) is
    sold loose, never in branded boxes.
    """

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="grades", verbose_name=_("standard"))
    code = models.CharField(_("code"), max_length=10, help_text=_("Such as A, B or C."))
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=40, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the best grade."))
    min_weight_g = models.PositiveIntegerField(_("least fruit weight (g)"), default=0)
    min_brix = models.DecimalField(_("least sugar (°Brix)"), max_digits=4, decimal_places=1, default=0)
    branded = models.BooleanField(_("sold under the brand"), default=True)

    class Meta:
        verbose_name = _("grade specification")
        verbose_name_plural = _("grade specifications")
        ordering = ["standard", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "code"], name="grade_code_unique_in_standard",
                                    violation_error_message=_("The standard already has a grade with that code.")),
            models.UniqueConstraint(fields=["standard", "rank"], name="grade_rank_unique_in_standard",
                                    violation_error_message=_("Two grades cannot share a rank.")),
            models.CheckConstraint(condition=Q(min_brix__gte=0, min_brix__lte=40), name="grade_brix_in_range",
                                   violation_error_message=_("°Brix is between 0 and 40.")),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def admits(self, *, weight_g, brix) -> bool:
        """Whether one fruit of this weight and sugar meets the grade."""
        return weight_g >= self.min_weight_g and brix >= self.min_brix


class InspectionCheckpoint(models.Model):
    """A checkpoint of the supervision plan (监管检查点), such as pre-harvest residue check."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="checkpoints", verbose_name=_("standard"))
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    what_to_check = models.TextField(_("what to check"), blank=True)
    before_harvest = models.BooleanField(_("before harvest"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("inspection checkpoint")
        verbose_name_plural = _("inspection checkpoints")
        ordering = ["standard", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "name"], name="checkpoint_unique_in_standard",
                                    violation_error_message=_("The standard already has a checkpoint of that name.")),
        ]

    def __str__(self):
        return self.name


class PackSize(models.Model):
    """A pack of the brand section (包装规格): one grade in one box size, with price guidance.

    gtin is the GS1 GTIN-14 of this trade item when the cooperative has a company
    prefix; boxes of it then carry a GS1 Digital Link.
    """

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="pack_sizes", verbose_name=_("standard"))
    grade = models.ForeignKey(GradeSpec, on_delete=models.PROTECT, related_name="pack_sizes", verbose_name=_("grade"))
    name = models.CharField(_("name"), max_length=60, help_text=_("Such as 5 kg gift box."))
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    net_weight_g = models.PositiveIntegerField(_("net weight (g)"))
    price_guidance_fen = models.PositiveBigIntegerField(_("guide price (fen)"))
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True)

    class Meta:
        verbose_name = _("pack size")
        verbose_name_plural = _("pack sizes")
        ordering = ["standard", "grade__rank", "net_weight_g"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "name"], name="pack_size_unique_in_standard",
                                    violation_error_message=_("The standard already has a pack of that name.")),
            models.CheckConstraint(condition=Q(net_weight_g__gt=0), name="pack_size_weight_positive",
                                   violation_error_message=_("A pack weighs more than 0 g.")),
            models.CheckConstraint(condition=Q(gtin="") | Q(gtin__regex=r"^[0-9]{14}$"), name="pack_size_gtin_14_digits",
                                   violation_error_message=_("A GTIN-14 is 14 digits.")),
        ]

    def __str__(self):
        return self.name


# --- inspectors ---------------------------------------------------------------------


class InspectorAssignment(models.Model):
    """An inspector (检查员) assigned to one cooperative; the inspector sees only those."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspector_assignments", verbose_name=_("inspector"))
    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="inspector_assignments", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspector assignment")
        verbose_name_plural = _("inspector assignments")
        ordering = ["cooperative", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "cooperative"], condition=Q(ended_at__isnull=True), name="inspector_assigned_once",
                                    violation_error_message=_("This inspector is already assigned to the cooperative.")),
        ]

    def __str__(self):
        return f"{self.user} → {self.cooperative}"


# --- farm records, violations, inspections ------------------------------------------


class RecordKind(models.TextChoices):
    INPUT_APPLIED = "input_applied", _("Input applied")
    TASK_DONE = "task_done", _("SOP task done")
    OBSERVATION = "observation", _("Observation")
    HARVEST = "harvest", _("Harvest")


class FarmRecord(models.Model):
    """One entry of a plot's farm log (农事记录), kept by the farmer's partner or staff.

    An input outside the standard is recorded as entered (input_name) and flagged with
    a Violation; records are never refused for breaking the standard.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="records", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("station"))
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="records", verbose_name=_("plot"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="records", verbose_name=_("member"))
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="records", verbose_name=_("standard"))
    kind = models.CharField(_("kind"), max_length=16, choices=RecordKind)
    occurred_on = models.DateField(_("date"))
    allowed_input = models.ForeignKey(AllowedInput, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("input"))
    input_name = models.CharField(_("input name"), max_length=80, blank=True)
    dose_total = models.DecimalField(_("amount applied"), max_digits=12, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(_("unit"), max_length=10, blank=True)
    dose_per_mu = models.DecimalField(_("amount per mu"), max_digits=12, decimal_places=3, null=True, blank=True)
    sop_task = models.ForeignKey(SopTask, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("SOP task"))
    harvest_kg = models.DecimalField(_("harvest (kg)"), null=True, blank=True, **KG)
    note = models.CharField(_("note"), max_length=500, blank=True)
    compliant = models.BooleanField(_("complies with the standard"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("farm record")
        verbose_name_plural = _("farm records")
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["plot", "kind", "occurred_on"]), models.Index(fields=["cooperative", "-occurred_on"])]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="input_applied") | (Q(dose_total__gt=0) & ~Q(input_name="")),
                                   name="farm_record_input_has_dose",
                                   violation_error_message=_("An input record names the input and an amount above 0.")),
            models.CheckConstraint(condition=~Q(kind="task_done") | Q(sop_task__isnull=False), name="farm_record_task_named",
                                   violation_error_message=_("A task record names the SOP task.")),
            models.CheckConstraint(condition=~Q(kind="harvest") | Q(harvest_kg__gt=0), name="farm_record_harvest_has_kg",
                                   violation_error_message=_("A harvest weighs more than 0 kg.")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.plot} · {self.occurred_on}"


class ViolationKind(models.TextChoices):
    INPUT_NOT_ALLOWED = "input_not_allowed", _("Input not on the allowed list")
    DOSE_OVER_MAX = "dose_over_max", _("Dose above the maximum")
    UNIT_MISMATCH = "unit_mismatch", _("Dose in a unit the standard does not use")
    PRE_HARVEST_INTERVAL = "pre_harvest_interval", _("Inside the pre-harvest interval")
    INSPECTION_FAILED = "inspection_failed", _("Inspection failed")


class ViolationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("violation status", "Open")
    CLEARED = "cleared", _("Cleared")


class Violation(models.Model):
    """A breach of the standard on a plot (违规): open until an inspector clears it.

    While open, fruit from the plot cannot go into a branded lot.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="violations", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="violations", verbose_name=_("plot"))
    record = models.ForeignKey(FarmRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="violations", verbose_name=_("record"))
    inspection = models.ForeignKey("Inspection", on_delete=models.PROTECT, null=True, blank=True, related_name="violations_found",
                                   verbose_name=_("found by inspection"))
    kind = models.CharField(_("kind"), max_length=24, choices=ViolationKind)
    detail = models.CharField(_("detail"), max_length=300)
    status = models.CharField(_("status"), max_length=8, choices=ViolationStatus, default=ViolationStatus.OPEN)
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("cleared by"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    clear_note = models.CharField(_("clearing note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-found_at", "-pk"]
        indexes = [models.Index(fields=["plot", "status"]), models.Index(fields=["cooperative", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(cleared_at__isnull=True))
                | (Q(status="cleared") & Q(cleared_at__isnull=False) & Q(cleared_by__isnull=False) & ~Q(clear_note="")),
                name="violation_cleared_with_note",
                violation_error_message=_("A cleared violation records who cleared it, when and why."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.plot}"


class InspectionResult(models.TextChoices):
    PASSED = "passed", pgettext_lazy("inspection result", "Passed")
    FAILED = "failed", pgettext_lazy("inspection result", "Failed")


class Inspection(models.Model):
    """An inspector's result at one checkpoint on one plot (检查记录)."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("plot"))
    checkpoint = models.ForeignKey(InspectionCheckpoint, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("checkpoint"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspector"))
    inspected_on = models.DateField(_("inspected on"))
    result = models.CharField(_("result"), max_length=8, choices=InspectionResult)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-pk"]
        indexes = [models.Index(fields=["plot", "inspected_on"])]

    def __str__(self):
        return f"{self.checkpoint} · {self.plot} · {self.get_result_display()}"


class Photo(models.Model):
    """A photo taken in the field (现场照片), attached to a farm record or an inspection."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="photos", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    record = models.ForeignKey(FarmRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name=_("record"))
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name=_("inspection"))
    image = models.ImageField(_("image"), upload_to="produce/photos/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    public = models.BooleanField(_("shown on the trace page"), default=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("taken by"))
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["taken_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(record__isnull=False) | Q(inspection__isnull=False), name="photo_attached",
                                   violation_error_message=_("A photo belongs to a record or an inspection.")),
        ]

    def __str__(self):
        return self.caption or self.image.name


# --- lots, grading, packing ---------------------------------------------------------


class LotStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("lot status", "Open")
    CLOSED = "closed", _("Closed")


class HarvestLot(models.Model):
    """A harvest lot (采收批次): one member's fruit from one plot on one day.

    Closed once graded: its lineage may no longer change.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("station"))
    code = models.CharField(_("lot code"), max_length=20, unique=True)
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("standard"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("member"))
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("plot"))
    record = models.OneToOneField(FarmRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="harvest_lot",
                                  verbose_name=_("harvest record"))
    harvested_on = models.DateField(_("harvested on"))
    kg = models.DecimalField(_("weight (kg)"), **KG)
    compliant = models.BooleanField(_("complies with the standard"), default=True,
                                    help_text=_("False when the harvest broke the pre-harvest interval."))
    status = models.CharField(_("status"), max_length=8, choices=LotStatus, default=LotStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("harvest lot")
        verbose_name_plural = _("harvest lots")
        ordering = ["-harvested_on", "-pk"]
        indexes = [models.Index(fields=["cooperative", "status"]), models.Index(fields=["plot", "harvested_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="harvest_lot_kg_positive",
                                   violation_error_message=_("A harvest lot weighs more than 0 kg.")),
        ]

    def __str__(self):
        return self.code


class Grading(models.Model):
    """A grading session (分级): harvest lots in, graded lots out, with the samples measured."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="gradings", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="gradings", verbose_name=_("standard"))
    code = models.CharField(_("code"), max_length=20, unique=True)
    graded_on = models.DateField(_("graded on"))
    input_kg = models.DecimalField(_("harvest weight in (kg)"), **KG)
    loss_kg = models.DecimalField(_("loss (kg)"), **KG)
    graded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("graded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    harvest_lots = models.ManyToManyField(HarvestLot, through="GradingInput", related_name="gradings", verbose_name=_("harvest lots"))

    class Meta:
        verbose_name = _("grading")
        verbose_name_plural = _("gradings")
        ordering = ["-graded_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(loss_kg__gte=0) & Q(loss_kg__lte=F("input_kg")), name="grading_loss_within_input",
                                   violation_error_message=_("The graded quantities add up to more than the harvest.")),
        ]

    def __str__(self):
        return self.code


class GradingInput(models.Model):
    """One harvest lot that went into a grading, whole."""

    grading = models.ForeignKey(Grading, on_delete=models.PROTECT, related_name="inputs", verbose_name=_("grading"))
    harvest_lot = models.OneToOneField(HarvestLot, on_delete=models.PROTECT, related_name="grading_input", verbose_name=_("harvest lot"))
    kg = models.DecimalField(_("weight (kg)"), **KG)

    class Meta:
        verbose_name = _("grading input")
        verbose_name_plural = _("grading inputs")

    def __str__(self):
        return f"{self.grading} ← {self.harvest_lot}"


class GradingSample(models.Model):
    """One fruit sampled at grading: its weight, sugar and the best grade it meets."""

    grading = models.ForeignKey(Grading, on_delete=models.PROTECT, related_name="samples", verbose_name=_("grading"))
    weight_g = models.PositiveIntegerField(_("weight (g)"))
    brix = models.DecimalField(_("sugar (°Brix)"), max_digits=4, decimal_places=1)
    grade = models.ForeignKey(GradeSpec, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("grade met"))

    class Meta:
        verbose_name = _("grading sample")
        verbose_name_plural = _("grading samples")
        ordering = ["grading", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight_g__gt=0, weight_g__lte=5000), name="sample_weight_plausible",
                                   violation_error_message=_("A fruit weighs between 1 g and 5 kg.")),
            models.CheckConstraint(condition=Q(brix__gte=0, brix__lte=40), name="sample_brix_in_range",
                                   violation_error_message=_("°Brix is between 0 and 40.")),
        ]

    def __str__(self):
        return f"{self.weight_g} g / {self.brix} °Bx"


class GradedLot(models.Model):
    """A graded lot (分级批次): the fruit of one grade from one grading.

    branded is False when the grade is not sold under the brand or when any contributing
    plot had an open violation at grading; such fruit is never packed in branded boxes.
    packed_kg counts what boxes already took, so boxes never hold more than was graded.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="graded_lots", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    grading = models.ForeignKey(Grading, on_delete=models.PROTECT, related_name="graded_lots", verbose_name=_("grading"))
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="graded_lots", verbose_name=_("standard"))
    grade = models.ForeignKey(GradeSpec, on_delete=models.PROTECT, related_name="graded_lots", verbose_name=_("grade"))
    code = models.CharField(_("lot code"), max_length=20, unique=True, help_text=_("Also the GS1 batch/lot number (AI 10)."))
    kg = models.DecimalField(_("weight (kg)"), **KG)
    packed_kg = models.DecimalField(_("packed (kg)"), default=0, **KG)
    branded = models.BooleanField(_("may be sold under the brand"), default=True)
    status = models.CharField(_("status"), max_length=8, choices=LotStatus, default=LotStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("graded lot")
        verbose_name_plural = _("graded lots")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["cooperative", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(kg__gt=0), name="graded_lot_kg_positive",
                                   violation_error_message=_("A graded lot weighs more than 0 kg.")),
            models.CheckConstraint(condition=Q(packed_kg__gte=0) & Q(packed_kg__lte=F("kg")), name="graded_lot_not_overpacked",
                                   violation_error_message=_("Boxes cannot hold more than the lot's graded weight.")),
            models.UniqueConstraint(fields=["grading", "grade"], name="graded_lot_one_per_grade",
                                    violation_error_message=_("A grading makes one lot per grade.")),
        ]

    def __str__(self):
        return self.code

    @property
    def unpacked_kg(self):
        return self.kg - self.packed_kg


class GradedContribution(models.Model):
    """A member's graded kilograms in a graded lot, from one harvest lot (payout basis).

    The grading's kilograms of each grade are shared among its harvest lots in
    proportion to their weight; farmer payouts share revenue by these kilograms.
    """

    graded_lot = models.ForeignKey(GradedLot, on_delete=models.PROTECT, related_name="contributions", verbose_name=_("graded lot"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="contributions", verbose_name=_("member"))
    plot = models.ForeignKey(Plot, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    harvest_lot = models.ForeignKey(HarvestLot, on_delete=models.PROTECT, related_name="contributions", verbose_name=_("harvest lot"))
    kg = models.DecimalField(_("graded weight (kg)"), **KG)

    class Meta:
        verbose_name = _("graded contribution")
        verbose_name_plural = _("graded contributions")
        ordering = ["graded_lot", "member", "pk"]
        indexes = [models.Index(fields=["member"])]
        constraints = [
            models.UniqueConstraint(fields=["graded_lot", "harvest_lot"], name="graded_contribution_once",
                                    violation_error_message=_("A harvest lot contributes once to a graded lot.")),
            models.CheckConstraint(condition=Q(kg__gte=0), name="graded_contribution_not_negative",
                                   violation_error_message=_("A contribution is not negative.")),
        ]

    def __str__(self):
        return f"{self.member} · {self.kg} kg → {self.graded_lot}"


class Packing(models.Model):
    """A packing run (装箱): boxes of one pack size filled from one graded lot."""

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="packings", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    graded_lot = models.ForeignKey(GradedLot, on_delete=models.PROTECT, related_name="packings", verbose_name=_("graded lot"))
    pack_size = models.ForeignKey(PackSize, on_delete=models.PROTECT, related_name="packings", verbose_name=_("pack size"))
    code = models.CharField(_("code"), max_length=20, unique=True)
    packed_on = models.DateField(_("packed on"))
    box_count = models.PositiveIntegerField(_("boxes"))
    packed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("packed by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("packing")
        verbose_name_plural = _("packings")
        ordering = ["-packed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(box_count__gt=0), name="packing_has_boxes",
                                   violation_error_message=_("Pack at least one box.")),
        ]

    def __str__(self):
        return self.code


class BoxStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    SOLD = "sold", _("Sold")
    SHIPPED = "shipped", _("Shipped")


class PackedBox(models.Model):
    """A packed box (箱) with its own traceability code (追溯码), printed as a QR.

    A box leaves in_stock only for one order: order_ref names it, and the check
    constraint ties the two, so a conditional UPDATE ... WHERE status='in_stock' (see
    services.box_reserve) can never hand the same box to two orders. The code is
    random, short and public; it is also the GS1 serial (AI 21).
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="boxes", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    packing = models.ForeignKey(Packing, on_delete=models.PROTECT, related_name="boxes", verbose_name=_("packing"))
    graded_lot = models.ForeignKey(GradedLot, on_delete=models.PROTECT, related_name="boxes", verbose_name=_("graded lot"))
    pack_size = models.ForeignKey(PackSize, on_delete=models.PROTECT, related_name="boxes", verbose_name=_("pack size"))
    code = models.CharField(_("traceability code"), max_length=16, unique=True)
    net_weight_g = models.PositiveIntegerField(_("net weight (g)"))
    packed_on = models.DateField(_("packed on"))
    status = models.CharField(_("status"), max_length=10, choices=BoxStatus, default=BoxStatus.IN_STOCK)
    order_ref = models.CharField(_("order"), max_length=40, blank=True, help_text=_("The order holding the box once reserved."))
    status_changed_at = models.DateTimeField(_("status changed at"), auto_now_add=True)
    scan_count = models.PositiveIntegerField(_("scans"), default=0)
    suspect_since = models.DateTimeField(_("flagged as possible counterfeit at"), null=True, blank=True)
    suspect_reason = models.CharField(_("why flagged"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("packed box")
        verbose_name_plural = _("packed boxes")
        ordering = ["packing", "code"]
        indexes = [
            models.Index(fields=["cooperative", "pack_size", "status"]),
            models.Index(fields=["graded_lot", "status"]),
            models.Index(fields=["order_ref"]),
        ]
        constraints = [
            models.CheckConstraint(condition=(Q(status="in_stock") & Q(order_ref="")) | (~Q(status="in_stock") & ~Q(order_ref="")),
                                   name="box_held_by_one_order",
                                   violation_error_message=_("A box out of stock belongs to exactly one order.")),
            models.CheckConstraint(condition=Q(net_weight_g__gt=0), name="box_weight_positive",
                                   violation_error_message=_("A box weighs more than 0 g.")),
        ]

    def __str__(self):
        return self.code

    def get_absolute_url(self):
        return reverse("produce:trace_short", args=[self.code])


class BoxEvent(models.Model):
    """One change of a box's status (箱状态变更): who, when, from, to, for which order."""

    box = models.ForeignKey(PackedBox, on_delete=models.PROTECT, related_name="events", verbose_name=_("box"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    from_status = models.CharField(_("from"), max_length=10, choices=BoxStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=BoxStatus)
    order_ref = models.CharField(_("order"), max_length=40, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("box status change")
        verbose_name_plural = _("box status changes")
        ordering = ["box", "at", "pk"]

    def __str__(self):
        return f"{self.box_id}: {self.from_status} -> {self.to_status}"


# --- lineage --------------------------------------------------------------------------


class TransformationKind(models.TextChoices):
    COMMISSIONING = "commissioning", _("Harvest recorded")
    GRADING = "grading", _("Grading")
    PACKING = "packing", _("Packing")


class Transformation(AppendOnly):
    """One step of lineage (溯源链): which lots or boxes went in and which came out.

    Append-only: rows are written once with their items and never changed; the event_id
    is the EPCIS eventID of the step.
    """

    cooperative = models.ForeignKey(Cooperative, on_delete=models.PROTECT, related_name="transformations", verbose_name=_("cooperative"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=16, choices=TransformationKind)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    occurred_on = models.DateField(_("date"))
    grading = models.ForeignKey(Grading, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("grading"))
    packing = models.ForeignKey(Packing, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("packing"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transformation")
        verbose_name_plural = _("transformations")
        ordering = ["occurred_on", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_on}"


class ItemRole(models.TextChoices):
    INPUT = "input", _("In")
    OUTPUT = "output", _("Out")


class ItemKind(models.TextChoices):
    PLOT = "plot", _("Plot")
    HARVEST_LOT = "harvest_lot", _("Harvest lot")
    GRADED_LOT = "graded_lot", _("Graded lot")
    BOX = "box", _("Box")


class TransformationItem(AppendOnly):
    """One input or output of a Transformation, by kind and code; append-only."""

    transformation = models.ForeignKey(Transformation, on_delete=models.PROTECT, related_name="items", verbose_name=_("transformation"))
    role = models.CharField(_("role"), max_length=6, choices=ItemRole)
    item_kind = models.CharField(_("item kind"), max_length=12, choices=ItemKind)
    item_code = models.CharField(_("item code"), max_length=20)
    kg = models.DecimalField(_("weight (kg)"), null=True, blank=True, **KG)

    class Meta:
        verbose_name = _("transformation item")
        verbose_name_plural = _("transformation items")
        ordering = ["transformation", "role", "pk"]
        indexes = [models.Index(fields=["item_kind", "item_code", "role"])]
        constraints = [
            models.UniqueConstraint(fields=["transformation", "role", "item_kind", "item_code"], name="transformation_item_once",
                                    violation_error_message=_("An item appears once per side of a transformation.")),
        ]

    def __str__(self):
        return f"{self.role} {self.item_kind} {self.item_code}"


# --- scans ----------------------------------------------------------------------------


class ScanRecord(models.Model):
    """One opening of a box's public trace page (扫码记录), with a coarse place.

    city comes from an optional ?city= the scanning app passes; network is the client's
    address cut to its /24 (IPv4) or /48 (IPv6), never the full address.
    """

    box = models.ForeignKey(PackedBox, on_delete=models.CASCADE, related_name="scans", verbose_name=_("box"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    scanned_at = models.DateTimeField(_("scanned at"), auto_now_add=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    network = models.CharField(_("network"), max_length=50, blank=True)
    via_digital_link = models.BooleanField(_("through GS1 Digital Link"), default=False)

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-scanned_at", "-pk"]
        indexes = [models.Index(fields=["box", "scanned_at"])]

    def __str__(self):
        return f"{self.box_id} @ {self.scanned_at}"
