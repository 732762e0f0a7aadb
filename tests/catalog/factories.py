"""Catalogue test data, made through the services so search words and flags are real."""

import io
import itertools

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from cuntao.catalog.models import Category, Merchant
from cuntao.catalog.services import product_create
from cuntao.core.scope import Role, Scope

SKUS = itertools.count(1)
SYSTEM = Scope(user=None, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"测试商家{n}")
    contact_phone = "+8613905510099"
    verified_at = factory.LazyFunction(timezone.now)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "家用电器"
    slug = factory.Sequence(lambda n: f"cat-{n}")
    commission_rate_bp = 300


def make_product(*, name: str, category: Category | None = None, merchant: Merchant | None = None,
                 price_fen: int = 10000, **kwargs):
    """A product on sale, listed through product_create."""
    return product_create(
        scope=SYSTEM, merchant=merchant or MerchantFactory(), category=category or CategoryFactory(),
        sku=kwargs.pop("sku", None) or f"T-{next(SKUS):06d}",
        name=name, price_fen=price_fen, **{"stock": 10, "unit": "台", **kwargs})


def tiny_image(fmt: str = "PNG", size=(400, 300), name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 80, 20, 255) if fmt == "PNG" else (200, 80, 20)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")
