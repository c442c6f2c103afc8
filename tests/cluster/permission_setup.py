"""What the permission matrix (tests/api/test_permissions.py) sets up before it calls a cluster
endpoint, on the API tests' reference data: an activity type and a 4W batch of IOM's (the
organisation the matrix's partner reporter works for) in Bala Kot."""

from __future__ import annotations

from typing import Any

from reliefops.cluster.importers import activity_report_import_file
from reliefops.cluster.models import ActivityType, ImportBatch

CSV = (
    "Row ID,Organisation,Activity,Tehsil P-code,Status,End date,Quantity,Households\n"
    "#meta+id,#org+prog,#activity,#adm3+code,#status,#date+end,#output+num,#reached+hh\n"
    "{row_id},IOM,Tents distributed,PK52201,completed,2005-11-20,100,100\n"
)


def activity_types(ref: Any) -> None:
    ActivityType.objects.get_or_create(code="TENTS", defaults={"name": "Tents distributed", "unit": "tent"})


def iom_batch(ref: Any) -> None:
    activity_types(ref)
    activity_report_import_file(
        actor=None, data=CSV.format(row_id="IOM-1").encode(), filename="iom.csv", reporting_org_id=ref.iom.pk
    )


def upload_body(ref: Any) -> dict[str, Any]:
    return {"filename": "iom.csv", "content": CSV.format(row_id="IOM-2")}


def needs_body(ref: Any) -> dict[str, Any]:
    return {
        "filename": "needs.csv",
        "content": "Tehsil P-code,Households in need\n#adm3+code,#inneed+hh\nPK52201,1200\n",
    }


def the_batch(ref: Any) -> dict[str, Any]:
    return {"batch_id": ImportBatch.objects.get().pk}


def no_batch(ref: Any) -> dict[str, Any]:
    return {"batch_id": 0}
