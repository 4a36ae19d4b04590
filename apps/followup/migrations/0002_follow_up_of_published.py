"""A follow-up record for every inspection published before follow-up existed."""

import datetime as dt

from django.db import migrations


def forward(apps, schema_editor):
    Publication = apps.get_model("reports", "Publication")
    FollowUp = apps.get_model("followup", "FollowUp")
    first = {}
    for inspection_id, on in Publication.objects.order_by("published_on", "id").values_list(
        "inspection_id", "published_on"
    ):
        first.setdefault(inspection_id, on)
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                inspection_id=inspection_id,
                published_on=on,
                action_plan_due_on=on + dt.timedelta(weeks=6),
            )
            for inspection_id, on in first.items()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("followup", "0001_initial"), ("reports", "0002_publication_withdrawal")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
