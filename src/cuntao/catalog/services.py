"""Writes of the catalogue: merchants, categories and products, by programme admins."""

import io
import re
from pathlib import PurePath
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from cuntao.catalog.models import (
    MAX_PRICE_FEN,
    MAX_STOCK,
    Category,
    Merchant,
    MerchantEvent,
    Product,
    ProductEvent,
    Unit,
)
from cuntao.catalog.search import product_tokens
from cuntao.core.errors import Conflict, Forbidden
from cuntao.core.scope import Scope
from cuntao.core.validators import normalize_phone

THUMBNAIL_PX = 160
MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_PICTURE_PIXELS = 40_000_000  # a phone photo; more is a decompression bomb
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

PRODUCT_FIELDS = ("merchant", "category", "sku", "name", "description", "unit", "price_fen", "local_price_fen",
                  "stock", "is_large_item", "picture")
# What a change event records from -> to (pictures are files; the event notes that one changed).
TRACKED_FIELDS = ("merchant", "category", "sku", "name", "description", "unit", "price_fen", "local_price_fen",
                  "stock", "is_large_item")


def require_programme_admin(scope: Scope) -> None:
    if not scope.is_programme_admin:
        raise Forbidden(_("Only programme admins change the catalogue."))


# ---------------------------------------------------------------------------- merchants


@transaction.atomic
def merchant_create(*, scope: Scope, name: str, contact_phone: str = "") -> Merchant:
    """Register a seller; it sells nothing until merchant_verify."""
    require_programme_admin(scope)
    errors: dict[str, list[str]] = {}
    if contact_phone:
        try:
            contact_phone = normalize_phone(contact_phone)
        except ValidationError as e:
            errors["contact_phone"] = e.messages
    merchant = Merchant(name=(name or "").strip(), contact_phone=contact_phone)
    try:
        merchant.full_clean(exclude=["contact_phone"] if "contact_phone" in errors else None)
    except ValidationError as e:
        for field, messages in e.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)
    merchant.save()
    MerchantEvent.objects.create(merchant=merchant, action=MerchantEvent.Action.CREATED, actor=scope.user)
    return merchant


@transaction.atomic
def merchant_verify(*, scope: Scope, merchant: Merchant) -> Merchant:
    """Record that the programme checked this seller (licence, contact, goods)."""
    require_programme_admin(scope)
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if merchant.archived_at is not None:
        raise Conflict(_("%(name)s is archived; it cannot be verified.") % {"name": merchant.name}, code="merchant_archived")
    if merchant.verified_at is not None:
        return merchant
    merchant.verified_at, merchant.verified_by = timezone.now(), scope.user
    merchant.save(update_fields=["verified_at", "verified_by"])
    merchant.products.filter(archived_at__isnull=True).update(listed=True, updated_at=timezone.now())
    MerchantEvent.objects.create(merchant=merchant, action=MerchantEvent.Action.VERIFIED, actor=scope.user)
    return merchant


@transaction.atomic
def merchant_archive(*, scope: Scope, merchant: Merchant) -> Merchant:
    """Stop a seller: its products leave the catalogue; orders already placed keep them."""
    require_programme_admin(scope)
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if merchant.archived_at is None:
        merchant.archived_at, merchant.archived_by = timezone.now(), scope.user
        merchant.save(update_fields=["archived_at", "archived_by"])
        merchant.products.filter(listed=True).update(listed=False, updated_at=timezone.now())
        MerchantEvent.objects.create(merchant=merchant, action=MerchantEvent.Action.ARCHIVED, actor=scope.user)
    return merchant


# ---------------------------------------------------------------------------- categories


@transaction.atomic
def category_save(*, scope: Scope, category: Category) -> Category:
    """Create or change a category, and refresh the search words of its products."""
    require_programme_admin(scope)
    category.name = (category.name or "").strip()
    category.full_clean()
    category.save()
    products = Product.objects.filter(category__in=[category.pk, *category.children.values_list("pk", flat=True)])
    for product in products.select_related("category__parent"):
        product.name_tokens, product.category_tokens = _tokens(product)
        product.save(update_fields=["name_tokens", "category_tokens"])
    return category


# ---------------------------------------------------------------------------- products


