"""Writes of the cluster app: 4W imports and reverts, activity types, reporting periods, needs
baselines and area boundaries. Each is a service with keyword-only arguments, all or nothing,
audited."""

from reliefops.cluster.services.activities import ActivityTypeRow, activity_types_import
from reliefops.cluster.services.boundaries import boundaries_import
from reliefops.cluster.services.needs import NeedsImportResult, NeedsRow, needs_import
from reliefops.cluster.services.periods import parse_month, reporting_period_set_lock
from reliefops.cluster.services.report_types import ParsedReport, ReportImportResult, ReportRow, RowProblem
from reliefops.cluster.services.reports import activity_report_import
from reliefops.cluster.services.reverts import RevertResult, import_batch_revert

__all__ = [
    "ActivityTypeRow",
    "NeedsImportResult",
    "NeedsRow",
    "ParsedReport",
    "ReportImportResult",
    "ReportRow",
    "RevertResult",
    "RowProblem",
    "activity_report_import",
    "activity_types_import",
    "boundaries_import",
    "import_batch_revert",
    "needs_import",
    "parse_month",
    "reporting_period_set_lock",
]
