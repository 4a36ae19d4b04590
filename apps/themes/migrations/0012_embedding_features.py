"""The encoder now stores two vectors a text (its sentence embedding and an earlier layer's
mean, ADR 18) under keys ending "-w<layer>". Rows stored under the older keys (the sentence
embedding alone) are never read again: they are removed, and the texts embedded afresh the
next time they are coded."""

from django.db import migrations


def forward(apps, schema_editor):
    Embedding = apps.get_model("themes", "Embedding")
    Embedding.objects.exclude(model__regex=r"-w[0-9]+$").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("themes", "0011_archive_import_batch_title"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
