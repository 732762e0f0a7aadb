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

# Returns, labels and shelf capacity (views), home delivery runs (delivery_views).
from cuntao.logistics import delivery_views

urlpatterns += [
    path("logistics/stations/<str:code>/returns/", views.station_returns_page, name="returns"),
    path("logistics/stations/<str:code>/labels.pdf", views.station_labels, name="station_labels"),
    path("logistics/parcels/<str:code>/label.pdf", views.parcel_label, name="label"),
    path("logistics/parcels/<str:code>/return/", views.parcel_mark_for_return_view, name="mark_return"),
    path("logistics/parcels/<str:code>/return/sent/", views.parcel_return_send_view, name="return_send"),
    path("logistics/proofs/<int:event_id>/", views.proof_file, name="proof"),
    path("logistics/stations/<str:code>/delivery/", delivery_views.delivery_page, name="delivery"),
    path("logistics/delivery/<int:run_id>/", delivery_views.run_page, name="run"),
    path("logistics/delivery/<int:run_id>/close/", delivery_views.run_close, name="run_close"),
    path("logistics/delivery/<int:run_id>/stops/<int:sequence>/", delivery_views.stop_page, name="stop"),
    path("logistics/villagers/<int:villager_id>/home/", delivery_views.home_location_page, name="home_location"),
]
