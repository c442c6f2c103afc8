"""Who may see and change which 4W rows: partner reporters their organisation's, coordinators all,
viewers the aggregates only."""

from __future__ import annotations

import pytest

from reliefops.core import access
from reliefops.core.errors import AccessDenied
from reliefops.core.roles import Role
from tests.cluster.conftest import row


@pytest.fixture
def two_partners_rows(upload, cluster):
    nrc = upload([row(id="NRC-1")], reporting_org_id=cluster.nrc.pk)
    irw = upload([row(id="IRW-1", prog="IRW")], reporting_org_id=cluster.irw.pk)
    return nrc.batch_id, irw.batch_id


def test_a_partner_reporter_sees_and_reverts_only_its_organisations_rows(
    two_partners_rows, cluster, user_of_role
):
    nrc_batch, irw_batch = two_partners_rows
    reporter = user_of_role(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    assert list(access.access_activity_rows(reporter).values_list("row_id", flat=True)) == ["NRC-1"]
    assert list(access.access_import_batches(reporter).values_list("id", flat=True)) == [nrc_batch]
    assert access.access_import_batch_by_id(reporter, nrc_batch).pk == nrc_batch
    with pytest.raises(AccessDenied, match="is not NRC's upload"):
        access.access_import_batch_by_id(reporter, irw_batch)
    assert access.access_reporting_organisation(reporter, None) == cluster.nrc
    with pytest.raises(AccessDenied, match="you report for NRC only"):
        access.access_reporting_organisation(reporter, "IRW")


def test_a_partner_reporter_without_an_organisation_may_not_report(cluster, user_of_role):
    with pytest.raises(AccessDenied, match="belongs to no organisation"):
        access.reporting_scope(user_of_role(Role.PARTNER_REPORTER))


def test_a_coordinator_sees_every_row_and_reports_for_anyone(two_partners_rows, cluster, user_of_role):
    coordinator = user_of_role(Role.COORDINATOR)
    assert access.access_activity_rows(coordinator).count() == 2
    assert access.access_reporting_organisation(coordinator, "Islamic Relief") == cluster.irw
    assert access.access_reporting_organisation(coordinator, None) is None
    access.access_cluster_management(coordinator)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.HUB_MANAGER, Role.REGISTRAR, Role.DISTRIBUTOR])
def test_other_roles_see_no_rows(two_partners_rows, user_of_role, role):
    with pytest.raises(AccessDenied):
        access.access_activity_rows(user_of_role(role))


def test_viewers_see_the_aggregates_but_manage_nothing(user_of_role, db):
    viewer = user_of_role(Role.VIEWER)
    access.access_cluster_aggregates(viewer)
    with pytest.raises(AccessDenied):
        access.access_cluster_management(viewer)


def test_a_partner_reporter_is_told_a_consolidated_batch_is_the_coordinators(upload, cluster, user_of_role):
    # given a consolidated upload naming two reporting organisations (no one organisation's batch)
    both = upload([row(id="NRC-1"), row(id="IRW-1", prog="IRW")])
    reporter = user_of_role(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    # then NRC's reporter is told why the batch is not theirs and who can act on it
    with pytest.raises(AccessDenied) as refused:
        access.access_import_batch_by_id(reporter, both.batch_id)
    assert str(refused.value) == (
        f"batch {both.batch_id} holds the rows of several organisations, not NRC's alone; "
        "the cluster coordinator reverts it or sees its rows"
    )
