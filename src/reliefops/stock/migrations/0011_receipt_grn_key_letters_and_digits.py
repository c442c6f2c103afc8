"""A GRN is compared by its letters and digits alone, as a waybill number is (0010): GRN-ISB-9010,
GRN ISB 9010 and grn/isb/9010 are one paper GRN (0007 compared case and spaces only, so GRN/ISB/9010
was taken for a new number beside GRN-ISB-9010 and the same goods could be received twice).

Each receipt's key is computed again. The first receipt (by id) of a key keeps it; a later one whose
number an earlier receipt already has, written another way, is left as it was posted, without a key,
as 0007 left those it found: the migration neither fails on it nor changes what was posted, and
prints each such receipt with the one that holds the number, so that the operator may reverse it if
it was the same goods posted twice (docs/operations.md, "Upgrades and migrations"). A new receipt of
that number is refused all the same. Going back computes the keys as 0007 did.

Posted movements are immutable (0002): the triggers that refuse an UPDATE are lifted while the keys
are written, in the migration's transaction, and put back as they were (as 0007 does), once the
foreign keys of the receipts written were checked.
"""

import itertools
import re

from django.db import migrations

BATCH = 1000
MESSAGE = "posted movements are immutable: post a reversal instead"
SQLITE_TRIGGER = f"""CREATE TRIGGER stock_movement_no_update BEFORE UPDATE ON stock_movement
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"""
GROUPS = re.compile(r"[^\W\d_]+|\d+")


def _key(reference):
    # The same as reliefops.stock.models.grn_key when this migration was written.
    groups = GROUPS.findall(reference.upper())
    key = groups[:1]
    for before, group in itertools.pairwise(groups):
        key.append(f" {group}" if before[-1].isdigit() == group[0].isdigit() else group)
    return "".join(key)


def _key_0007(reference):
    return " ".join(reference.split()).upper()


def _lift_immutability(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS stock_movement_no_update;")
    elif schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE stock_movement DISABLE TRIGGER stock_movement_immutable;")


def _restore_immutability(schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)
    elif schema_editor.connection.vendor == "postgresql":
        # A receipt whose key is cleared, then written, is updated twice in this transaction, which
        # queues the checks of its (deferred) foreign keys; PostgreSQL alters no table with checks
        # pending, so they are run now (as Django's check_constraints does), then deferred again.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE;")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED;")
        schema_editor.execute("ALTER TABLE stock_movement ENABLE TRIGGER stock_movement_immutable;")


def _rekey(apps, schema_editor, key, report):
    """Give each receipt its GRN's key, the first of a key by id; clear the others' keys. Only the
    receipts whose key changes are written."""
    movement = apps.get_model("stock", "Movement")
    first = {}
    changed, shared = [], []
    receipts = movement.objects.filter(kind="receipt").order_by("pk")
    for pk, reference, held in receipts.values_list("pk", "reference", "grn_key").iterator(chunk_size=BATCH):
        grn_key = key(reference) or None
        if grn_key in first:
            shared.append((pk, reference, *first[grn_key]))
            grn_key = None
        elif grn_key is not None:
            first[grn_key] = (pk, reference)
        if grn_key != held:
            changed.append((pk, grn_key))
    if changed:
        _lift_immutability(schema_editor)
        # The changed keys are cleared before any is written: a receipt may take the key another held.
        for start in range(0, len(changed), BATCH):
            pks = [pk for pk, _ in changed[start : start + BATCH]]
            movement.objects.filter(pk__in=pks).update(grn_key=None)
        written = [(pk, grn_key) for pk, grn_key in changed if grn_key is not None]
        for start in range(0, len(written), BATCH):
            batch = [movement(pk=pk, grn_key=grn_key) for pk, grn_key in written[start : start + BATCH]]
            movement.objects.bulk_update(batch, ["grn_key"])
        _restore_immutability(schema_editor)
    if shared and report:
        print(  # noqa: T201 - the operator reads what the migration found, as it runs
            f"\n  {len(shared)} receipt(s) have a GRN an earlier receipt already has, written another way "
            "(case, spaces or punctuation); each is kept as posted (reverse it if the same goods were "
            "posted twice):"
        )
        for pk, reference, first_pk, first_reference in shared:
            print(  # noqa: T201
                f"    receipt #{pk} ({reference!r}) has the GRN of receipt #{first_pk} ({first_reference!r})"
            )


def key_by_letters_and_digits(apps, schema_editor):
    _rekey(apps, schema_editor, _key, report=True)


def key_as_0007_did(apps, schema_editor):
    _rekey(apps, schema_editor, _key_0007, report=False)


class Migration(migrations.Migration):
    dependencies = [("stock", "0010_waybill_number_key_letters_and_digits")]

    operations = [migrations.RunPython(key_by_letters_and_digits, key_as_0007_did)]
