"""A finding's narrative is draft text until its report is published, like the report's
sections: encrypt what is stored (ADR 4), then declare the column encrypted."""

from django.db import migrations

import apps.core.fields


def _convert(apps, change) -> None:
    Finding = apps.get_model("findings", "Finding")
    rows = Finding.objects.exclude(narrative="").values_list("pk", "narrative")
    for pk, value in rows.iterator(chunk_size=2000):
        Finding.objects.filter(pk=pk).update(narrative=change(value))


def encrypt(apps, schema_editor) -> None:
    from apps.core import crypto

    _convert(apps, crypto.encrypt)


def decrypt(apps, schema_editor) -> None:
    from apps.core import crypto

    _convert(apps, crypto.decrypt)


class Migration(migrations.Migration):
    dependencies = [("findings", "0003_status_from_history")]
    operations = [
        # While the column is still plain text here (forwards, and backwards once the field
        # is plain again), values are read and written as stored.
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(
            model_name="finding",
            name="narrative",
            field=apps.core.fields.EncryptedTextField(blank=True),
        ),
    ]
