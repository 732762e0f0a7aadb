from django.urls import path

from cuntao.orders import views

app_name = "orders"
urlpatterns = [
    path("stations/<str:code>/orders/", views.order_index, name="index"),
    path("stations/<str:code>/orders/new/", views.order_new, name="new"),
    path("orders/<str:number>/", views.order_detail_view, name="detail"),
    path("orders/<str:number>/handover/", views.order_hand_over_view, name="hand_over"),
    path("orders/<str:number>/cancel/", views.order_cancel_view, name="cancel"),
    path("orders/<str:number>/return/", views.order_return_view, name="return"),
]
