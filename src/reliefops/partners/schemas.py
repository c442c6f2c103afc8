"""API schemas of the organisations of the response and the donors' grants."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema

from reliefops.partners.models import OrganisationType


class OrganisationRef(Schema):
    id: int = Field(description="Identifier of the organisation.")
    name: str = Field(description="Full name of the organisation.")
    acronym: str = Field(description="Acronym, e.g. `IOM`; may be empty.")


class OrganisationOut(Schema):
    id: int = Field(description="Identifier of the organisation.")
    name: str = Field(description="Full name, e.g. `International Organization for Migration`.")
    acronym: str = Field(description="Acronym, e.g. `IOM`; may be empty.")
    type: OrganisationType = Field(description="UN agency, international or national NGO, government, …")
    aliases: list[str] = Field(description="Other names the organisation is reported under in 4W sheets.")


class OrganisationFilter(FilterSchema):
    q: Annotated[
        str | None, FilterLookup(["name__icontains", "acronym__icontains", "aliases__icontains"])
    ] = Field(None, description="Text found in the name, acronym or an alias (any case).")
    type: Annotated[OrganisationType | None, FilterLookup("type")] = Field(
        None, description="Only organisations of this type."
    )


class GrantOut(Schema):
    id: int = Field(description="Identifier of the grant.")
    reference: str = Field(description="The donor's reference for the grant, unique.")
    title: str = Field(description="Title of the grant; may be empty.")
    donor: OrganisationRef = Field(description="The donor organisation.")
    start: date | None = Field(description="First day of the grant period.")
    end: date | None = Field(description="Last day of the grant period.")
    currency: str = Field(description="ISO 4217 currency code of the amount, e.g. `USD`.")
    amount_minor: int = Field(description="Amount in minor units of the currency (cents, paisa).")


class GrantFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["reference__icontains", "title__icontains"])] = Field(
        None, description="Text found in the reference or title (any case)."
    )
    donor: Annotated[int | None, FilterLookup("donor_id")] = Field(
        None, description="Only the grants of the donor organisation with this id."
    )
