"""Readers of the cluster's files: 4W rows, needs baselines, activity types. Each reads a file,
lists every problem by row, column, value and reason, and applies it through a service."""

from reliefops.cluster.importers.activities import (
    ACTIVITY_FIELDS,
    activity_report_import_file,
    parse_activity_file,
)
from reliefops.cluster.importers.common import file_digest
from reliefops.cluster.importers.needs import NEEDS_FIELDS, needs_import_file, parse_needs_file
from reliefops.cluster.importers.reference import activity_types_import_file, parse_activity_types_csv

__all__ = [
    "ACTIVITY_FIELDS",
    "NEEDS_FIELDS",
    "activity_report_import_file",
    "activity_types_import_file",
    "file_digest",
    "needs_import_file",
    "parse_activity_file",
    "parse_activity_types_csv",
    "parse_needs_file",
]
