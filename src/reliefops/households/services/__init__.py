"""Every write of the households app. Entry points import from here."""

from reliefops.households.services.corrections import CorrectionResult, household_update
from reliefops.households.services.duplicates import (
    DecisionResult,
    MergeResult,
    RunResult,
    duplicates_run,
    household_merge,
    pair_decide,
)
from reliefops.households.services.handovers import HandoverRefused, HandoverResult, handover_record
from reliefops.households.services.imports import (
    ImportResult,
    household_import_commit,
    household_import_preview,
)
from reliefops.households.services.privacy import (
    AnonymiseResult,
    Export,
    households_anonymise,
    households_export,
    personal_data_viewed,
)
from reliefops.households.services.registration import (
    Draft,
    DuplicatesFound,
    HouseholdInput,
    Lookups,
    RegistrationResult,
    household_check,
    household_keys_rebuild,
    household_register,
    households_register_many,
)
from reliefops.households.services.rounds import (
    ListResult,
    PackageInput,
    PointInput,
    card_reissue,
    cards_issue,
    round_create,
    round_make_list,
    round_set_status,
)

__all__ = [
    "AnonymiseResult",
    "CorrectionResult",
    "DecisionResult",
    "Draft",
    "DuplicatesFound",
    "Export",
    "HandoverRefused",
    "HandoverResult",
    "HouseholdInput",
    "ImportResult",
    "ListResult",
    "Lookups",
    "MergeResult",
    "PackageInput",
    "PointInput",
    "RegistrationResult",
    "RunResult",
    "card_reissue",
    "cards_issue",
    "duplicates_run",
    "handover_record",
    "household_check",
    "household_import_commit",
    "household_import_preview",
    "household_keys_rebuild",
    "household_merge",
    "household_register",
    "household_update",
    "households_anonymise",
    "households_export",
    "households_register_many",
    "pair_decide",
    "personal_data_viewed",
    "round_create",
    "round_make_list",
    "round_set_status",
]
