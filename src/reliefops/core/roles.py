"""The roles of reliefops and what each may do. The table in docs/roles.md is checked against it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    HUB_MANAGER = "hub_manager"
    REGISTRAR = "registrar"
    DISTRIBUTOR = "distributor"
    PARTNER_REPORTER = "partner_reporter"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Right(StrEnum):
    """A named right. Scoped rights are further narrowed by the user's scope in core.access."""

    VIEW_REFERENCE = "view_reference"  # admin areas, sites, organisations, items, kits
    MANAGE_REFERENCE = "manage_reference"  # import gazetteer, catalogue, organisations
    VIEW_STOCK = "view_stock"  # stock on hand, stock cards, pipeline, donor reports
    POST_STOCK = "post_stock"  # receipts, waybills, counts, losses (scoped to hubs)
    DISTRIBUTE = "distribute"  # bulk distributions and handovers (scoped to points)
    VIEW_AUDIT = "view_audit"  # the audit trail
    MANAGE_USERS = "manage_users"  # create users, tokens
    VIEW_HOUSEHOLD_COUNTS = "view_household_counts"  # households by area, site and round: counts only
    REGISTER_HOUSEHOLDS = "register_households"  # register and import households, decide duplicates
    VIEW_PERSONAL_DATA = "view_personal_data"  # names, identity numbers and phones of any household
    MANAGE_ROUNDS = "manage_rounds"  # distribution rounds, their lists, household cards
    VIEW_DISTRIBUTION_LISTS = "view_distribution_lists"  # names and card tokens (scoped to points)
    VIEW_CLUSTER = "view_cluster"  # cluster aggregates: gap analysis, 4W matrix, totals, needs
    REPORT_ACTIVITIES = "report_activities"  # upload 4W rows, see and revert batches (own organisation's)
    MANAGE_CLUSTER = "manage_cluster"  # lock reporting periods; import needs, activity types, boundaries


ROLE_RIGHTS: dict[Role, frozenset[Right]] = {
    Role.ADMIN: frozenset(Right),
    Role.COORDINATOR: frozenset(
        {
            Right.VIEW_REFERENCE,
            Right.MANAGE_REFERENCE,
            Right.VIEW_STOCK,
            Right.VIEW_AUDIT,
            Right.VIEW_HOUSEHOLD_COUNTS,
            Right.VIEW_CLUSTER,
            Right.REPORT_ACTIVITIES,
            Right.MANAGE_CLUSTER,
        }
    ),
    Role.HUB_MANAGER: frozenset(
        {
            Right.VIEW_REFERENCE,
            Right.VIEW_STOCK,
            Right.POST_STOCK,
            Right.DISTRIBUTE,
            Right.VIEW_HOUSEHOLD_COUNTS,
            Right.VIEW_DISTRIBUTION_LISTS,
        }
    ),
    # Registrars and admins see households' personal data; distributors see the names and card
    # tokens of households listed at their own points, never an identity number or a phone.
    Role.REGISTRAR: frozenset(
        {
            Right.VIEW_REFERENCE,
            Right.VIEW_HOUSEHOLD_COUNTS,
            Right.REGISTER_HOUSEHOLDS,
            Right.VIEW_PERSONAL_DATA,
            Right.MANAGE_ROUNDS,
            Right.VIEW_DISTRIBUTION_LISTS,
        }
    ),
    Role.DISTRIBUTOR: frozenset(
        {Right.VIEW_REFERENCE, Right.DISTRIBUTE, Right.VIEW_HOUSEHOLD_COUNTS, Right.VIEW_DISTRIBUTION_LISTS}
    ),
    Role.PARTNER_REPORTER: frozenset(
        {Right.VIEW_REFERENCE, Right.VIEW_HOUSEHOLD_COUNTS, Right.VIEW_CLUSTER, Right.REPORT_ACTIVITIES}
    ),
    Role.VIEWER: frozenset(
        {Right.VIEW_REFERENCE, Right.VIEW_STOCK, Right.VIEW_HOUSEHOLD_COUNTS, Right.VIEW_CLUSTER}
    ),
}

# Roles whose stock rights reach every site; the others are narrowed to their own sites.
CLUSTER_WIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.COORDINATOR, Role.VIEWER})


def role_has(role: Role, right: Right) -> bool:
    return right in ROLE_RIGHTS[role]
