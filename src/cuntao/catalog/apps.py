from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_search_index(sender, using, **kwargs):
    """Re-create the search triggers if a migration rebuilt catalog_product (SQLite drops them)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from cuntao.catalog.search import install_search_index

    connection = connections[using]
    if ("catalog", "0002_search_index") in MigrationRecorder(connection).applied_migrations():
        install_search_index(connection)


class CatalogConfig(AppConfig):
    name = "cuntao.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self):
        from cuntao.catalog.selectors import category_list
        from cuntao.core.panels import StationPanel, register_station_panel

        post_migrate.connect(ensure_search_index, sender=self, dispatch_uid="catalog_search_index")
        register_station_panel(StationPanel(
            order=20, template="catalog/_station_panel.html",
            context=lambda request, station: {"categories": list(category_list(scope=request.scope).filter(parent=None))},
        ))
