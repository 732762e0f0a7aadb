from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImpactConfig(AppConfig):
    name = "cuntao.impact"
    label = "impact"
    verbose_name = _("Impact")

    def ready(self):
        # Each subdomain registers its own panels, periodic jobs and hooks.
        from cuntao.impact.indicators.hooks import register as register_indicators
        from cuntao.impact.evaluation.hooks import register as register_evaluation

        register_indicators()
        register_evaluation()
