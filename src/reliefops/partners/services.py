"""Writes of the partners app: organisations of the response and donors' grants.

Imports are all or nothing (every problem listed in one `InvalidInput`), match stored rows by
their natural key (an organisation's name, a grant's reference), leave unchanged rows untouched
and keep before/after values of changed rows in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from reliefops.core.errors import InvalidInput, Problem
from reliefops.core.services import audit_record
from reliefops.core.tabular import ImportCounts
from reliefops.partners.models import Grant, Organisation, OrganisationType
from reliefops.partners.selectors import organisation_find

Actor = AbstractBaseUser | None

TYPE_ALIASES: dict[str, OrganisationType] = {
    "un agency": OrganisationType.UN,
    "united nations": OrganisationType.UN,
    "international ngo": OrganisationType.INGO,
    "national ngo": OrganisationType.NNGO,
    "local ngo": OrganisationType.NNGO,
    "govt": OrganisationType.GOVERNMENT,
    "army": OrganisationType.MILITARY,
    "red cross": OrganisationType.RCRC,
    "red crescent": OrganisationType.RCRC,
    "red cross / red crescent": OrganisationType.RCRC,
    "rc/rc": OrganisationType.RCRC,
    "private sector": OrganisationType.PRIVATE,
}
# Digits after the decimal point in each currency's minor unit (ISO 4217); two for the others listed.
CURRENCY_EXPONENT: dict[str, int] = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3}
CURRENCIES = frozenset(
    {
        "USD", "EUR", "GBP", "PKR", "JPY", "CAD", "AUD", "NZD", "NOK", "SEK", "DKK", "CHF", "SAR",
        "AED", "QAR", "KWD", "BHD", "OMR", "JOD", "CNY", "INR", "TRY", "KRW", "AFN", "BDT", "LKR",
        "NPR", "IRR", "MYR", "IDR", "SGD", "ZAR",
    }
)  # fmt: skip
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def organisation_type(text: str) -> OrganisationType | None:
    """The type a text names: `ingo`, `International NGO`, `Red Crescent`; None if unknown."""
    key = text.strip().lower()
    for kind in OrganisationType:
        if key in {kind.value, kind.label.lower()}:
            return kind
    return TYPE_ALIASES.get(key)


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENT.get(currency, 2)


# The largest amount of a grant, in major units: its minor units (three decimals at most) fit the
# 64-bit integer column with room, and no grant comes near it.
AMOUNT_MAX = 10**15


def to_minor_units(amount: Decimal, currency: str) -> int | None:
    """`1250000.50` USD -> 125000050; None when the amount has more decimals than the currency."""
    scaled = amount * (Decimal(10) ** currency_exponent(currency))
    return int(scaled) if scaled == scaled.to_integral_value() else None


# --- organisations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    name: str
    type: str
    acronym: str = ""
    aliases: tuple[str, ...] = ()
    given: frozenset[str] = frozenset({"acronym", "aliases"})
    line: int | None = None
    bad: frozenset[str] = frozenset()

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def organisations_check(rows: Sequence[OrganisationRow]) -> list[Problem]:
    """Every problem the organisation rows would meet on import."""
    problems: list[Problem] = []
    names: dict[str, OrganisationRow] = {}
    acronyms: dict[str, OrganisationRow] = {}
    for row in rows:
        name = row.name.strip()
        if not name:
            problems.append(row.problem("name", "the name is empty"))
        elif len(name) > 200:
            problems.append(row.problem("name", "longer than 200 characters"))
        elif name.lower() in names:
            problems.append(row.problem("name", f"duplicate name (first on line {names[name.lower()].line})"))
        else:
            names[name.lower()] = row
        if organisation_type(row.type) is None:
            problems.append(
                row.problem(
                    "type", f"unknown type {row.type!r}; use one of {', '.join(OrganisationType.values)}"
                )
            )
        acronym = row.acronym.strip()
        if len(acronym) > 32:
            problems.append(row.problem("acronym", "longer than 32 characters"))
        elif acronym and acronym.lower() in acronyms:
            first = acronyms[acronym.lower()].line
            problems.append(row.problem("acronym", f"duplicate acronym {acronym} (first on line {first})"))
        elif acronym:
            acronyms[acronym.lower()] = row
    if acronyms:
        for org in Organisation.objects.exclude(acronym=""):
            claimant = acronyms.get(org.acronym.lower())
            if claimant is not None and org.name.lower() != claimant.name.strip().lower():
                problems.append(
                    claimant.problem("acronym", f"acronym {org.acronym} already belongs to {org.name}")
                )
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return problems


def _organisation_snapshot(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "acronym": org.acronym, "type": org.type, "aliases": list(org.aliases)}


def organisations_import(
    *, actor: Actor, rows: Sequence[OrganisationRow], dry_run: bool = False
) -> ImportCounts:
    """Create or update organisations by name (case aside), all or nothing."""
    with transaction.atomic():
        problems = organisations_check(rows)
        if problems:
            raise InvalidInput(problems)
        stored = {org.name.lower(): org for org in Organisation.objects.all()}
        created = updated = unchanged = 0
        for row in rows:
            kind = organisation_type(row.type)
            if kind is None:  # refused by organisations_check already
                raise InvalidInput([row.problem("type", f"unknown type {row.type!r}")])
            wanted: dict[str, Any] = {"name": row.name.strip(), "type": kind.value}
            if "acronym" in row.given:
                wanted["acronym"] = row.acronym.strip()
            if "aliases" in row.given:
                wanted["aliases"] = list(row.aliases)
            org = stored.get(row.name.strip().lower())
            if org is None:
                org = Organisation.objects.create(**wanted)
                created += 1
                audit_record(
                    actor=actor,
                    action="organisation.create",
                    object_type="organisation",
                    object_id=org.pk,
                    after=_organisation_snapshot(org),
                )
                continue
            changes = [name for name, value in wanted.items() if getattr(org, name) != value]
            if not changes:
                unchanged += 1
                continue
            before = _organisation_snapshot(org)
            for name in changes:
                setattr(org, name, wanted[name])
            org.save(update_fields=changes)
            updated += 1
            after = _organisation_snapshot(org)
            audit_record(
                actor=actor,
                action="organisation.update",
                object_type="organisation",
                object_id=org.pk,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)


# --- grants --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    """A grant as read from a file; `amount` in major units (1250000.50), stored in minor units."""

    donor: str
    reference: str
    currency: str
    amount: Decimal | None
    title: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    line: int | None = None
    bad: frozenset[str] = frozenset()
    # The optional columns the file has: a stored grant keeps the values of those it lacks.
    given: frozenset[str] = frozenset({"title", "start", "end"})

    @property
    def normal_currency(self) -> str:
        return self.currency.strip().upper()

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason)


def _resolve_donors(rows: Sequence[GrantRow], problems: list[Problem]) -> dict[str, Organisation]:
    donors: dict[str, Organisation] = {}
    for row in rows:
        key = row.donor.strip()
        if not key:
            problems.append(row.problem("donor", "the donor is empty"))
            continue
        if key in donors:
            continue
        found = organisation_find(key)
        if not found:
            problems.append(row.problem("donor", f"unknown donor {key!r} (import the organisation first)"))
        elif len(found) > 1:
            names = ", ".join(org.name for org in found)
            problems.append(row.problem("donor", f"{key!r} could mean {names}; give the full name"))
        else:
            donors[key] = found[0]
    return donors


def _grants_plan(rows: Sequence[GrantRow]) -> tuple[list[Problem], dict[str, Organisation]]:
    problems: list[Problem] = []
    donors = _resolve_donors(rows, problems)
    seen: dict[str, GrantRow] = {}
    for row in rows:
        reference = row.reference.strip()
        if not reference:
            problems.append(row.problem("reference", "a reference is required"))
        elif len(reference) > 64 or not REFERENCE_PATTERN.match(reference):
            problems.append(
                row.problem("reference", f"{reference!r} is not a reference (letters, digits, -._/)")
            )
        elif reference in seen:
            problems.append(
                row.problem("reference", f"duplicate reference (first on line {seen[reference].line})")
            )
        else:
            seen[reference] = row
        if len(row.title) > 200:
            problems.append(row.problem("title", "longer than 200 characters"))
        currency = row.normal_currency
        if not currency:
            problems.append(row.problem("currency", "a currency is required (USD, EUR, PKR...)"))
        elif currency not in CURRENCIES:
            problems.append(
                row.problem("currency", f"unknown currency {row.currency!r}; use an ISO code like USD")
            )
        if row.amount is None:
            if "amount" not in row.bad:
                problems.append(row.problem("amount", "an amount is required"))
        elif row.amount < 0:
            problems.append(row.problem("amount", "the amount is negative"))
        elif row.amount > AMOUNT_MAX:
            problems.append(row.problem("amount", f"the amount is out of range: at most {AMOUNT_MAX:,}"))
        elif currency in CURRENCIES and to_minor_units(row.amount, currency) is None:
            places = currency_exponent(currency)
            problems.append(row.problem("amount", f"{currency} amounts have {places} decimal places at most"))
        if row.start and row.end and row.end < row.start:
            problems.append(row.problem("end", f"the grant ends ({row.end}) before it starts ({row.start})"))
    problems.sort(key=lambda p: p.row if p.row is not None else 0)
    return problems, donors


def grants_check(rows: Sequence[GrantRow]) -> list[Problem]:
    """Every problem the grant rows would meet on import."""
    return _grants_plan(rows)[0]


def _grant_snapshot(grant: Grant, donor: str) -> dict[str, Any]:
    return {
        "reference": grant.reference,
        "donor": donor,
        "title": grant.title,
        "start": grant.start.isoformat() if grant.start else None,
        "end": grant.end.isoformat() if grant.end else None,
        "currency": grant.currency,
        "amount_minor": grant.amount_minor,
    }


def grants_import(*, actor: Actor, rows: Sequence[GrantRow], dry_run: bool = False) -> ImportCounts:
    """Create or update grants by reference, all or nothing; amounts are stored in minor units."""
    with transaction.atomic():
        problems, donors = _grants_plan(rows)
        if problems:
            raise InvalidInput(problems)
        stored = {
            g.reference: g
            for g in Grant.objects.select_related("donor").filter(
                reference__in=[r.reference.strip() for r in rows]
            )
        }
        created = updated = unchanged = 0
        for row in rows:
            donor = donors[row.donor.strip()]
            currency = row.normal_currency
            minor = to_minor_units(row.amount or Decimal(0), currency) or 0
            optional = {"title": row.title.strip(), "start": row.start, "end": row.end}
            wanted: dict[str, Any] = {
                "donor_id": donor.pk,
                **{name: value for name, value in optional.items() if name in row.given},
                "currency": currency,
                "amount_minor": minor,
            }
            grant = stored.get(row.reference.strip())
            if grant is None:
                grant = Grant.objects.create(reference=row.reference.strip(), **wanted)
                created += 1
                audit_record(
                    actor=actor,
                    action="grant.create",
                    object_type="grant",
                    object_id=grant.reference,
                    after=_grant_snapshot(grant, str(donor)),
                )
                continue
            changes = [name for name, value in wanted.items() if getattr(grant, name) != value]
            if not changes:
                unchanged += 1
                continue
            before = _grant_snapshot(grant, str(grant.donor))
            for name in changes:
                setattr(grant, name, wanted[name])
            # A file with one of the two days, beside the other as stored.
            if grant.start and grant.end and grant.end < grant.start:
                raise InvalidInput(
                    [row.problem("end", f"the grant ends ({grant.end}) before it starts ({grant.start})")]
                )
            grant.save(update_fields=changes)
            updated += 1
            after = _grant_snapshot(grant, str(donor))
            audit_record(
                actor=actor,
                action="grant.update",
                object_type="grant",
                object_id=grant.reference,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportCounts(created=created, updated=updated, unchanged=unchanged)
