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

# County route planning (route_views); appended so the patterns above stay as they are.
from cuntao.logistics import route_views

urlpatterns += [
    path("logistics/county/<int:county_id>/routes/", route_views.routes_page, name="routes"),
    path("logistics/county/<int:county_id>/routes/fleet/", route_views.fleet_save, name="routes_fleet"),
    path("logistics/county/<int:county_id>/routes/matrix/", route_views.matrix_upload, name="routes_matrix"),
    path("logistics/county/<int:county_id>/routes/plan/", route_views.plan_today, name="routes_plan"),
    path("logistics/county/<int:county_id>/routes/<int:plan_id>/confirm/", route_views.plan_confirm,
         name="routes_confirm"),
    path("logistics/county/<int:county_id>/routes/<int:plan_id>/sheet.pdf", route_views.plan_pdf, name="routes_pdf"),
]
