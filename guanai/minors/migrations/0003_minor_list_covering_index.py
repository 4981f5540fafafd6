# The list's covering index: the page of ids comes from an index-only scan (bench/bench_minor_list.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('minors', '0002_export_approval'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='minor',
            index=models.Index(condition=models.Q(('is_sealed', False)), fields=['region', 'name_pinyin', 'id', 'name', 'name_initials', 'categories', 'needs', 'status', 'risk_level', 'gender', 'birth_date', 'last_verified_on'], name='minor_list_covering'),
        ),
    ]
