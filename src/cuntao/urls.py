from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cuntao.api import api
from cuntao.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("media/<path:path>", core_views.public_media, name="public_media"),
    path("accounts/login/", core_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("cuntao.network.urls")),
    path("", include("cuntao.villagers.urls")),
    path("", include("cuntao.notify.urls")),
    path("", include("cuntao.catalog.urls")),
    path("", include("cuntao.ledger.urls")),
    path("", include("cuntao.logistics.urls")),
    path("", include("cuntao.orders.urls")),
    path("", include("cuntao.produce.urls")),
    path("", include("cuntao.shop.urls")),
    path("", include("cuntao.community.urls")),
    path("", include("cuntao.impact.urls")),
]
