"""The shop's API: the public window, the buyer's cart, checkout and orders, the cooperative's work.

Browsing is public (no auth); everything else needs a signed-in buyer (session or
token) or, for packing, shipping, refunds and payouts, the cooperative's county staff.
"""

from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils.translation import get_language
from ninja import Field, Header, Router, Schema

from cuntao.core.idempotency import idempotent_create
from cuntao.shop import selectors, services
from cuntao.shop.models import ShopOrderStatus

router = Router(tags=["shop"])


class ProductOut(Schema):
    id: int
    title: str
    title_zh: str
    title_en: str
    brand: str
    cooperative: str
    cooperative_slug: str
    pack_size: str
    net_weight_g: int
    price_fen: int
    stock: int = Field(..., description="Packed boxes in stock now.")
    url: str


def product_out(listing) -> dict:
    brand = listing.pack_size.standard.brand
    return ProductOut(id=listing.pk, title=listing.title_in(get_language()), title_zh=listing.title_zh,
                      title_en=listing.title_en, brand=brand.name if brand else "", cooperative=listing.cooperative.name,
                      cooperative_slug=listing.cooperative.slug, pack_size=listing.pack_size.name,
                      net_weight_g=listing.pack_size.net_weight_g, price_fen=listing.price_fen, stock=listing.stock,
                      url=listing.get_absolute_url()).model_dump()


class CartLineIn(Schema):
    quantity: int = Field(..., description="Boxes, 1 to 20.")


class CartLineOut(Schema):
    product_id: int
    title: str
    cooperative_slug: str
    quantity: int
    unit_price_fen: int
    line_total_fen: int
    stock: int


class CartOut(Schema):
    lines: list[CartLineOut]
    total_fen: int


class CheckoutLineIn(Schema):
    product_id: int
    quantity: int = Field(..., description="Boxes, 1 to 20.")


class CheckoutIn(Schema):
    lines: list[CheckoutLineIn] | None = Field(None, max_length=20, description="Leave out to check out the cart.")
    cooperative_id: int | None = Field(None, description="With a cart of several cooperatives: which to check out.")
    recipient_name: str = Field(..., max_length=50)
    recipient_phone: str = Field(..., max_length=20)
    address: str = Field(..., max_length=300)


class OrderLineOut(Schema):
    product_id: int
    title: str
    quantity: int
    unit_price_fen: int
    line_total_fen: int


class BoxOut(Schema):
    code: str
    status: str
    trace_url: str


class EventOut(Schema):
    at: datetime
    from_status: str
    to_status: str
    note: str


class ShopOrderOut(Schema):
    number: str
    status: ShopOrderStatus
    cooperative: str
    goods_total_fen: int
    refunded_fen: int
    recipient_name: str
    address: str
    placed_at: datetime
    reserved_until: datetime
    paid_at: datetime | None
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    tracking_url: str
    url: str
    lines: list[OrderLineOut]
    boxes: list[BoxOut]
    events: list[EventOut]


class OrderSummaryOut(Schema):
    number: str
    status: ShopOrderStatus
    cooperative: str
    goods_total_fen: int
    placed_at: datetime
    recipient_name: str
    address: str


class PayIn(Schema):
    return_url: str | None = Field(None, max_length=300, description="Where the provider sends the buyer back.")


class PayOut(Schema):
    pay_url: str
    qr_text: str


class ReasonIn(Schema):
    reason: str = Field(..., max_length=1000)


class RefundIn(ReasonIn):
    amount_fen: int


class ShipIn(Schema):
    carrier: str = Field("", max_length=40)
    carrier_tracking_no: str = Field("", max_length=40)


class PayoutTotalOut(Schema):
    member_id: int
    name: str
    total_fen: int
    sales: int


class PayoutShareOut(Schema):
    order: str
    graded_lot: str
    at: datetime
    lot_revenue_fen: int
    fee_rate_bp: int
    fee_fen: int
    farmers_fen: int
    contributed_g: int
    lot_contributed_g: int
    amount_fen: int


class StatementOut(Schema):
    member_id: int
    name: str
    total_fen: int
    shares: list[PayoutShareOut]


