"""API tokens expire.

Every token now carries the moment it stops working (`expires_at`). A token issued before this
version had none and worked until it was revoked. Those tokens are given the lifetime a token is
issued with by default, 90 days from the day each was made, rather than being left without an end:
a token forgotten on a laptop or in a script years ago is exactly the one that should stop, and a
column that may be empty would be one more case for every check to get right. A token older than 90
days therefore stops working with the upgrade; the operator lists them (`reliefops token list`
shows each token's expiry) and issues new ones where they are still needed. No token is left
without an end, so the column is then made required.
"""

import datetime as dt

from django.db import migrations, models
from django.db.models import F

# The default lifetime of a token when this migration was written (core.services.TOKEN_DAYS_DEFAULT);
# kept here as a number, as a migration must not change when the code does.
DEFAULT_LIFETIME = dt.timedelta(days=90)


def give_older_tokens_an_end(apps, schema_editor):
    """A token without an end gets one, 90 days after it was made; a token that has one keeps it."""
    ApiToken = apps.get_model("core", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=F("created_at") + DEFAULT_LIFETIME)


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
