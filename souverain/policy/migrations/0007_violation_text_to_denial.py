# Existing violations' text into Denial rows, in batches of ids (each batch its own transaction, so a table of a
# million violations neither holds one long transaction nor loads every row): each distinct text is hashed once
# and every violation of the batch carrying it is pointed at its denial in one UPDATE.

import json
from collections import defaultdict

from django.db import migrations, transaction

BATCH = 10_000


def text_to_denials(apps, schema_editor):
    from souverain.policy.models import denial_hash, french_message

    Denial = apps.get_model('policy', 'Denial')
    Violation = apps.get_model('policy', 'Violation')
    connection = schema_editor.connection
    reason_sql = 'reason::text' if connection.vendor == 'postgresql' else 'reason'
    known: dict[tuple, int] = {}  # the raw text of a denial -> its id: a few thousand at most
    last = 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f'SELECT id, rule, severity, message, {reason_sql} FROM policy_violation'
                           ' WHERE id > %s AND denial_id IS NULL ORDER BY id LIMIT %s', [last, BATCH])
            rows = cursor.fetchall()
            if not rows:
                return
            by_denial: dict[int, list[int]] = defaultdict(list)
            for pk, rule, severity, message, reason_text in rows:
                key = (rule, severity, message, reason_text)
                denial_id = known.get(key)
                if denial_id is None:
                    reason = json.loads(reason_text) if reason_text else {}
                    denial, _ = Denial.objects.get_or_create(
                        hash=denial_hash(rule, severity, message, reason),
                        defaults={'rule': rule, 'severity': severity, 'message': message, 'reason': reason,
                                  'message_fr': french_message(message, reason)})
                    denial_id = known[key] = denial.pk
                by_denial[denial_id].append(pk)
            for denial_id, ids in by_denial.items():
                Violation.objects.filter(id__in=ids).update(denial_id=denial_id)
            last = rows[-1][0]


def denials_to_text(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute('UPDATE policy_violation SET'
                       ' message = (SELECT d.message FROM policy_denial d WHERE d.id = policy_violation.denial_id),'
                       ' reason = (SELECT d.reason FROM policy_denial d WHERE d.id = policy_violation.denial_id)'
                       ' WHERE denial_id IS NOT NULL')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('policy', '0006_denial'),
    ]

    operations = [
        migrations.RunPython(text_to_denials, denials_to_text, elidable=False),
    ]
