"""Named reads of organisations and grants."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from reliefops.partners.models import Grant, Organisation, OrganisationType


def organisation_find(text: str) -> list[Organisation]:
    """The organisations a name, acronym or alias stands for (case aside); more than one is ambiguous.

    An exact name or acronym wins over aliases: "IOM" finds IOM even if another body lists "IOM"
    among its aliases.
    """
    key = text.strip().lower()
    if not key:
        return []
    organisations = list(Organisation.objects.all())
    direct = [o for o in organisations if key in {o.name.lower(), o.acronym.lower()}]
    if direct:
        return direct
    return [o for o in organisations if key in {alias.strip().lower() for alias in o.aliases}]


def donors() -> QuerySet[Organisation]:
    """Organisations that fund the operation: donors, and any organisation that holds a grant."""
    return Organisation.objects.filter(Q(type=OrganisationType.DONOR) | Q(grants__isnull=False)).distinct()


def grants_of(organisation: Organisation) -> QuerySet[Grant]:
    return Grant.objects.filter(donor=organisation).order_by("start", "reference")
