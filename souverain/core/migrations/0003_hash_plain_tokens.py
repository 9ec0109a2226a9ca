"""Existing API tokens of DRF's authtoken (plain keys in ``authtoken_token``) become hashed ``ApiToken`` rows that
expire ``SOUVERAIN_TOKEN_DAYS`` after this migration (so a CLI logged in before keeps working until then); the plain
keys are then deleted. The ``authtoken`` app is no longer installed: its empty table is left for the operator to
drop. Raw SQL, as that app's models are gone."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    api_token = apps.get_model("core", "ApiToken")
    expires = timezone.now() + dt.timedelta(days=int(getattr(settings, "SOUVERAIN_TOKEN_DAYS", 30)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
        for key, user_id in rows:
            api_token.objects.create(user_id=user_id, name="migrated", prefix=key[:6],
                                     digest=hashlib.sha256(key.encode()).hexdigest(), scope="write",
                                     created_by="migration", expires=expires)
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("core", "0002_accounts_tokens_history")]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