def order_out(order) -> dict:
    detail = selectors.order_detail(order=order)
    language = get_language()
    return ShopOrderOut(
        number=order.number, status=order.status, cooperative=order.cooperative.name,
        goods_total_fen=order.goods_total_fen, refunded_fen=order.refunded_fen, recipient_name=order.recipient_name,
        address=order.address, placed_at=order.placed_at, reserved_until=order.reserved_until, paid_at=order.paid_at,
        packed_at=order.packed_at, shipped_at=order.shipped_at, delivered_at=order.delivered_at,
        tracking_url=detail["tracking_url"], url=order.get_absolute_url(),
        lines=[OrderLineOut(product_id=line.listing_id, title=line.listing.title_in(language), quantity=line.quantity,
                            unit_price_fen=line.unit_price_fen, line_total_fen=line.line_total_fen)
               for line in detail["lines"]],
        boxes=[BoxOut(code=box.code, status=box.status, trace_url=box.trace_url) for box in detail["boxes"]],
        events=[EventOut(at=e.at, from_status=e.from_status, to_status=e.to_status, note=e.note)
                for e in detail["events"]],
    ).model_dump(mode="json")


def _order(request, number: str):
    return selectors.buyer_order_get(scope=request.scope, number=number)


# --- public ---------------------------------------------------------------------------

@router.get("/shop/products", auth=None, response=list[ProductOut], summary="Products on sale, with boxes in stock")
def list_products(request: HttpRequest, brand: str | None = None, cooperative: str | None = None):
    return [product_out(listing) for listing in
            selectors.public_listings(brand_slug=brand, cooperative_slug=cooperative)]


@router.get("/shop/products/{product_id}", auth=None, response=ProductOut, summary="One product")
def get_product(request: HttpRequest, product_id: int):
    return product_out(selectors.public_listing(listing_id=product_id))


# --- the buyer ------------------------------------------------------------------------

def _cart(request) -> dict:
    language = get_language()
    lines = [CartLineOut(product_id=line.listing_id, title=line.listing.title_in(language),
                         cooperative_slug=group.cooperative.slug, quantity=line.quantity,
                         unit_price_fen=line.listing.price_fen, line_total_fen=line.total_fen,
                         stock=line.listing.stock)
             for group in selectors.cart_groups(scope=request.scope) for line in group.lines]
    return CartOut(lines=lines, total_fen=sum(line.line_total_fen for line in lines)).model_dump()


@router.get("/shop/cart", response=CartOut, summary="The buyer's cart")
def get_cart(request: HttpRequest):
    return _cart(request)


@router.put("/shop/cart/{product_id}", response=CartOut, summary="Set how many boxes of a product are in the cart")
def put_cart_line(request: HttpRequest, product_id: int, payload: CartLineIn):
    services.cart_put(scope=request.scope, listing_id=product_id, quantity=payload.quantity)
    return _cart(request)


@router.delete("/shop/cart/{product_id}", response=CartOut, summary="Take a product out of the cart")
def delete_cart_line(request: HttpRequest, product_id: int):
    services.cart_remove(scope=request.scope, listing_id=product_id)
    return _cart(request)


@router.post("/shop/checkout", response={201: ShopOrderOut},
             summary="Check out: hold the boxes for 30 minutes and make the order awaiting payment")
def checkout(request: HttpRequest, payload: CheckoutIn,
             idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        delivery = services.clean_delivery(recipient_name=payload.recipient_name,
                                           recipient_phone=payload.recipient_phone, address=payload.address)
        if payload.lines is not None:
            order = services.shop_checkout(scope=scope, lines=[(line.product_id, line.quantity) for line in payload.lines],
                                           delivery=delivery, idempotency_key=idempotency_key or "")
        else:
            order = services.shop_checkout_cart(scope=scope, cooperative_id=payload.cooperative_id, delivery=delivery,
                                                idempotency_key=idempotency_key or "")
        return 201, order_out(order)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/shop/orders/{number}/pay", response=PayOut,
             summary="Start (or resume) paying: where to send the buyer, and a QR text for a phone")
def pay_order(request: HttpRequest, number: str, payload: PayIn):
    order = _order(request, number)
    checkout = services.shop_order_pay(scope=request.scope, order=order,
                                       return_url=payload.return_url or order.get_absolute_url())
    return {"pay_url": checkout.pay_url, "qr_text": checkout.qr_text}


