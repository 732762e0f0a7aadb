from django.urls import path

from cuntao.orders import payment_views, views

app_name = "orders"
urlpatterns = [
    path("stations/<str:code>/orders/", views.order_index, name="index"),
    path("stations/<str:code>/orders/new/", views.order_new, name="new"),
    path("orders/<str:number>/", views.order_detail_view, name="detail"),
    path("orders/<str:number>/handover/", views.order_hand_over_view, name="hand_over"),
    path("orders/<str:number>/ship/", views.order_ship_view, name="ship"),
    path("orders/<str:number>/cancel/", views.order_cancel_view, name="cancel"),
    path("orders/<str:number>/return/", views.order_return_view, name="return"),
    # payments through the provider: the partner's new QR, a relative's pay link, the sandbox checkout
    path("orders/<str:number>/payment/", payment_views.order_payment_restart, name="payment_restart"),
    path("p/<str:token>/", payment_views.pay_link_view, name="pay_link"),
    path("p/<str:token>/pay/", payment_views.pay_link_pay, name="pay_link_pay"),
    path("pay/done/", payment_views.pay_done, name="pay_done"),
    path("pay/sandbox/<str:ref>/", payment_views.sandbox_checkout, name="sandbox_checkout"),
    # credit, county staff's board, external-marketplace orders, fraud signals
    path("villagers/<int:villager_id>/credit/", views.credit_view, name="credit"),
    path("villagers/<int:villager_id>/credit/limit/", views.credit_limit_view, name="credit_limit"),
    path("villagers/<int:villager_id>/credit/repay/", views.credit_repay_view, name="credit_repay"),
    path("stations/<str:code>/credit/", views.credit_index, name="credit_index"),
    path("county/<int:county_id>/orders/", views.county_orders, name="county_orders"),
    path("county/<int:county_id>/orders/advance/", views.county_orders_advance, name="county_orders_advance"),
    path("orders/<str:number>/advance/", views.order_advance_view, name="advance"),
    path("stations/<str:code>/external-orders/new/", views.external_new, name="external_new"),
    path("external-orders/<int:external_order_id>/", views.external_detail, name="external_detail"),
    path("external-orders/<int:external_order_id>/act/", views.external_act, name="external_act"),
    path("county/<int:county_id>/fraud-flags/", views.fraud_flags, name="fraud_flags"),
    path("county/<int:county_id>/fraud-flags/review/", views.fraud_flag_review, name="fraud_flag_review"),
]
