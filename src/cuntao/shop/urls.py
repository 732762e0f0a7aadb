from django.urls import path

from cuntao.shop import views

app_name = "shop"
urlpatterns = [
    path("shop/", views.shop_index, name="index"),
    path("shop/brands/<slug:brand_slug>/", views.shop_index, name="brand"),
    path("shop/cooperatives/<slug:cooperative_slug>/", views.shop_index, name="cooperative"),
    path("shop/products/<int:listing_id>/", views.product_detail, name="product"),
    path("shop/products/<int:listing_id>/add/", views.cart_add, name="cart_add"),
    path("shop/feed.csv", views.product_feed, name="feed"),
    path("shop/register/", views.buyer_register_view, name="register"),
    path("shop/login/", views.BuyerLoginView.as_view(), name="login"),
    path("shop/cart/", views.cart_view, name="cart"),
    path("shop/cart/<int:listing_id>/", views.cart_update, name="cart_update"),
    path("shop/checkout/<slug:cooperative_slug>/", views.checkout_view, name="checkout"),
    path("shop/orders/", views.my_orders, name="orders"),
    path("shop/orders/<str:number>/", views.order_view, name="order"),
    path("shop/orders/<str:number>/<slug:action>/", views.order_action, name="order_action"),
    path("shop/coop/<slug:slug>/orders/", views.cooperative_orders_view, name="coop_orders"),
    path("shop/coop/<slug:slug>/payouts/", views.payouts_view, name="payouts"),
    path("shop/coop/<slug:slug>/payouts/<int:member_id>/", views.statement_view, name="statement"),
]
