# Violations reference their text instead of copying it (issue 11, item 4): the Denial table and a nullable
# Violation.denial; 0007 moves the existing text, 0008 drops the copied columns. Three migrations, because
# PostgreSQL refuses to alter a table in the transaction that updated its foreign keys (pending trigger events).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('policy', '0005_violation_list_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='Denial',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hash', models.CharField(max_length=64, unique=True)),
                ('rule', models.CharField(max_length=120)),
                ('severity', models.CharField(max_length=10)),
                ('message', models.TextField()),
                ('message_fr', models.TextField(blank=True)),
                ('reason', models.JSONField(default=dict, help_text="The rule's facts and source")),
            ],
        ),
        migrations.AddField(
            model_name='violation',
            name='denial',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='violations', to='policy.denial'),
        ),
    ]
