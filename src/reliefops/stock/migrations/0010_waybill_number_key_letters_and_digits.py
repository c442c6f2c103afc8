"""A waybill number is compared by its letters and digits alone: WB2005/0012, WB 2005/0012 and
wb-2005-0012 are one paper waybill (0009 compared case and the spaces around and between words, so
"WB 2005/0012" was taken for a new number beside WB2005/0012).

Each waybill's key is computed again. The first waybill (by id) of a key keeps it; a later one whose
number an earlier waybill already has, written another way, is left as it was dispatched, without a
key, as 0009 left those it found: the migration neither fails on it nor changes any number, and
prints each such waybill with the one that holds the number (the stock guide, "Waybill numbers of an
older database"). A new waybill of that number is refused all the same. Going back computes the
keys as 0009 did.
"""

import itertools
import re

from django.db import migrations

BATCH = 1000
GROUPS = re.compile(r"[^\W\d_]+|\d+")


def _key(number):
    # The same as reliefops.stock.models.waybill_key when this migration was written.
    groups = GROUPS.findall(number.upper())
    key = groups[:1]
    for before, group in itertools.pairwise(groups):
        key.append(f" {group}" if before[-1].isdigit() == group[0].isdigit() else group)
    return "".join(key)


def _key_0009(number):
    return " ".join(number.split()).upper()


def _rekey(apps, key, report):
    """Give each waybill its number's key, the first of a key by id; clear the others' keys. Only
    the waybills whose key changes are written."""
    waybill = apps.get_model("stock", "Waybill")
    first = {}
    changed, shared = [], []
    rows = waybill.objects.order_by("pk").values_list("pk", "number", "number_key")
    for pk, number, held in rows.iterator(chunk_size=BATCH):
        number_key = key(number) or None
        if number_key in first:
            shared.append((pk, number, *first[number_key]))
            number_key = None
        elif number_key is not None:
            first[number_key] = (pk, number)
        if number_key != held:
            changed.append((pk, number_key))
    # The changed keys are cleared before any is written: a waybill may take the key another held.
    for start in range(0, len(changed), BATCH):
        pks = [pk for pk, _ in changed[start : start + BATCH]]
        waybill.objects.filter(pk__in=pks).update(number_key=None)
    written = [(pk, number_key) for pk, number_key in changed if number_key is not None]
    for start in range(0, len(written), BATCH):
        batch = [waybill(pk=pk, number_key=number_key) for pk, number_key in written[start : start + BATCH]]
        waybill.objects.bulk_update(batch, ["number_key"])
    if shared and report:
        print(  # noqa: T201 - the operator reads what the migration found, as it runs
            f"\n  {len(shared)} waybill(s) have a number an earlier waybill already has, written another "
            "way (case, spaces or punctuation); each is kept as dispatched, without a key:"
        )
        for pk, number, first_pk, first_number in shared:
            print(  # noqa: T201
                f"    waybill #{pk} ({number!r}) has the number of waybill #{first_pk} ({first_number!r})"
            )


def key_by_letters_and_digits(apps, schema_editor):
    _rekey(apps, _key, report=True)


def key_as_0009_did(apps, schema_editor):
    _rekey(apps, _key_0009, report=False)


class Migration(migrations.Migration):
    dependencies = [("stock", "0009_waybill_number_key")]

    operations = [migrations.RunPython(key_by_letters_and_digits, key_as_0009_did)]
