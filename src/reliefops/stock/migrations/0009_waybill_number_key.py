"""A waybill number is one number whatever its case and its spaces: each waybill keeps its number as
compared (`number_key`, upper case, spaces trimmed and runs of them made one), and a unique index
refuses a second waybill of it. Earlier versions compared numbers by case only, and before that kept
a typed number as it was typed, spaces and all: " BLK/2005/0412" did not match a new BLK/2005/0412.

Waybills dispatched before this migration keep their key when no earlier waybill had the same
number. A waybill whose number an earlier waybill already had (" BLK/2005/0412 ", then
BLK/2005/0412) is left as it was dispatched, without a key: the migration does not fail on it, nor
change any number (a waybill's number is on its paper and on its movements), and prints each such
waybill with the one that holds the number, so that the operator may look at them (the stock guide,
"Waybill numbers of an older database"). A new waybill of that number is refused all the same.
"""

from django.db import migrations, models

BATCH = 1000


def _key(number):
    # The same as reliefops.stock.models.waybill_key when this migration was written.
    return " ".join(number.split()).upper()


def _waybills_keyed(apps):
    """(id, key) for each waybill that takes its number's key, and (id, number, first id, first
    number) for each whose number an earlier waybill has."""
    waybill = apps.get_model("stock", "Waybill")
    first = {}
    keyed, shared = [], []
    for pk, number in waybill.objects.order_by("pk").values_list("pk", "number").iterator(chunk_size=BATCH):
        key = _key(number)
        if not key:
            continue
        if key in first:
            shared.append((pk, number, *first[key]))
        else:
            first[key] = (pk, number)
            keyed.append((pk, key))
    return keyed, shared


def fill_number_keys(apps, schema_editor):
    waybill = apps.get_model("stock", "Waybill")
    keyed, shared = _waybills_keyed(apps)
    for start in range(0, len(keyed), BATCH):
        batch = [waybill(pk=pk, number_key=key) for pk, key in keyed[start : start + BATCH]]
        waybill.objects.bulk_update(batch, ["number_key"])
    if shared:
        print(  # noqa: T201 - the operator reads what the migration found, as it runs
            f"\n  {len(shared)} waybill(s) have a number an earlier waybill already has in another case or "
            "with other spaces; each is kept as dispatched, without a key:"
        )
        for pk, number, first_pk, first_number in shared:
            print(  # noqa: T201
                f"    waybill #{pk} ({number!r}) has the number of waybill #{first_pk} ({first_number!r})"
            )


def clear_number_keys(apps, schema_editor):
    apps.get_model("stock", "Waybill").objects.filter(number_key__isnull=False).update(number_key=None)


class Migration(migrations.Migration):
    dependencies = [("stock", "0008_pledge_cancel")]

    operations = [
        migrations.AddField(
            model_name="waybill",
            name="number_key",
            field=models.CharField(blank=True, editable=False, max_length=96, null=True),
        ),
        migrations.RunPython(fill_number_keys, clear_number_keys),
        migrations.AddConstraint(
            model_name="waybill",
            constraint=models.UniqueConstraint(
                condition=models.Q(("number_key__isnull", False)),
                fields=("number_key",),
                name="waybill_number_key_unique",
            ),
        ),
        # The key's index refuses what this one did (one number in two cases), and more.
        migrations.RemoveConstraint(model_name="waybill", name="waybill_number_unique_any_case"),
    ]
