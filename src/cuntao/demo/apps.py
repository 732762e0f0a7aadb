from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo network and synthetic networks for load tests; depends on every app."""

    name = "cuntao.demo"
    label = "demo"
    verbose_name = _("Demo network")