@router.get("/shop/orders", response=list[OrderSummaryOut], summary="The buyer's orders, newest first")
def list_my_orders(request: HttpRequest):
    return [OrderSummaryOut(number=o.number, status=o.status, cooperative=o.cooperative.name,
                            goods_total_fen=o.goods_total_fen, placed_at=o.placed_at, recipient_name=o.recipient_name,
                            address=o.address).model_dump()
            for o in selectors.buyer_orders(scope=request.scope)[:100]]


@router.get("/shop/orders/{number}", response=ShopOrderOut, summary="One order: status, boxes, parcel tracking")
def get_order(request: HttpRequest, number: str):
    return JsonResponse(order_out(_order(request, number)))


@router.post("/shop/orders/{number}/cancel", response=ShopOrderOut,
             summary="Cancel: the buyer while unpaid; the cooperative until shipped (refunding what was paid)")
def cancel_order(request: HttpRequest, number: str, payload: ReasonIn):
    order = services.shop_order_cancel(scope=request.scope, order=_order(request, number), reason=payload.reason)
    return JsonResponse(order_out(order))


@router.post("/shop/orders/{number}/delivered", response=ShopOrderOut, summary="The parcel arrived")
def deliver_order(request: HttpRequest, number: str):
    order = services.shop_order_deliver(scope=request.scope, order=_order(request, number))
    return JsonResponse(order_out(order))


# --- the cooperative's staff ------------------------------------------------------------

@router.get("/shop/cooperatives/{slug}/orders", response=list[OrderSummaryOut],
            summary="The cooperative's orders to pack and ship (paid and later; ?status= to choose)")
def cooperative_orders(request: HttpRequest, slug: str, status: ShopOrderStatus | None = None):
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    return [OrderSummaryOut(number=o.number, status=o.status, cooperative=cooperative.name,
                            goods_total_fen=o.goods_total_fen, placed_at=o.placed_at, recipient_name=o.recipient_name,
                            address=o.address).model_dump()
            for o in selectors.cooperative_orders(scope=request.scope, cooperative=cooperative, status=status)[:500]]


@router.post("/shop/orders/{number}/pack", response=ShopOrderOut, summary="The cooperative packed the order")
def pack_order(request: HttpRequest, number: str):
    return JsonResponse(order_out(services.shop_order_pack(scope=request.scope, order=_order(request, number))))


@router.post("/shop/orders/{number}/ship", response=ShopOrderOut,
             summary="Ship: registers the outbound parcel in logistics; its tracking link goes to the buyer")
def ship_order(request: HttpRequest, number: str, payload: ShipIn):
    order = services.shop_order_ship(scope=request.scope, order=_order(request, number), carrier=payload.carrier,
                                     carrier_tracking_no=payload.carrier_tracking_no)
    return JsonResponse(order_out(order))


@router.post("/shop/orders/{number}/refund", response=ShopOrderOut,
             summary="Refund part or all of a paid order through the payment provider")
def refund_order(request: HttpRequest, number: str, payload: RefundIn):
    order = services.shop_order_refund(scope=request.scope, order=_order(request, number),
                                       amount_fen=payload.amount_fen, reason=payload.reason)
    return JsonResponse(order_out(order))


@router.get("/shop/cooperatives/{slug}/payouts", response=list[PayoutTotalOut],
            summary="What each farmer is owed from the shop's sales")
def payouts(request: HttpRequest, slug: str):
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    return selectors.payout_totals(scope=request.scope, cooperative=cooperative)


@router.get("/shop/cooperatives/{slug}/payouts/{member_id}", response=StatementOut,
            summary="One farmer's statement: each lot sale and their share of it")
def statement(request: HttpRequest, slug: str, member_id: int):
    cooperative = selectors.cooperative_get_for_actor(scope=request.scope, slug=slug)
    data = selectors.farmer_statement(scope=request.scope, cooperative=cooperative, member_id=member_id)
    return StatementOut(member_id=data["member"].pk, name=data["member"].name, total_fen=data["total_fen"], shares=[
        PayoutShareOut(order=s.lot_sale.order.number, graded_lot=s.lot_sale.graded_lot.code, at=s.lot_sale.created_at,
                       lot_revenue_fen=s.lot_sale.revenue_fen, fee_rate_bp=s.lot_sale.fee_rate_bp,
                       fee_fen=s.lot_sale.fee_fen, farmers_fen=s.lot_sale.farmers_fen, contributed_g=s.contributed_g,
                       lot_contributed_g=s.lot_grams, amount_fen=s.amount_fen)
        for s in data["shares"]]).model_dump(mode="json")
