from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cuntao.core.validators import mask_national_id, validate_birth_year, validate_national_id, validate_phone
from cuntao.network.models import County, Station


class Household(models.Model):
    """A household (户) of villagers, registered at one station."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="households", verbose_name=_("station"))
    name = models.CharField(_("name"), max_length=100, help_text=_("How the village knows the household, such as 张家 or 村东头李家."))
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["station", "name"])]

    def __str__(self):
        return self.name


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class Villager(models.Model):
    """A villager (村民) served by one home station; often without a login of their own.

    The name's pinyin and initials are stored so a partner who cannot type characters
    well finds 王秀英 by typing "wangxiuying" or "wxy".
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="villagers", verbose_name=_("home station"))
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("household"))
    name = models.CharField(_("name"), max_length=50)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=300, editable=False, db_index=True)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    national_id = models.CharField(_("ID number"), max_length=18, blank=True, validators=[validate_national_id])
    birth_year = models.PositiveSmallIntegerField(_("birth year"), validators=[validate_birth_year])
    gender = models.CharField(_("gender"), max_length=6, choices=Gender)
    needs_large_print = models.BooleanField(_("needs large print"), default=False)
    needs_voice = models.BooleanField(_("needs voice notices"), default=False, help_text=_("Cannot read text messages; call or tell in person."))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    consent_at = models.DateTimeField(_("agreed to data processing at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("registered by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("villager")
        verbose_name_plural = _("villagers")
        ordering = ["name_pinyin", "pk"]
        indexes = [
            models.Index(fields=["station", "name_pinyin"]),
            models.Index(fields=["station", "name_initials"]),
            models.Index(fields=["station", "phone"]),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("villagers:detail", args=[self.pk])

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id)


class Relation(models.TextChoices):
    SON = "son", _("Son")
    DAUGHTER = "daughter", _("Daughter")
    SPOUSE = "spouse", _("Spouse")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Brother or sister")
    PARENT = "parent", _("Parent")
    OTHER = "other", _("Other relative")


class MigrantRelative(models.Model):
    """A relative working away in a city (外出务工亲属) who can get notices and pay."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, related_name="relatives", verbose_name=_("villager"))
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    city = models.CharField(_("city"), max_length=50, blank=True)
    relation = models.CharField(_("relation"), max_length=12, choices=Relation)
    receives_notices = models.BooleanField(_("receives notices"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("migrant relative")
        verbose_name_plural = _("migrant relatives")
        ordering = ["villager", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["villager", "phone"], name="relative_phone_unique_per_villager",
                                    violation_error_message=_("This villager already has a relative with that phone number.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_relation_display()})"
