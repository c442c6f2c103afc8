"""`reliefops catalog import` and `reliefops catalog import-kits`: output and refusals."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from reliefops.catalog.models import Kit

ITEMS = (
    "code,name,base_unit,category,weight_kg,volume_m3,packs\n"
    "BLANKET,Blanket,piece,nfi,1.5,0.01,bale:10\n"
    "NFI-KIT,Family NFI kit,kit,kit,,,\n"
)
KITS = "kit_code,component_code,quantity,source\nNFI-KIT,BLANKET,4,Pakistan Shelter Cluster list\n"


def test_items_then_kits_import_and_reimport(run_command, write_file):
    out, _ = run_command("catalog", "import", str(write_file("items.csv", ITEMS)))
    assert "items.csv: items: 2 created, 0 updated, 0 unchanged" in out
    kits = write_file("kits.csv", KITS)
    out, _ = run_command("catalog", "import-kits", str(kits))
    assert "kits.csv: kits: 1 created, 0 updated, 0 unchanged" in out
    out, _ = run_command("catalog", "import-kits", str(kits))
    assert "kits.csv: kits: 0 created, 0 updated, 1 unchanged" in out
    assert Kit.objects.get().source == "Pakistan Shelter Cluster list"


def test_a_refused_kits_file_fails_and_writes_nothing(run_command, write_file, state):
    run_command("catalog", "import", str(write_file("items.csv", ITEMS)))
    before = state()
    with pytest.raises(CommandError, match=r"kits\.csv: 1 problem; nothing was written"):
        run_command("catalog", "import-kits", str(write_file("kits.csv", KITS.replace(",4,", ",-4,"))))
    assert state() == before
