from django.http import HttpRequest
from ninja import Field, Header, Query, Router, Schema
from ninja.pagination import paginate

from cuntao.catalog.models import MAX_PRICE_FEN, Merchant, Product, Unit
from cuntao.catalog.selectors import (
    category_get_for_actor,
    category_list,
    merchant_list,
    product_get_for_actor,
    product_search,
)
from cuntao.catalog.services import product_create, product_update, require_programme_admin
from cuntao.core.errors import NotFound
from cuntao.core.idempotency import idempotent_create

router = Router(tags=["catalog"])


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    parent: str | None = Field(None, alias="parent.slug")
    commission_rate_bp: int


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    unit: str
    price_fen: int
    local_price_fen: int | None
    savings_fen: int
    stock: int
    is_large_item: bool
    category: str = Field(..., alias="category.slug")
    merchant: str = Field(..., alias="merchant.name")
    picture_url: str | None = None
    thumbnail_url: str | None = None

    @staticmethod
    def resolve_picture_url(obj: Product) -> str | None:
        return obj.picture.url if obj.picture else None

    @staticmethod
    def resolve_thumbnail_url(obj: Product) -> str | None:
        return obj.thumbnail.url if obj.thumbnail else None


class ProductFilters(Schema):
    q: str | None = Field(None, max_length=50, description="Characters, full pinyin, initials or a mixture: 电饭煲, dianfanbao, dfb.")
    category: str | None = Field(None, max_length=50, description="Category slug; includes its sub-categories.")
    price_min_fen: int | None = Field(None, ge=0, le=MAX_PRICE_FEN)
    price_max_fen: int | None = Field(None, ge=0, le=MAX_PRICE_FEN)


# Schemas bound only the size of what is read; the services own the rules and their messages.
class ProductIn(Schema):
    merchant_id: int
    category: str = Field(..., max_length=50, description="Category slug.")
    sku: str = Field(..., max_length=80)
    name: str = Field(..., max_length=200)
    description: str = Field("", max_length=4000)
    unit: Unit = Unit.PIECE
    price_fen: int
    local_price_fen: int | None = None
    stock: int = 0
    is_large_item: bool = False


class ProductPatch(Schema):
    category: str | None = Field(None, max_length=50)
    sku: str | None = Field(None, max_length=80)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    unit: Unit | None = None
    price_fen: int | None = None
    local_price_fen: int | None = None
    stock: int | None = None
    is_large_item: bool | None = None


@router.get("/categories", response=list[CategoryOut], summary="Product categories")
def list_categories(request: HttpRequest):
    return category_list(scope=request.scope)


@router.get("/products", response=list[ProductOut], summary="Find products by characters, pinyin or initials")
@paginate
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    scope = request.scope
    category = category_get_for_actor(scope=scope, slug=filters.category) if filters.category else None
    return product_search(scope=scope, q=filters.q, category=category, price_min_fen=filters.price_min_fen,
                          price_max_fen=filters.price_max_fen, limit=None)


@router.get("/products/{product_id}", response=ProductOut, summary="One product")
def get_product(request: HttpRequest, product_id: int):
    return product_get_for_actor(scope=request.scope, product_id=product_id)


def _merchant(scope, merchant_id: int) -> Merchant:
    found = merchant_list(scope=scope).filter(pk=merchant_id).first()
    if found is None:
        raise NotFound(detail="merchant")
    return found


@router.post("/products", response={201: ProductOut}, summary="List a product (programme admins)")
def create_product(request: HttpRequest, payload: ProductIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        require_programme_admin(scope)
        data = payload.dict(exclude={"merchant_id", "category"})
        product = product_create(scope=scope, merchant=_merchant(scope, payload.merchant_id),
                                 category=category_get_for_actor(scope=scope, slug=payload.category), **data)
        return 201, ProductOut.from_orm(product).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


@router.patch("/products/{product_id}", response=ProductOut, summary="Change a product (programme admins)")
def patch_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    scope = request.scope
    require_programme_admin(scope)
    product = product_get_for_actor(scope=scope, product_id=product_id, include_archived=True)
    changes = payload.dict(exclude_unset=True)
    if "category" in changes:
        changes["category"] = category_get_for_actor(scope=scope, slug=changes["category"]) if changes["category"] else None
    product = product_update(scope=scope, product=product, **changes)
    return product_get_for_actor(scope=scope, product_id=product.pk, include_archived=True)