def _check_amount(value, *, field: str, maximum: int, errors: dict, allow_zero: bool, message: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = [_("Enter a whole number.")]
    elif value < 0 or (value == 0 and not allow_zero) or value > maximum:
        errors[field] = [message]


def product_check_fields(values: dict) -> dict[str, list[str]]:
    """Field problems of a product's values (those present), by field; empty when all is well.

    Prices are fen: ¥1,299.00 is 129900. Their limits catch a misplaced zero.
    """
    errors: dict[str, list[str]] = {}
    if "price_fen" in values:
        _check_amount(values["price_fen"], field="price_fen", maximum=MAX_PRICE_FEN, errors=errors, allow_zero=False,
                      message=_("The price must be more than ¥0 and at most ¥1,000,000 (enter fen: ¥12.50 is 1250)."))
    if values.get("local_price_fen") is not None:
        _check_amount(values["local_price_fen"], field="local_price_fen", maximum=MAX_PRICE_FEN, errors=errors,
                      allow_zero=False,
                      message=_("The township shop price must be more than ¥0 and at most ¥1,000,000, or left empty."))
    if "stock" in values:
        _check_amount(values["stock"], field="stock", maximum=MAX_STOCK, errors=errors, allow_zero=True,
                      message=_("Stock must be between 0 and %(max)s.") % {"max": f"{MAX_STOCK:,}"})
    if "sku" in values and not SKU.match(values["sku"] or ""):
        errors["sku"] = [_("A SKU has 1 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit.")]
    if "name" in values and not (values["name"] or "").strip():
        errors["name"] = [_("Give the product a name.")]
    if "unit" in values and values["unit"] not in Unit.values:
        errors["unit"] = [_("Choose one of the units: %(units)s.") % {"units": " ".join(Unit.values)}]
    merchant = values.get("merchant")
    if "merchant" in values and (merchant is None or not merchant.is_verified):
        errors["merchant"] = [_("Only a verified merchant that is not archived can list products.")]
    if "category" in values and values["category"] is None:
        errors["category"] = [_("Choose a category.")]
    return errors


def make_thumbnail(picture) -> ContentFile:
    """A small JPEG of picture (at most 160 px a side) for pages on slow networks.

    JPEG, not WebP: the oldest Android browsers at stations show it too, and at this
    size the difference is a few hundred bytes.
    """
    picture.seek(0)
    with Image.open(picture) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        if image.mode != "RGB":
            background = Image.new("RGB", image.size, "white")
            rgba = image.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=70, optimize=True, progressive=True)
    picture.seek(0)
    return ContentFile(out.getvalue())


def _check_picture(picture, errors: dict) -> None:
    if getattr(picture, "size", 0) > MAX_PICTURE_BYTES:
        errors["picture"] = [_("The picture is larger than 5 MB; send a smaller one.")]
        return
    try:
        picture.seek(0)
        with Image.open(picture) as image:
            too_large = image.width * image.height > MAX_PICTURE_PIXELS
            image.verify()
        picture.seek(0)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        errors["picture"] = [_("This file is not a picture we can read; send a JPEG or PNG photo.")]
        return
    if too_large:
        errors["picture"] = [_("The picture has too many pixels; send a photo of at most 40 megapixels.")]


def _tokens(product: Product) -> tuple[str, str]:
    category = product.category
    names = [category.name] + ([category.parent.name] if category.parent_id else [])
    return product_tokens(name=product.name, category_names=names)


def _save_product(product: Product, *, picture, errors: dict) -> Product:
    product.name = (product.name or "").strip()
    product.description = (product.description or "").strip()
    if picture:
        _check_picture(picture, errors)
    try:
        product.full_clean(exclude=["merchant", "category", "picture", "thumbnail", "name_tokens", "category_tokens",
                                    *errors.keys()], validate_unique=False, validate_constraints=False)
    except ValidationError as e:
        for field, messages in e.message_dict.items():
            errors.setdefault(field, messages)
    if "sku" not in errors and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
        errors["sku"] = [_("Another product already has the SKU %(sku)s.") % {"sku": product.sku}]
    if errors:
        raise ValidationError(errors)
    product.name_tokens, product.category_tokens = _tokens(product)
    product.listed = product.archived_at is None and product.merchant.is_verified
    if picture:
        stem = PurePath(picture.name or "picture").stem[:40] or "picture"
        product.picture.save(f"{stem}{PurePath(picture.name or '.jpg').suffix.lower()[:5]}", picture, save=False)
        product.thumbnail.save(f"{stem}-{THUMBNAIL_PX}.jpg", make_thumbnail(product.picture.file), save=False)
    product.save()
    return product


@transaction.atomic
def product_create(
    *,
    scope: Scope,
    merchant: Merchant,
    category: Category,
    sku: str,
    name: str,
    price_fen: int,
    stock: int = 0,
    unit: str = Unit.PIECE,
    description: str = "",
    local_price_fen: int | None = None,
    is_large_item: bool = False,
    picture=None,
) -> Product:
    """List a product of a verified merchant. Field problems raise ValidationError by field."""
    require_programme_admin(scope)
    values = {"merchant": merchant, "category": category, "sku": (sku or "").strip(), "name": name,
              "price_fen": price_fen, "local_price_fen": local_price_fen, "stock": stock, "unit": unit}
    errors = product_check_fields(values)
    product = Product(
        merchant=merchant, category=category, sku=values["sku"], name=name, description=description, unit=unit,
        price_fen=price_fen, local_price_fen=local_price_fen, stock=stock, is_large_item=is_large_item,
        created_by=scope.user,
    )
    _save_product(product, picture=picture, errors=errors)
    ProductEvent.objects.create(product=product, action=ProductEvent.Action.CREATED, actor=scope.user,
                                changes={f: [None, _plain(getattr(product, f))] for f in ("price_fen", "stock")})
    return product


