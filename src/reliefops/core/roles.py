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

    @property
    def one(self) -> str:
        """One person of the role, as a sentence names them: "an admin", "a hub manager"."""
        name = self.value.replace("_", " ")
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


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

# What each right lets a person do, in the words a refusal uses: "your role, viewer, may not post
# stock (receipts, …)". Field staff read these, so they name the work, not the right.
RIGHT_WORDS: dict[Right, str] = {
    Right.VIEW_REFERENCE: "see the reference data (admin areas, sites, organisations, grants, items and "
    "kits)",
    Right.MANAGE_REFERENCE: "import or correct reference data (gazetteer, organisations, grants, catalogue)",
    Right.VIEW_STOCK: "see stock (stock on hand, stock cards, waybills, movements and the pipeline)",
    Right.POST_STOCK: "post stock (receipts, pledges, waybills and their delivery, counts, losses, kitting, "
    "reversals)",
    Right.DISTRIBUTE: "hand stock over (bulk distributions, hand-overs to partners, households' packages)",
    Right.VIEW_AUDIT: "read the audit trail",
    Right.MANAGE_USERS: "manage user accounts and API tokens",
    Right.VIEW_HOUSEHOLD_COUNTS: "open the Households section (counts of households and distribution rounds)",
    Right.REGISTER_HOUSEHOLDS: "register, import, correct or merge households",
    Right.VIEW_PERSONAL_DATA: "see households' personal data (names, identity numbers and phones)",
    Right.MANAGE_ROUNDS: "plan and run distribution rounds (their lists, household cards, opening and "
    "closing)",
    Right.VIEW_DISTRIBUTION_LISTS: "see distribution lists (households' names and card tokens)",
    Right.VIEW_CLUSTER: "see the cluster's figures (gap analysis, 4W matrix, totals, needs, sitrep)",
    Right.REPORT_ACTIVITIES: "see 4W reports row by row, or upload, correct or revert them",
    Right.MANAGE_CLUSTER: "lock reporting periods or load needs baselines, activity types and area outlines",
}

# Roles whose stock rights reach every site; the others are narrowed to their own sites.
CLUSTER_WIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.COORDINATOR, Role.VIEWER})


def role_has(role: Role, right: Right) -> bool:
    return right in ROLE_RIGHTS[role]


def roles_holding(right: Right) -> list[Role]:
    """The roles that carry a right, in the order of the table of roles."""
    return [role for role in Role if role_has(role, right)]


def refusal(role: Role, right: Right) -> str:
    """Why a role may not do what a right covers, in plain words: what was tried, the right it
    needs and which roles hold it ("your role, viewer, may not post stock (…); that needs the right
    post_stock, which an admin or a hub manager holds")."""
    holders = [other.one for other in roles_holding(right)]
    who = holders[0] if len(holders) == 1 else f"{', '.join(holders[:-1])} or {holders[-1]}"
    return (
        f"your role, {role.value.replace('_', ' ')}, may not {RIGHT_WORDS[right]}; "
        f"that needs the right {right.value}, which {who} holds"
    )
