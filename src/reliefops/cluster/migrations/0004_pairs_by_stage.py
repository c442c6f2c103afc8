"""The programming / implementing partner rule pairs rows of one stage only (both completed, or
both planned or ongoing): the marks of the rows stored before are set again by that rule, so that
completed work set aside into a partner's plan counts again as reached."""

from django.db import migrations


def pair_again(apps, schema_editor):
    from reliefops.cluster.services import bulk

    ActivityRow = apps.get_model("cluster", "ActivityRow")
    organisations = set(
        ActivityRow.objects.filter(replaced_in__isnull=True)
        .values_list("reporting_org_id", flat=True)
        .distinct()
    )
    if organisations:
        bulk.recount_pairs(organisation_ids=organisations)


class Migration(migrations.Migration):
    dependencies = [("cluster", "0003_pairing_index_covering")]

    operations = [migrations.RunPython(pair_again, migrations.RunPython.noop)]
