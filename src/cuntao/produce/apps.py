from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProduceConfig(AppConfig):
    name = "cuntao.produce"
    label = "produce"
    verbose_name = _("Produce")
