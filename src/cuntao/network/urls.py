from django.urls import path

from cuntao.network import views

app_name = "network"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("station/", views.station_home, name="station_home"),
    path("county/", views.county_console, name="county_console"),
    path("county/<int:county_id>/", views.county_detail, name="county_detail"),
    path("county/<int:county_id>/apply/", views.station_application, name="station_application"),
    path("county/stations/<str:code>/", views.station_detail, name="station_detail"),
    path("county/stations/<str:code>/<str:action>/", views.station_action, name="station_action"),
]
