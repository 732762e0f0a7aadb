from django.urls import path

from cuntao.notify import views

app_name = "notify"
urlpatterns = [
    path("notices/stations/<str:code>/tell/", views.tell_list, name="tell_list"),
    path("notices/<int:notice_id>/told/", views.notice_told, name="told"),
    path("notices/county/<int:county_id>/", views.county_notices, name="county_notices"),
    path("notices/<int:notice_id>/retry/", views.notice_retry_view, name="retry"),
]
