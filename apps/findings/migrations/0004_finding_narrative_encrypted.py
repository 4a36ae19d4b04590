"""A finding's narrative is draft text until its report is published, like the report's
sections: encrypt what is stored (ADR 4), then declare the column encrypted."""

from django.db import migrations

import apps.core.fields


def _convert(apps, change) -> None:
    """Every non-empty narrative through `change`, in batches by primary key: each batch read
    whole before it is written, so no row is read after its own update."""
    Finding = apps.get_model("findings", "Finding")
    last = 0
    while batch := list(
        Finding.objects.filter(pk__gt=last).exclude(narrative="").order_by("pk").only("narrative")[
            :500
        ]
    ):
        for finding in batch:
            finding.narrative = change(finding.narrative)
        Finding.objects.bulk_update(batch, ["narrative"])
        last = batch[-1].pk


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
