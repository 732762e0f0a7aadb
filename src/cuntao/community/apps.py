from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "cuntao.community"
    label = "community"
    verbose_name = _("Community centre")

    def ready(self):
        # Each subdomain registers its own panels, periodic jobs and hooks.
        from cuntao.community.training.hooks import register as register_training
        from cuntao.community.centre.hooks import register as register_centre

        register_training()
        register_centre()
