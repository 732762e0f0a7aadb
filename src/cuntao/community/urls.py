from django.urls import include, path

urlpatterns = [
    path("", include("cuntao.community.training.urls")),
    path("", include("cuntao.community.centre.urls")),
]
