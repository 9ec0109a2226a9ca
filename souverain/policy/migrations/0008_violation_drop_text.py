# Violations no longer copy their text: it is read through Violation.denial, now required.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('policy', '0007_violation_text_to_denial'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='violation',
            name='message',
        ),
        migrations.RemoveField(
            model_name='violation',
            name='reason',
        ),
        migrations.AlterField(
            model_name='violation',
            name='denial',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='violations', to='policy.denial'),
        ),
    ]
