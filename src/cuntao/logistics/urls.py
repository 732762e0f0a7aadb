from django.urls import path

from cuntao.logistics import views

app_name = "logistics"
urlpatterns = [
    path("logistics/warehouse/", views.warehouse_page, name="warehouse"),
    path("logistics/stations/<str:code>/receipt/", views.station_receipt, name="receipt"),
    path("logistics/stations/<str:code>/receipt/close/", views.station_receipt_close_view, name="receipt_close"),
    path("logistics/stations/<str:code>/shelf/", views.station_shelf_page, name="shelf"),
    path("logistics/parcels/<str:code>/", views.parcel_detail, name="parcel"),
    path("logistics/parcels/<str:code>/handover/", views.handover_page, name="handover"),
    path("t/<str:token>/", views.track_page, name="track"),
]
