"""PostgreSQL only: trigram index for "name contains" searches and a GIN index for tag containment.

Django's ``icontains`` compiles to ``UPPER("name"::text) LIKE UPPER('%…%')`` on PostgreSQL, so the
trigram index is on that exact expression. SQLite (the embedded default) has neither kind of index and
scans; the b-tree on lower(name) still serves prefixes and ordering there.
"""

from django.db import migrations

INDEXES = {
    "inv_resource_name_trgm": "USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "inv_resource_tags_gin": "USING gin (tags jsonb_path_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON inventory_resource {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
