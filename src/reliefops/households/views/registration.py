"""Registering a household and correcting a registration: likely duplicates are shown before
saving, and saved only once the person says they have seen them."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from reliefops.core.access import access_household_by_id, access_household_to_register, require
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.roles import Right
from reliefops.households import forms
from reliefops.households.identity import format_document
from reliefops.households.models import MEMBER_NAMES, Household, HouseholdStatus
from reliefops.households.services import (
    DuplicatesFound,
    household_correction_problems,
    household_problems,
    household_register,
    household_update,
)
from reliefops.households.views.section import render_page, viewed
from reliefops.places.models import Site, SiteKind
from reliefops.stock.schemas import scoped_key
from reliefops.web.pages import page

RegistrationFormT = TypeVar("RegistrationFormT", bound=forms.RegistrationForm)


def _camps() -> list[tuple[str, str]]:
    return [
        (s.code, s.name) for s in Site.objects.filter(kind=SiteKind.CAMP, is_active=True).order_by("name")
    ]


def _camps_for(household: Household) -> list[tuple[str, str]]:
    """The open camps, and the household's own camp if it has closed since."""
    camps = _camps()
    site = household.current_site
    if site is not None and site.code not in dict(camps):
        camps.append((site.code, f"{site.name} (closed)"))
    return camps


def _correction_initial(household: Household) -> dict[str, Any]:
    simple = (
        "head_name",
        "father_or_husband_name",
        "head_sex",
        "document_type",
        "origin_village",
        "house_damage",
        "elevation_band",
        "elderly_headed",
        "disabled_member",
        "landless",
        "other_vulnerability",
        *MEMBER_NAMES,
    )
    return {
        **{name: getattr(household, name) for name in simple},
        "document_number": format_document(household.document_type, household.document_number),
        "phone": household.phone,
        "origin": household.origin_area.pcode,
        "current_site": household.current_site.code if household.current_site else "",
    }


def _duplicates_shown(request: HttpRequest, exc: DuplicatesFound) -> list[dict[str, Any]]:
    ids = [m.second_id if m.first_id == 0 else m.first_id for m in exc.matches]
    households = {
        h.pk: h for h in Household.objects.select_related("origin_area", "current_site").filter(pk__in=ids)
    }
    viewed(request, households.values(), "registration: likely duplicates")
    return [
        {
            "household": households[i],
            "document": format_document(households[i].document_type, households[i].document_number),
            "score": m.score,
            "reasons": m.reasons,
        }
        for i, m in zip(ids, exc.matches, strict=True)
        if i in households
    ]


def _form_with_duplicates_seen(
    request: HttpRequest,
    form: RegistrationFormT,
    duplicates: list[dict[str, Any]],
    *,
    camps: list[tuple[str, str]],
) -> RegistrationFormT:
    """The form sent again (a registration or a correction, of the same class), carrying the
    likely duplicates just shown among those seen: sent once more, it saves."""
    data = request.POST.copy()
    seen = {*form.seen(), *(d["household"].pk for d in duplicates)}
    data["duplicates_seen"] = ",".join(str(i) for i in sorted(seen))
    again = type(form)(data, camps=camps)
    again.is_valid()
    return again


@page
def register(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    require(request.user, Right.VIEW_PERSONAL_DATA)
    form = forms.RegistrationForm(request.POST or None, camps=_camps())
    duplicates: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = household_register(
                    actor=request.user,
                    data=form.to_input(),
                    duplicates_seen=form.seen(),
                    idempotency_key=scoped_key(request.user, form.cleaned_data["idempotency_key"]),
                )
            except DuplicatesFound as exc:
                duplicates = _duplicates_shown(request, exc)
                form = _form_with_duplicates_seen(request, form, duplicates, camps=_camps())
                status = 409
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                notify = messages.info if result.replayed else messages.success
                notify(request, result.message)
                return redirect("households:detail", result.household.pk)
        else:
            # Every problem at once: the service checks the fields the form could read.
            form.show_problems_of_the_rest(household_problems(form.to_input()))
            status = 422
    return render_page(
        request, "households/register.html", {"form": form, "duplicates": duplicates}, status=status
    )


@page
def household_correct(request: HttpRequest, household_id: int) -> HttpResponse:
    access_household_to_register(request.user, household_id)
    household = access_household_by_id(request.user, household_id)
    camps = _camps_for(household)
    form = forms.CorrectionForm(request.POST or None, camps=camps, initial=_correction_initial(household))
    duplicates: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = household_update(
                    actor=request.user,
                    household_id=household.pk,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    duplicates_seen=form.seen(),
                    idempotency_key=scoped_key(request.user, form.cleaned_data["idempotency_key"]),
                )
            except DuplicatesFound as exc:
                duplicates = _duplicates_shown(request, exc)
                form = _form_with_duplicates_seen(request, form, duplicates, camps=camps)
                status = 409
            except InvalidInput as exc:
                form.show_problems(exc.problems)
                status = exc.status
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                notify = messages.success if result.fields and not result.replayed else messages.info
                notify(request, result.message)
                return redirect("households:detail", household.pk)
        else:
            # Every problem at once: the service checks the fields the form could read.
            problems = household_correction_problems(
                household_id=household.pk, changes=form.changes(), reason=form.cleaned_data.get("reason", "")
            )
            form.show_problems_of_the_rest(problems)
            status = 422
    viewed(request, [household], "correction form")
    return render_page(
        request,
        "households/correct.html",
        {
            "household": household,
            "form": form,
            "duplicates": duplicates,
            "correctable": household.status == HouseholdStatus.ACTIVE and household.anonymised_at is None,
        },
        status=status,
    )
