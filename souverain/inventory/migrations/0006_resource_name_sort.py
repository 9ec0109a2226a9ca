"""Resource.name_sort: the natural-order key of the name (web-2 before web-10), stored and indexed.

Existing rows get their key in chunks. On PostgreSQL the column uses the "C" collation: the key is built to be
compared character by character, and a locale collation (en_US.UTF-8 ignores punctuation at first level)
would reorder it; "C" also makes the b-tree comparisons cheaper. SQLite compares bytes by default.
"""

from django.db import migrations, models

import souverain.inventory.models
from souverain.inventory.natural import natural_key

CHUNK = 5000


def fill(apps, schema_editor):
    resource = apps.get_model("inventory", "Resource")
    rows = resource.objects.using(schema_editor.connection.alias).order_by("id")
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last).only("id", "name")[:CHUNK])
        if not chunk:
            return
        for row in chunk:
            row.name_sort = natural_key(row.name)
        resource.objects.using(schema_editor.connection.alias).bulk_update(chunk, ["name_sort"], batch_size=1000)
        last = chunk[-1].id


def c_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE inventory_resource ALTER COLUMN name_sort TYPE varchar(255) COLLATE "C"')


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_postgresql_filter_gin")]

    operations = [
        migrations.AddField(
            model_name="resource",
            name="name_sort",
            field=souverain.inventory.models.NaturalSortKeyField(blank=True, default="", editable=False,
                                                                 max_length=255, source="name"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(c_collation, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="resource",
            index=models.Index(fields=["name_sort", "id"], name="inv_resource_name_sort"),
        ),
        migrations.AlterModelOptions(name="resource", options={"ordering": ["name_sort", "id"]}),
    ]
