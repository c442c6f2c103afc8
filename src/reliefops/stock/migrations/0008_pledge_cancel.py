"""A pledge the donor will not send (in full) can be cancelled, with the reason and the moment."""

from django.db import migrations, models
from django.db.models import F


def date_earlier_cancellations(apps, schema_editor):
    """A pledge cancelled by hand before pledges could be (in the database) gets the moment it was
    recorded, so that the constraint below holds; none is cancelled otherwise."""
    pledge = apps.get_model("stock", "Pledge")
    pledge.objects.filter(status="cancelled", cancelled_at__isnull=True).update(cancelled_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("stock", "0007_receipt_grn_key")]

    operations = [
        migrations.AddField(
            model_name="pledge",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="pledge",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(date_earlier_cancellations, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="pledge",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("cancelled_at__isnull", False), ("status", "cancelled")),
                    models.Q(
                        models.Q(("status", "cancelled"), _negated=True), ("cancelled_at__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="pledge_cancelled_when",
            ),
        ),
    ]
