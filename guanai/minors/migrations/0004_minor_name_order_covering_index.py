# The list in name order, covering the scope, the status and the name: a search by part of a name reads
# the index without visiting the table for every entry (bench/RESULTS.md, "Load").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('minors', '0003_minor_list_covering_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='minor',
            index=models.Index(condition=models.Q(('is_sealed', False)), fields=['name_pinyin', 'id'], include=('name', 'region', 'status'), name='minor_name_order_covering'),
        ),
    ]
