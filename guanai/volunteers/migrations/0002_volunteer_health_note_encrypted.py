"""The volunteer's self-declared health note is sensitive personal information (个人信息保护法 art.28):
stored encrypted from now on, and the notes already stored are encrypted in place."""

from typing import Any

from django.db import migrations

import guanai.core.crypto

CONTEXT = "volunteers.volunteer.health_note"  # the column's associated data (EncryptedTextField.context)
BATCH = 1000


def _rewrite(schema_editor: Any, change: Any) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, health_note FROM volunteers_volunteer WHERE health_note <> '' ORDER BY id")
        rows = cursor.fetchall()
    for start in range(0, len(rows), BATCH):
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE volunteers_volunteer SET health_note = %s WHERE id = %s",
                [(change(note), pk) for pk, note in rows[start : start + BATCH]],
            )


def encrypt_notes(apps: Any, schema_editor: Any) -> None:
    _rewrite(schema_editor, lambda note: guanai.core.crypto.encrypt_text(note, context=CONTEXT))


def decrypt_notes(apps: Any, schema_editor: Any) -> None:
    _rewrite(schema_editor, lambda note: guanai.core.crypto.decrypt_text(note, context=CONTEXT))


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0001_volunteer_records"),
    ]

    operations = [
        migrations.AlterField(
            model_name="volunteer",
            name="health_note",
            field=guanai.core.crypto.EncryptedTextField(
                blank=True,
                default="",
                unmask_permission="volunteers.unmask",
                verbose_name="健康状况（本人申报）",
            ),
        ),
        migrations.RunPython(encrypt_notes, decrypt_notes),
    ]
