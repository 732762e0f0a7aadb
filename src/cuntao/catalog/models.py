from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cuntao.core.validators import validate_phone

# Limits a real village catalogue never reaches; above them a value is a typo (an extra
# zero, yuan typed as fen) and the services refuse it with a message.
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_STOCK = 1_000_000
MAX_COMMISSION_BP = 10_000  # 100 %


class Merchant(models.Model):
    """A seller (商家) whose goods the stations may sell once the programme has verified it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True, validators=[validate_phone])
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("verified by"))
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    archived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("archived by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None and self.archived_at is None


class MerchantEvent(models.Model):
    """One change of a merchant's standing (商家状态变更): verified or archived, by whom, when."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        VERIFIED = "verified", _("Verified")
        ARCHIVED = "archived", _("Archived")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="events", verbose_name=_("merchant"))
    action = models.CharField(_("action"), max_length=12, choices=Action)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant change")
        verbose_name_plural = _("merchant changes")
        ordering = ["merchant", "at", "pk"]

    def __str__(self):
        return f"{self.merchant_id}: {self.action}"


class Category(models.Model):
    """A product category (商品类目), with the partner's commission rate on its goods.

    The rate is in basis points (1/100 of a percent): 300 means 3 %. Orders read it when
    they work out the partner's commission.
    """

    name = models.CharField(_("name"), max_length=50)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent category"))
    commission_rate_bp = models.PositiveIntegerField(
        _("commission rate (basis points)"), default=300,
        help_text=_("The partner's commission in hundredths of a percent: 300 is 3 %."))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(commission_rate_bp__lte=MAX_COMMISSION_BP), name="category_commission_at_most_100_percent",
                                   violation_error_message=_("A commission rate cannot be more than 100 %.")),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="category_not_its_own_parent",
                                   violation_error_message=_("A category cannot be its own parent.")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:category", args=[self.slug])


class Unit(models.TextChoices):
    """How goods are counted and priced; the words a township shop uses."""

    PIECE = "件", _("piece (件)")
    MACHINE = "台", _("machine (台)")
    KIT = "套", _("set (套)")
    ROLL = "卷", _("roll (卷)")
    TIN = "罐", _("tin (罐)")
    HANDSET = "部", _("handset (部)")
    ITEM = "个", _("item (个)")
    BAG = "袋", _("bag (袋)")
    JIN = "斤", _("jin, 500 g (斤)")
    BOTTLE = "瓶", _("bottle (瓶)")
    BOX = "箱", _("box (箱)")
    PACK = "包", _("pack (包)")
    BARREL = "桶", _("barrel (桶)")
    PAIR = "双", _("pair (双)")
    CARD = "张", _("card or sheet (张)")
    TIME = "次", _("time, for services (次)")


class Product(models.Model):
    """A product (商品) a station can order for villagers, sold by one verified merchant.

    Prices are integer fen. The local price is what the same thing costs in the
    township shop, so the partner can show what buying here saves. A large item
    (大件) is delivered to the home and installed rather than collected as a parcel.
    name_tokens and category_tokens hold the search words (jieba words with their
    pinyin and initials, see cuntao.catalog.search); the services keep them current,
    and `listed` (on sale), which decides whether the search index holds the product.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products", verbose_name=_("merchant"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category"))
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    unit = models.CharField(_("unit"), max_length=4, choices=Unit, default=Unit.PIECE)
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    local_price_fen = models.PositiveIntegerField(_("township shop price (fen)"), null=True, blank=True)
    stock = models.PositiveIntegerField(_("stock"), default=0)
    is_large_item = models.BooleanField(_("large item: delivery and installation"), default=False)
    listed = models.BooleanField(
        _("on sale"), default=False, editable=False,
        help_text=_("Not archived, and its merchant verified and not archived; kept by the services."))
    picture = models.ImageField(_("picture"), upload_to="products/%Y/%m/", blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="products/thumbs/%Y/%m/", blank=True, editable=False)
    name_tokens = models.TextField(_("search words of the name"), blank=True, editable=False)
    category_tokens = models.TextField(_("search words of the category"), blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    archived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("archived by"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["pk"]
        indexes = [models.Index(fields=["category", "price_fen"]), models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative",
                                   violation_error_message=_("Stock cannot go below zero.")),
            models.CheckConstraint(condition=Q(price_fen__gt=0, price_fen__lte=MAX_PRICE_FEN), name="product_price_in_range",
                                   violation_error_message=_("The price must be more than ¥0 and at most ¥1,000,000.")),
            models.CheckConstraint(
                condition=Q(local_price_fen__isnull=True) | Q(local_price_fen__gt=0, local_price_fen__lte=MAX_PRICE_FEN),
                name="product_local_price_in_range",
                violation_error_message=_("The township shop price must be more than ¥0 and at most ¥1,000,000.")),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return reverse("catalog:detail", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def savings_fen(self) -> int:
        """What buying here saves against the township shop; 0 when it does not."""
        if self.local_price_fen is None:
            return 0
        return max(self.local_price_fen - self.price_fen, 0)


class ProductEvent(models.Model):
    """One change of a product (商品变更): created, changed (fields from -> to), archived."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        ARCHIVED = "archived", _("Archived")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="events", verbose_name=_("product"))
    action = models.CharField(_("action"), max_length=12, choices=Action)
    changes = models.JSONField(_("changes"), default=dict, blank=True,
                               help_text=_("Each changed field with its old and new value."))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product change")
        verbose_name_plural = _("product changes")
        ordering = ["product", "at", "pk"]

    def __str__(self):
        return f"{self.product_id}: {self.action}"
