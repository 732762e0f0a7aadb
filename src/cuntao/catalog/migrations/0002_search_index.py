"""The full-text index of product search words: FTS5 and triggers on SQLite, GIN on PostgreSQL.

See cuntao.catalog.search; the same statements run again after every migrate, because
SQLite drops the triggers when a later migration rebuilds catalog_product.
"""

from django.db import migrations


def install(apps, schema_editor):
    from cuntao.catalog.search import install_search_index, rebuild_search_index

    install_search_index(schema_editor.connection)
    rebuild_search_index(schema_editor.connection)


def uninstall(apps, schema_editor):
    from cuntao.catalog.search import uninstall_search_index

    uninstall_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
