"""Template context shared by every page: the navigation the signed-in user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from reliefops.core.access import has_right, user_role
from reliefops.core.roles import CLUSTER_WIDE, Right, Role, role_has


@dataclass(frozen=True)
class NavItem:
    """One entry of the header navigation, shown to users whose role carries `right`."""

    label: str
    url_name: str
    right: Right

    def matches(self, view_name: str) -> bool:
        """Whether the current page belongs to this entry (`web:site-detail` belongs to `web:site-list`)."""
        if view_name == self.url_name:
            return True
        section = self.url_name.rsplit("-", 1)[0]
        return section != self.url_name and view_name.rsplit("-", 1)[0] == section


# In the order they appear. Later apps append their sections here.
NAVIGATION: list[NavItem] = [
    NavItem("Overview", "web:home", Right.VIEW_REFERENCE),
    NavItem("Admin areas", "web:adminarea-list", Right.VIEW_REFERENCE),
    NavItem("Sites", "web:site-list", Right.VIEW_REFERENCE),
    NavItem("Organisations", "web:organisation-list", Right.VIEW_REFERENCE),
    NavItem("Items", "web:item-list", Right.VIEW_REFERENCE),
    NavItem("Kits", "web:kit-list", Right.VIEW_REFERENCE),
    NavItem("Stock on hand", "stock:onhand-list", Right.VIEW_STOCK),
    NavItem("Waybills", "stock:waybill-list", Right.VIEW_STOCK),
    NavItem("Pipeline", "stock:pipeline", Right.VIEW_STOCK),
    # Distributors hold no VIEW_STOCK: this is their way to the distribution and hand-over forms.
    NavItem("Post stock", "stock:post-menu", Right.DISTRIBUTE),
    NavItem("Households", "households:overview", Right.VIEW_HOUSEHOLD_COUNTS),
    NavItem("Cluster 4W", "cluster:cluster-gaps", Right.VIEW_CLUSTER),
    NavItem("Sitrep", "reports:sitrep", Right.VIEW_CLUSTER),
    # Every role may follow the long jobs it started (imports, duplicate searches); admins see all.
    NavItem("My jobs", "jobs:job-list", Right.VIEW_REFERENCE),
]


# What each right lets a user do, in the words the overview page uses.
RIGHT_PHRASES: dict[Right, str] = {
    Right.VIEW_REFERENCE: "see the reference data (places, organisations, catalogue)",
    Right.MANAGE_REFERENCE: "import and correct reference data",
    Right.VIEW_STOCK: "see stock on hand, the pipeline and donor reports",
    Right.POST_STOCK: "post receipts, waybills, counts and losses",
    Right.DISTRIBUTE: "run distributions and hand over packages",
    Right.VIEW_AUDIT: "read the audit trail",
    Right.MANAGE_USERS: "create users and API tokens",
    Right.VIEW_HOUSEHOLD_COUNTS: "see how many households are registered and served",
    Right.REGISTER_HOUSEHOLDS: "register and import households and decide likely duplicates",
    Right.VIEW_PERSONAL_DATA: "see households' names, identity numbers and phones",
    Right.MANAGE_ROUNDS: "plan distribution rounds, make their lists and print household cards",
    Right.VIEW_DISTRIBUTION_LISTS: "see the names and card tokens of households listed at your points",
    Right.VIEW_CLUSTER: "see the cluster's gap analysis, 4W matrix and totals",
    Right.REPORT_ACTIVITIES: "upload 4W reports and revert uploads (your organisation's, for partners)",
    Right.MANAGE_CLUSTER: "lock reporting periods and load needs baselines",
}


# The same rights of a role narrowed to its own sites (core.access): donor reports, which add up
# every site, are not theirs.
SCOPED_RIGHT_PHRASES: dict[Right, str] = {
    Right.VIEW_STOCK: "see stock on hand and the pipeline at your sites",
    Right.POST_STOCK: "post receipts, waybills, counts and losses at your sites",
    Right.DISTRIBUTE: "run distributions and hand over packages at your sites",
}


def role_phrases(role: Role | None) -> list[str]:
    """What the role may do, in the order of the rights table."""
    if role is None:
        return []
    phrases = RIGHT_PHRASES if role in CLUSTER_WIDE else {**RIGHT_PHRASES, **SCOPED_RIGHT_PHRASES}
    return [phrases[right] for right in Right if role_has(role, right)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = user_role(user)
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    return {
        "nav_items": [
            {"label": item.label, "url": reverse(item.url_name), "active": item.matches(view_name)}
            for item in NAVIGATION
            if has_right(user, item.right)
        ],
        "user_role": role,
        "can_browse_admin": role == Role.ADMIN,
    }
