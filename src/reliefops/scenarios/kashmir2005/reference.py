"""The scenario's reference data, loaded from its CSV files through the ordinary import services."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reliefops.catalog.importers import items_import_file, kits_import_file
from reliefops.partners.importers import grants_import_file, organisations_import_file
from reliefops.places.importers import admin_areas_import_file, sites_import_file
from reliefops.scenarios.base import StepContext

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "kashmir-2005"
COD_VERSION = "HDX cod-ab-pak 2026-01-26"
DERIVED_VERSION = "scenario (not COD)"


def _alt_names(context: StepContext) -> dict[str, list[str]]:
    """Spellings met in 2005 reports, added to the gazetteer's alternate names (alt-names.csv)."""
    reader = csv.DictReader(io.StringIO(context.data("alt-names.csv").decode()))
    return {row["pcode"]: [n.strip() for n in row["alt_names"].split(";") if n.strip()] for row in reader}


def gazetteer_csv(context: StepContext) -> bytes:
    """places.csv with two columns added: the alternate spellings, and the COD version of each row.

    The union councils' P-codes were made up for the scenario (PK50401-UC01), so their version
    says so rather than naming the COD.
    """
    alt_names = _alt_names(context)
    reader = csv.DictReader(io.StringIO(context.data("places.csv").decode("utf-8")))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*(reader.fieldnames or []), "alt_names", "cod_version"])
    writer.writeheader()
    for row in reader:
        derived = "-UC" in row["pcode"]
        row["alt_names"] = ";".join(alt_names.get(row["pcode"], []))
        row["cod_version"] = DERIVED_VERSION if derived else COD_VERSION
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def load_gazetteer(context: StepContext) -> str:
    """Provinces, districts and tehsils (COD-AB P-codes) and Battagram's union councils."""
    result = admin_areas_import_file(actor=context.actor, data=gazetteer_csv(context), filename="places.csv")
    return str(result)


def load_sites(context: StepContext) -> str:
    """IOM's warehouse, hubs and Peshawar office, the distribution points and camps they served."""
    return str(sites_import_file(actor=context.actor, data=context.data("sites.csv")))


def load_organisations(context: StepContext) -> str:
    """The main organisations of the response and its donors."""
    return str(organisations_import_file(actor=context.actor, data=context.data("organisations.csv")))


def load_grants(context: StepContext) -> str:
    """Donors' grants to IOM, October 2005 to August 2006 (amounts marked where illustrative)."""
    return str(grants_import_file(actor=context.actor, data=context.data("grants.csv")))


def load_items(context: StepContext) -> str:
    """Relief items with pack sizes, weights and volumes."""
    return str(items_import_file(actor=context.actor, data=context.data("items.csv")))


def load_kits(context: StepContext) -> str:
    """Shelter kit, winterization kit and family NFI kit, with their components."""
    return str(kits_import_file(actor=context.actor, data=context.data("kits.csv")))
