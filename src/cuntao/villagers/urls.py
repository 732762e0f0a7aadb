from django.urls import path

from cuntao.villagers import views

app_name = "villagers"
urlpatterns = [
    path("stations/<str:code>/villagers/", views.villager_index, name="index"),
    path("stations/<str:code>/villagers/new/", views.villager_new, name="new"),
    path("villagers/<int:villager_id>/", views.villager_detail, name="detail"),
    path("villagers/<int:villager_id>/edit/", views.villager_edit, name="edit"),
    path("villagers/<int:villager_id>/relatives/new/", views.relative_new, name="relative_new"),
]
