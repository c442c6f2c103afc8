"""Random sequences of uploads, deletions and reverts keep the import's invariants:

- at most one current version per (reporting organisation, row id);
- reverting the last batch puts the current rows back exactly as they were before it;
- uploading a file twice changes nothing the second time;
- the totals after the double-counting rules are what the rules, applied by hand to the live
  rows, give.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.cluster.selectors import activity_totals
from reliefops.cluster.services import import_batch_revert
from tests.cluster.conftest import row

ORGS = ["NRC", "IRW", "UNHCR"]
IDS = [f"R-{n}" for n in range(6)]

a_row = st.fixed_dictionaries(
    {
        "id": st.sampled_from(IDS),
        "reporting": st.sampled_from(ORGS),
        "impl": st.sampled_from(["", *ORGS]),
        "funder": st.sampled_from(["", *ORGS]),
        "recipient": st.sampled_from(["", "", "IOM"]),
        "adm3": st.sampled_from(["PK50401", "PK50402"]),
        "end": st.sampled_from(["2005-11-20", "2005-12-20"]),
        "status": st.sampled_from(["completed", "completed", "planned"]),
        "qty": st.integers(1, 500).map(str),
        "action": st.sampled_from(["", "", "", "Delete"]),
    }
)
a_file = st.lists(a_row, min_size=1, max_size=6, unique_by=lambda r: (r["reporting"], r["id"]))
a_step = st.one_of(a_file, st.just("revert"))


def current() -> list[tuple]:
    return sorted(
        ActivityRow.objects.filter(replaced_in__isnull=True).values_list(
            "reporting_org__acronym", "row_id", "quantity", "status", "withdrawn", "period"
        )
    )


def by_hand() -> int:
    """Completed tents after the rules, applied in Python to the live rows."""
    live = list(ActivityRow.objects.filter(replaced_in__isnull=True, withdrawn=False))
    total = 0
    for r in live:
        if r.status != "completed" or r.recipient_org_id is not None:
            continue
        if r.reporting_org_id != r.implementing_org_id and any(
            own.reporting_org_id == r.implementing_org_id
            and own.implementing_org_id == r.implementing_org_id
            and own.recipient_org_id is None
            and own.status == "completed"  # the same stage as r: done work pairs with done work
            and (r.activity_id, r.admin_area_id, r.period) == (own.activity_id, own.admin_area_id, own.period)
            and r.programming_org_id in (own.programming_org_id, own.funding_org_id)
            for own in live
        ):
            continue
        total += r.quantity or 0
    return total


def file_of(rows: list[dict]) -> list[dict]:
    out = []
    for values in rows:
        org = values["reporting"]
        out.append(
            row(
                id=values["id"],
                reporting=org,
                prog=org,
                impl=values["impl"],
                funder=values["funder"] if values["funder"] != org else "",
                recipient=values["recipient"] if values["recipient"] not in (org, values["impl"]) else "",
                adm2="",
                adm3=values["adm3"],
                end=values["end"],
                status=values["status"],
                qty=values["qty"],
                hh="" if values["recipient"] else values["qty"],
                action=values["action"],
            )
        )
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(a_step, min_size=1, max_size=6))
def test_random_uploads_and_reverts_keep_every_invariant(upload, cluster, steps):
    ActivityRow.objects.all().delete()
    ImportBatch.objects.all().delete()
    history: list[tuple[int, list[tuple]]] = []  # (batch, current rows before it)
    for step in steps:
        if step == "revert":
            if history:
                batch_id, before = history.pop()
                import_batch_revert(actor=None, batch_id=batch_id)
                assert current() == before
            continue
        rows = file_of(step)
        known = {
            (r.reporting_org.acronym, r.row_id) for r in ActivityRow.objects.filter(replaced_in__isnull=True)
        }
        rows = [r for r in rows if r["action"] != "Delete" or (r["reporting"], r["id"]) in known]
        if not rows:
            continue
        before = current()
        result = upload(rows)
        if result.batch_id:
            history.append((result.batch_id, before))
        # the same file again changes nothing
        assert not upload(rows).changed
        keys = Counter(
            ActivityRow.objects.filter(replaced_in__isnull=True).values_list("reporting_org_id", "row_id")
        )
        assert max(keys.values(), default=1) == 1
        tents = next((t.quantity_reached for t in activity_totals() if t.code == "TENTS"), 0)
        assert tents == by_hand()
