"""A GRN is one number whatever its case and the spaces around it: each receipt keeps its number as
compared (`grn_key`, upper case, spaces trimmed), and a unique index refuses a second receipt of it.

Receipts posted before this migration keep their key when no earlier receipt had the same number.
A receipt whose number an earlier receipt already had (GRN-ISB-9010, then grn-isb-9010, as earlier
versions accepted) is left as it was posted, without a key: the migration does not fail on it, nor
change what was posted, and prints each such receipt with the one that holds the number, so that
the operator may reverse it if it was the same goods posted twice (docs/operations.md, "Upgrades
and migrations"). A new receipt of that number is refused all the same.

Posted movements are immutable (0002): the triggers that refuse an UPDATE are lifted while the keys
are written, in the migration's transaction, and put back as they were.
"""

from django.db import migrations, models

BATCH = 1000
MESSAGE = "posted movements are immutable: post a reversal instead"
SQLITE_TRIGGER = f"""CREATE TRIGGER stock_movement_no_update BEFORE UPDATE ON stock_movement
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""


def _key(reference):
    # The same as reliefops.stock.models.grn_key when this migration was written.
    return " ".join(reference.split()).upper()


def _receipts_keyed(apps):
    """(id, key) for each receipt that takes its number's key, and (id, reference, first id,
    first reference) for each whose number an earlier receipt has."""
    movement = apps.get_model("stock", "Movement")
    first = {}
    keyed, shared = [], []
    receipts = movement.objects.filter(kind="receipt").exclude(reference="").order_by("pk")
    for pk, reference in receipts.values_list("pk", "reference").iterator(chunk_size=BATCH):
        key = _key(reference)
        if not key:
            continue
        if key in first:
            shared.append((pk, reference, *first[key]))
        else:
            first[key] = (pk, reference)
            keyed.append((pk, key))
    return keyed, shared


def _lift_immutability(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS stock_movement_no_update;")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE stock_movement DISABLE TRIGGER stock_movement_immutable;")


def _restore_immutability(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE stock_movement ENABLE TRIGGER stock_movement_immutable;")


def fill_grn_keys(apps, schema_editor):
    movement = apps.get_model("stock", "Movement")
    keyed, shared = _receipts_keyed(apps)
    if keyed:
        _lift_immutability(schema_editor)
        for start in range(0, len(keyed), BATCH):
            batch = [movement(pk=pk, grn_key=key) for pk, key in keyed[start : start + BATCH]]
            movement.objects.bulk_update(batch, ["grn_key"])
        _restore_immutability(schema_editor)
    if shared:
        print(  # noqa: T201 - the operator reads what the migration found, as it runs
            f"\n  {len(shared)} receipt(s) have a GRN an earlier receipt already has in another case or "
            "with spaces; each is kept as posted (reverse it if the same goods were posted twice):"
        )
        for pk, reference, first_pk, first_reference in shared:
            print(
                f"    receipt #{pk} ({reference!r}) has the GRN of receipt #{first_pk} ({first_reference!r})"
            )  # noqa: T201


def clear_grn_keys(apps, schema_editor):
    movement = apps.get_model("stock", "Movement")
    if movement.objects.filter(grn_key__isnull=False).exists():
        _lift_immutability(schema_editor)
        movement.objects.filter(grn_key__isnull=False).update(grn_key=None)
        _restore_immutability(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("stock", "0006_waybill_number_unique_any_case")]

    operations = [
        migrations.AddField(
            model_name="movement",
            name="grn_key",
            field=models.CharField(blank=True, editable=False, max_length=192, null=True),
        ),
        migrations.RunPython(fill_grn_keys, clear_grn_keys),
        migrations.AddConstraint(
            model_name="movement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("grn_key__isnull", False)),
                fields=("grn_key",),
                name="movement_grn_key_unique",
            ),
        ),
        # The key's index refuses what this one did (one GRN twice in one case), and more.
        migrations.RemoveConstraint(model_name="movement", name="movement_grn_unique"),
    ]
