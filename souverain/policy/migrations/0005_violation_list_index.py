# The violations list's default ordering (-last_seen, id) as an index: its first page is an index walk.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('policy', '0004_shared_decisions'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='violation',
            index=models.Index(fields=['-last_seen', 'id'], name='policy_violation_last_seen'),
        ),
    ]
