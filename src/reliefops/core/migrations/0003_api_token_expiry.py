"""API tokens expire.

Every token now carries the moment it stops working (`expires_at`). A token issued before this
version had none and worked until it was revoked. Those tokens are given the lifetime a token is
issued with by default, 90 days from the day each was made, rather than being left without an end:
a token forgotten on a laptop or in a script years ago is exactly the one that should stop, and a
column that may be empty would be one more case for every check to get right. But no token stops
on the day of the upgrade itself: one whose 90 days are over, or end within two weeks, works for
two weeks from the upgrade, so that a hub's sync script does not break unannounced; the operator
lists the tokens (`reliefops token list` shows each one's expiry) and issues new ones where they are
still needed in that time. No token is left without an end, so the column is then made required.
"""

import datetime as dt

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

# The default lifetime of a token when this migration was written (core.services.TOKEN_DAYS_DEFAULT);
# kept here as a number, as a migration must not change when the code does.
DEFAULT_LIFETIME = dt.timedelta(days=90)
# How long, from the upgrade, a token whose 90 days are over (or nearly) still works.
GRACE = dt.timedelta(days=14)


def give_older_tokens_an_end(apps, schema_editor):
    """A token without an end gets one, 90 days after it was made but not before two weeks from
    now; a token that has one keeps it."""
    ApiToken = apps.get_model("core", "ApiToken")
    # One statement: a row updated twice in the migration's transaction would leave PostgreSQL a
    # pending foreign-key check that the column's ALTER after it refuses.
    grace_end = Value(timezone.now() + GRACE, output_field=models.DateTimeField())
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=Greatest(F("created_at") + DEFAULT_LIFETIME, grace_end)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_background_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(give_older_tokens_an_end, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                help_text="the token stops working at this moment; issued for 1 to 365 days (90 unless asked)"
            ),
        ),
    ]