def _plain(value):
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def product_update(*, scope: Scope, product: Product, **changes) -> Product:
    """Change a product's details; fields not given keep their values.

    Stock set here is a correction by the programme (a delivery counted, a loss);
    orders reserve and release stock through their own services under row locks.
    """
    require_programme_admin(scope)
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({field: [_("This field cannot be changed here.")] for field in sorted(unknown)})
    product = Product.objects.select_for_update(of=("self",)).select_related("category__parent", "merchant").get(pk=product.pk)
    if product.archived_at is not None:
        raise Conflict(_("This product is archived and cannot be changed."), code="product_archived")
    if "sku" in changes:
        changes["sku"] = (changes["sku"] or "").strip()
    errors = product_check_fields(changes)
    # The merchant is only checked when it changes: a product keeps its merchant's listing.
    picture = changes.pop("picture", None)
    before = {f: _plain(getattr(product, f)) for f in TRACKED_FIELDS}
    for field, value in changes.items():
        if field not in errors:
            setattr(product, field, value)
    _save_product(product, picture=picture, errors=errors)
    diff = {f: [before[f], _plain(getattr(product, f))] for f in TRACKED_FIELDS if before[f] != _plain(getattr(product, f))}
    if picture:
        diff["picture"] = [None, product.picture.name]
    if diff:
        ProductEvent.objects.create(product=product, action=ProductEvent.Action.CHANGED, actor=scope.user, changes=diff)
    return product


@transaction.atomic
def product_archive(*, scope: Scope, product: Product) -> Product:
    """Take a product off sale for good; orders that hold it keep it. Archiving twice is harmless."""
    require_programme_admin(scope)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.archived_at is None:
        product.archived_at, product.archived_by, product.listed = timezone.now(), scope.user, False
        product.save(update_fields=["archived_at", "archived_by", "listed", "updated_at"])
        ProductEvent.objects.create(product=product, action=ProductEvent.Action.ARCHIVED, actor=scope.user)
    return product


def product_lock_for_update(*, product_ids) -> dict[int, Product]:
    """Lock the products with these ids, in primary-key order, and return them by id.

    For the orders app, before it reads and changes stock: taking the locks in pk
    order means two orders over the same products cannot deadlock. Must run inside
    the caller's transaction.atomic(), which holds the locks until it ends; on SQLite
    that transaction's BEGIN IMMEDIATE already serialises writers. Archived products
    are locked too (a cancelled order returns their stock); the caller decides what
    may be sold. Ids that do not exist are simply missing from the result.
    """
    ids = sorted({int(pk) for pk in product_ids})
    locked: QuerySet[Product] = Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {product.pk: product for product in locked}


class ProductForSale(NamedTuple):
    """What placing an order reads of a product, under its lock."""

    id: int
    name: str
    price_fen: int
    local_price_fen: int | None
    stock: int
    listed: bool
    category_id: int | None
    commission_rate_bp: int  # the category's; 0 without a category


def product_lock_for_sale(*, product_ids) -> dict[int, ProductForSale]:
    """product_lock_for_update for placing an order, with each category's commission rate.

    One hand-written statement rather than two ORM queries: placing an order is the
    Double-11 hot path, and there the ORM's compiling of each query costs more than
    the database's work. Same locks in the same (primary-key) order.
    """
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        return {}
    lock = " FOR UPDATE OF p" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.name, p.price_fen, p.local_price_fen, p.stock, p.listed, p.category_id, "
            "COALESCE(c.commission_rate_bp, 0) FROM catalog_product p "
            "LEFT JOIN catalog_category c ON c.id = p.category_id "
            f"WHERE p.id IN ({', '.join(['%s'] * len(ids))}) ORDER BY p.id{lock}", ids)
        rows = [ProductForSale(*row[:5], bool(row[5]), *row[6:]) for row in cursor.fetchall()]
    return {row.id: row for row in rows}


def product_stock_move(*, changes: dict[int, int]) -> None:
    """Add changes[id] (negative: taken) to each product's stock, in one statement.

    The caller holds the products' locks and has checked the stock; the CHECK
    (stock >= 0) is the backstop.
    """
    if not changes:
        return
    ids = sorted(changes)
    cases = " ".join(["WHEN %s THEN %s"] * len(ids))
    params = [value for pk in ids for value in (pk, changes[pk])] + ids
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE catalog_product SET stock = stock + CASE id {cases} END "
                       f"WHERE id IN ({', '.join(['%s'] * len(ids))})", params)
