from django.urls import include, path

urlpatterns = [
    path("", include("cuntao.impact.indicators.urls")),
    path("", include("cuntao.impact.evaluation.urls")),
]
