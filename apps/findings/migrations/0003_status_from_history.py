"""Fill the new current-status columns from each recommendation's status history."""

from django.db import migrations


def forward(apps, schema_editor):
    Finding = apps.get_model("findings", "Finding")
    Change = apps.get_model("findings", "RecommendationStatusChange")
    latest = {}
    for rec_id, status, on in Change.objects.order_by("recommendation_id", "on", "id").values_list(
        "recommendation_id", "status", "on"
    ):
        latest[rec_id] = (status, on)
    for rec_id, (status, on) in latest.items():
        Finding.objects.filter(pk=rec_id).update(status=status, status_on=on)


class Migration(migrations.Migration):
    dependencies = [("findings", "0002_finding_status_finding_status_on_and_more")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
