"""Forms of the household pages. They parse what was typed; the services check the rules, and a
refusal's problems are put back beside the fields they name (`show_problems`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from reliefops.core.errors import Problem
from reliefops.core.security import whole_id
from reliefops.core.text import day_text
from reliefops.households.cards import TYPED_MAX, normalise_token
from reliefops.households.cells import too_long
from reliefops.households.identity import DocumentType
from reliefops.households.models import (
    CARD_REASON_MAX,
    MEMBER_FIELDS,
    OTHER_VULNERABILITY_MAX,
    ElevationBand,
    HouseDamage,
    HouseholdStatus,
    Living,
    RoundStatus,
    Sex,
    Vulnerability,
)
from reliefops.households.services import HouseholdInput, PackageInput, PointInput, RoundInput
from reliefops.households.services.handovers import COLLECTED_BY_MAX, COLLECTOR
from reliefops.households.services.registration import MEMBERS_MAX, NAME_MAX, TEXTS, member_count_problem
from reliefops.web.forms import ANY, FilterForm

# An <input type="date"> takes and shows ISO dates only, whatever the language of the page.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def date_between(first: dt.date, last: dt.date) -> forms.DateInput:
    """A date picker that offers only the days from `first` to `last`."""
    return forms.DateInput(
        attrs={"type": "date", "min": first.isoformat(), "max": last.isoformat()}, format="%Y-%m-%d"
    )


class DayField(forms.DateField):
    """A day, refused in words that say how to write it (not "Enter a valid date."): a browser
    without a date picker shows a plain text box. What was typed is not repeated, as nowhere on
    these forms."""

    default_error_messages = {"invalid": "not a date; write it as YYYY-MM-DD, e.g. 2006-01-10"}


def new_key() -> str:
    return uuid.uuid4().hex


# A value that is none of a list's choices is not repeated (Django's message quotes it): a form's
# values may be a family's name or number in the wrong field.
NOT_A_CHOICE = "Select one of the choices offered."


class SummarisedForm(forms.Form):
    """A form whose refusal lists every problem above it (`_form_errors.html`), those of no field
    among them: a refusal the service gives the whole form is shown there, or nowhere."""

    def error_summary(self) -> list[str]:
        return [
            f"{self[name].label}: {error}" if name in self.fields else str(error)
            for name, errors in self.errors.items()
            for error in errors
        ]


class ServiceForm(SummarisedForm):
    """A form whose submission a service checks; the service's problems go beside the fields."""

    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, initial=new_key, max_length=80, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if "invalid_choice" in field.error_messages:
                field.error_messages["invalid_choice"] = NOT_A_CHOICE

    def show_problems(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            field = problem.field if problem.field in self.fields else None
            if field is not None and self.fields[field].widget.is_hidden:
                field = None
            self.add_error(field, problem.reason)


class RegistryFilter(FilterForm):
    status = forms.ChoiceField(choices=ANY + HouseholdStatus.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, village, CNIC, phone or household number"


class PointRegistryFilter(FilterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, father's or husband's name, village or number"


def _member_fields() -> dict[str, forms.Field]:
    return {
        name: forms.IntegerField(
            label=label,
            min_value=0,
            max_value=MEMBERS_MAX,
            initial=0,
            widget=forms.NumberInput(attrs={"class": "count-input"}),
            # In the words of the service, as the API and an imported file say them.
            error_messages={
                "invalid": member_count_problem("?"),
                "min_value": member_count_problem(-1),
                "max_value": member_count_problem(MEMBERS_MAX + 1),
            },
        )
        for name, label in MEMBER_FIELDS
    }


def _too_long(field: str, limit: int) -> dict[str, str]:
    """A text field's refusal of its length, in the words of the service (not Django's, which
    also count the characters typed)."""
    return {"max_length": too_long(TEXTS[field], limit)}


class RegistrationForm(ServiceForm):
    head_name = forms.CharField(
        label="Head's name", max_length=NAME_MAX, error_messages=_too_long("head_name", NAME_MAX)
    )
    father_or_husband_name = forms.CharField(
        label="Father's or husband's name",
        max_length=NAME_MAX,
        required=False,
        error_messages=_too_long("father_or_husband_name", NAME_MAX),
    )
    head_sex = forms.ChoiceField(label="Head's sex", choices=Sex.choices, widget=forms.RadioSelect)
    document_type = forms.ChoiceField(
        label="Identity document", choices=DocumentType.choices, initial=DocumentType.CNIC
    )
    document_number = forms.CharField(
        label="Document number", required=False, max_length=40, help_text="A CNIC as 12345-1234567-1"
    )
    phone = forms.CharField(label="Phone", required=False, max_length=30, help_text="0300-1234567")
    origin = forms.CharField(
        label="Origin",
        max_length=120,
        help_text="The lowest admin area known: P-code or name (union council, tehsil)",
    )
    origin_village = forms.CharField(
        label="Village",
        required=False,
        max_length=NAME_MAX,
        error_messages=_too_long("origin_village", NAME_MAX),
    )
    current_site = forms.ChoiceField(label="Lives now", required=False)
    house_damage = forms.ChoiceField(label="House", choices=HouseDamage.choices)
    elevation_band = forms.ChoiceField(label="Elevation", choices=ElevationBand.choices, required=False)
    elderly_headed = forms.BooleanField(label="Elderly-headed", required=False)
    disabled_member = forms.BooleanField(label="Disabled member", required=False)
    landless = forms.BooleanField(label="Landless", required=False)
    other_vulnerability = forms.CharField(
        label="Other vulnerability",
        required=False,
        max_length=OTHER_VULNERABILITY_MAX,
        error_messages=_too_long("other_vulnerability", OTHER_VULNERABILITY_MAX),
    )
    registered_on = DayField(label="Registered on", required=False, widget=DATE)
    consent = forms.BooleanField(
        label="The head agrees to the use of this data for the relief operation",
        required=False,  # refused by the service, in its own words, when not given
        # marked as a field that must be given, as the service refuses a registration without it
        widget=forms.CheckboxInput(attrs={"required": True}),
    )
    duplicates_seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, camps: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(_member_fields())
        self.fields["current_site"].choices = [("", "At home"), *camps]  # type: ignore[attr-defined]
        if "registered_on" in self.fields:
            # The date picker offers the days the server takes: the operation's first day to today.
            self.fields["registered_on"].widget = date_between(settings.OPERATION_START, timezone.localdate())

    @property
    def member_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _ in MEMBER_FIELDS]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        skip = {name for name, _ in MEMBER_FIELDS} | {"consent"}
        return [f for f in self.visible_fields() if f.name not in skip]

    def seen(self) -> list[int]:
        text = self.cleaned_data.get("duplicates_seen") or ""
        return [n for n in map(whole_id, text.split(",")) if n is not None]

    def to_input(self) -> HouseholdInput:
        """What the service checks. Of a refused form, the fields that could be read: one the form
        refused is given empty (its own error says why), so that the others' problems show too."""
        d = self.cleaned_data
        return HouseholdInput(
            head_name=d.get("head_name") or "",
            father_or_husband_name=d.get("father_or_husband_name") or "",
            head_sex=d.get("head_sex") or "",
            document_type=d.get("document_type") or "",
            document_number=d.get("document_number") or "",
            phone=d.get("phone") or "",
            members={name: d.get(name) or 0 for name, _ in MEMBER_FIELDS},
            origin=d.get("origin") or "",
            origin_village=d.get("origin_village") or "",
            current_site=d.get("current_site") or "",
            house_damage=d.get("house_damage") or "",
            elevation_band=d.get("elevation_band") or "",
            elderly_headed=bool(d.get("elderly_headed")),
            disabled_member=bool(d.get("disabled_member")),
            landless=bool(d.get("landless")),
            other_vulnerability=d.get("other_vulnerability") or "",
            consent=bool(d.get("consent")),
            registered_on=d.get("registered_on"),
        )

    def show_problems_of_the_rest(self, problems: Sequence[Problem]) -> None:
        """The service's problems of the fields the form did not refuse itself (a refused field was
        given to it empty); "at least one member" only when no count was refused."""
        refused = set(self.errors)
        counts_refused = bool(refused & {name for name, _ in MEMBER_FIELDS})
        self.show_problems(
            [p for p in problems if p.field not in refused and not (p.field == "members" and counts_refused)]
        )


class CorrectionForm(RegistrationForm):
    """A registration as it reads now, to correct: every field but the day and the consent."""

    reason = forms.CharField(
        label="Why it is corrected",
        max_length=200,
        help_text="Kept with the correction and in the audit trail: say what was wrong, "
        "not the old or new name or number",
    )

    def __init__(self, *args: Any, camps: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, camps=camps, **kwargs)
        del self.fields["consent"]
        del self.fields["registered_on"]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [f for f in super().main_fields if f.name != "reason"]

    def changes(self) -> dict[str, Any]:
        """Every field as the form holds it; the service keeps those that differ. Of a refused form,
        the fields that could be read: one the form refused stays as the household has it."""
        d = self.cleaned_data
        skip = {"idempotency_key", "duplicates_seen", "reason", *(name for name, _ in MEMBER_FIELDS)}
        values = {name: d[name] for name in self.fields if name not in skip and name in d}
        values["members"] = {name: d[name] or 0 for name, _ in MEMBER_FIELDS if name in d}
        return values


class ImportForm(forms.Form):
    file = forms.FileField(label="Registration file", help_text="CSV (UTF-8) or XLSX, one household per row")


class CardReissueForm(ServiceForm):
    reason = forms.CharField(
        label="Why a new card", max_length=CARD_REASON_MAX, help_text="Lost, damaged, ..."
    )


def _whole_number_messages(minimum: int) -> dict[str, str]:
    said = f"a whole number of {minimum} or more"
    return {"invalid": said, "min_value": said}


class PackageLineForm(forms.Form):
    item = forms.ChoiceField(label="Item", required=False, error_messages={"invalid_choice": NOT_A_CHOICE})
    # Refused in the API's words (a whole number of 0 or more), not "Ensure this value is …".
    per_household = forms.IntegerField(
        label="Per household", min_value=0, required=False, error_messages=_whole_number_messages(0)
    )
    per_member = forms.IntegerField(
        label="Per member", min_value=0, required=False, error_messages=_whole_number_messages(0)
    )
    at_most = forms.IntegerField(
        label="At most", min_value=1, required=False, error_messages=_whole_number_messages(1)
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A quantity without its item would be left out of the package without a word.
        quantities = [data.get(name) for name in ("per_household", "per_member", "at_most")]
        if not data.get("item") and "item" not in self.errors and any(q is not None for q in quantities):
            self.add_error("item", "choose the item of these quantities, or empty them")
        return data


PACKAGE_LINES = 4
LIST_ROWS = 8  # the rows a list of many choices shows at once


class RoundForm(ServiceForm):
    code = forms.CharField(label="Code", max_length=32, help_text="Short and unique: WR-2005-1")
    name = forms.CharField(label="Name", max_length=160)
    starts_on = DayField(label="From", widget=DATE)
    ends_on = DayField(label="To", widget=DATE)
    points = forms.MultipleChoiceField(
        label="Distribution points",
        widget=forms.CheckboxSelectMultiple,
        help_text="Each serves the households of its own admin area and the areas below it, or of the "
        "area you name beside it (a P-code: a household is served at the point nearest above its camp's "
        "area, or its area of origin when it is at home)",
    )
    areas = forms.MultipleChoiceField(
        label="Households from", required=False, help_text="Any area below counts"
    )
    sites = forms.MultipleChoiceField(
        label="Living in the camps",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only households living in the camps ticked; none ticked: wherever they live",
    )
    living = forms.ChoiceField(label="Living", choices=Living.choices, initial=Living.ANY)
    elevation_bands = forms.MultipleChoiceField(
        label="Elevation",
        choices=[c for c in ElevationBand.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    house_damage = forms.MultipleChoiceField(
        label="House", choices=HouseDamage.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    vulnerabilities = forms.MultipleChoiceField(
        label="Vulnerable (any of)",
        choices=Vulnerability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    not_served_in = forms.MultipleChoiceField(label="Not served in", required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        points: Sequence[tuple[str, str, str]],
        areas: Sequence[tuple[str, str, str]],
        items: Sequence[tuple[str, str]],
        rounds: Sequence[tuple[str, str]],
        camps: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        """`points`: (site id, label, code); `areas`: (area id, label, P-code)."""
        super().__init__(*args, **kwargs)
        self.fields["points"].choices = [(value, label) for value, label, _ in points]  # type: ignore[attr-defined]
        self.fields["areas"].choices = [(value, label) for value, label, _ in areas]  # type: ignore[attr-defined]
        self.fields["sites"].choices = list(camps)  # type: ignore[attr-defined]
        self.fields["not_served_in"].choices = list(rounds)  # type: ignore[attr-defined]
        # A list as tall as its choices, up to LIST_ROWS: what is chosen is seen without scrolling
        # (two rows at least: a browser shows a list of one row as a drop-down).
        for name in ("areas", "not_served_in"):
            rows = min(LIST_ROWS, max(len(self.fields[name].choices), 2))  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["size"] = rows
        # The area each point serves, by P-code (a list to choose from beside the box, no script).
        self.pcodes = {pcode.upper(): int(value) for value, _, pcode in areas}
        self.area_pcodes = [(pcode, label) for _, label, pcode in areas]
        self.serves_names = {value: f"serves_{value}" for value, _, _ in points}
        for value, _, code in points:
            self.fields[f"serves_{value}"] = forms.CharField(
                label=f"Area served by {code}",
                required=False,
                max_length=32,
                widget=forms.TextInput(
                    attrs={"list": "area-pcodes", "class": "pcode-input", "autocomplete": "off"}
                ),
            )
        data = args[0] if args else kwargs.get("data")
        self.lines = [PackageLineForm(data, prefix=f"line{index}") for index in range(1, PACKAGE_LINES + 1)]
        for line in self.lines:
            line.fields["item"].choices = [("", "—"), *items]  # type: ignore[attr-defined]

    @property
    def point_rows(self) -> list[tuple[Any, forms.BoundField]]:
        """Each point's box and the field of the area it serves, side by side. When the choice of
        points is refused, each box is described by the reason (and marked refused, as Django marks
        a refused field), so that a screen reader reads why with the box it is on, not only with
        the group of boxes."""
        points = self["points"]
        reason = f"{points.auto_id}_error" if points.errors else None
        rows = []
        for box in points:
            if reason:
                box.data["attrs"]["aria-describedby"] = reason
            rows.append((box, self[self.serves_names[str(box.data["value"])]]))
        return rows

    @property
    def visible_fields_but_serves(self) -> list[forms.BoundField]:
        return [f for f in self.visible_fields() if not f.name.startswith("serves_")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ticked = set(data.get("points") or [])
        for value, name in self.serves_names.items():
            pcode = (data.get(name) or "").strip().upper()
            if not pcode:
                continue
            if pcode not in self.pcodes:
                self.add_error(name, f"no admin area with P-code {pcode}")
            elif "points" in data and value not in ticked:
                self.add_error(name, "tick this point too, or leave its area empty")
        return data

    def is_valid(self) -> bool:
        valid = super().is_valid()
        lines = [line.is_valid() for line in self.lines]  # every line checked, to show all errors
        return all(lines) and valid

    def package(self) -> list[dict[str, Any]]:
        return [line.cleaned_data for line in self.lines if line.cleaned_data.get("item")]

    def round_input(self) -> RoundInput:
        """What the round service checks, read from whatever fields could be read: a refused field
        is given empty (its own error says why), so that every other problem shows at once."""
        d = self.cleaned_data
        starts, ends = d.get("starts_on"), d.get("ends_on")
        starts = starts or ends or timezone.localdate()  # only when neither day could be read
        ends = ends or starts
        points = []
        for value in d.get("points") or []:
            pcode = (d.get(self.serves_names.get(value, ""), "") or "").strip().upper()
            points.append(PointInput(site_id=int(value), serves_area_id=self.pcodes.get(pcode)))
        return RoundInput(
            code=d.get("code") or "",
            name=d.get("name") or "",
            starts_on=starts,
            ends_on=ends,
            points=points,
            package=[
                PackageInput(
                    item_id=int(line["item"]),
                    per_household=line.get("per_household") or 0,
                    per_member=line.get("per_member") or 0,
                    at_most=line.get("at_most"),
                )
                for line in self.package()
            ],
            area_ids=[int(a) for a in d.get("areas") or []],
            site_ids=[int(s) for s in d.get("sites") or []],
            living=d.get("living") or Living.ANY,
            elevation_bands=d.get("elevation_bands") or [],
            vulnerabilities=d.get("vulnerabilities") or [],
            house_damage=d.get("house_damage") or [],
            not_served_in_ids=[int(r) for r in d.get("not_served_in") or []],
        )

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """The service's problems beside their fields; one of a field the form refused already (its
        value could not be read, so the service was given it empty) is left out."""
        refused = set(self.errors)
        refused_lines = [set(line.errors) for line in self.lines]
        filled = [(index, line) for index, line in enumerate(self.lines) if line.cleaned_data.get("item")]
        ticked = list(self.cleaned_data.get("points") or [])
        for problem in problems:
            if problem.field in PackageLineForm.base_fields and problem.row and problem.row <= len(filled):
                index, line = filled[problem.row - 1]
                if problem.field not in refused_lines[index]:
                    line.add_error(problem.field, problem.reason)
            elif problem.field in {"package", "item"}:
                self.add_error(None, f"Package: {problem.reason}")
            elif problem.field == "serves_area" and problem.row and problem.row <= len(ticked):
                self.add_error(self.serves_names[ticked[problem.row - 1]], problem.reason)
            elif problem.field == "ends_on" and {"starts_on", "ends_on"} & refused:
                continue
            elif problem.field not in refused:
                super().show_problems([problem])

    def error_summary(self) -> list[str]:
        out = super().error_summary()
        for row, line in enumerate(self.lines, start=1):
            out += [
                f"Package line {row}, {str(line[name].label).lower()}: {error}"
                for name, errors in line.errors.items()
                for error in errors
            ]
        return out


class UnlistForm(SummarisedForm):
    """Taking a household off a round's distribution list."""

    household = forms.IntegerField(
        label="Household number",
        min_value=1,
        error_messages={
            "invalid": "a household's number, as on its card or the list (1076)",
            "min_value": "a household's number, as on its card or the list (1076)",
        },
    )
    reason = forms.CharField(
        label="Why",
        max_length=200,
        help_text="Kept with the list and in the audit trail: say why (no longer eligible after a "
        "correction, …), not a name",
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=RoundStatus.choices)


class HandoverForm(ServiceForm):
    point = forms.ChoiceField(label="At")
    card = forms.CharField(
        label="Card token",
        required=False,
        max_length=TYPED_MAX,
        help_text="Type it or scan the card's QR code",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    household = forms.IntegerField(widget=forms.HiddenInput, required=False)
    collected_by = forms.CharField(
        label="Collected by",
        max_length=COLLECTED_BY_MAX,
        initial="the head",
        error_messages={
            "required": "say who collected: the head, or the name of the relative",
            "max_length": too_long(COLLECTOR, COLLECTED_BY_MAX),
        },
    )
    handed_on = DayField(
        label="On",
        widget=DATE,
        error_messages={"required": "give the day the household received it (a list from paper: its day)"},
    )
    partial = forms.BooleanField(
        label="Give what there is if stock runs short (the rest is owed)", required=False
    )

    def __init__(
        self,
        *args: Any,
        points: Sequence[tuple[str, str]],
        days: tuple[dt.date, dt.date] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["point"].choices = list(points)  # type: ignore[attr-defined]
        if days is not None:
            # The round's days: the date picker offers only those, and the field says which they are.
            first, last = days
            handed_on = self.fields["handed_on"]
            handed_on.widget = date_between(first, last)
            days_text = " to ".join(day_text(day) for day in days)
            handed_on.help_text = f"A day of the round: {days_text}"

    def forget_malformed_card(self) -> None:
        """Empty the card field when what was typed or scanned there is refused and is no card
        token: the page says what is wrong with it (beside the field) but does not show it again, as
        a wrong code scanned may be anything, a person's data too. A well-formed token refused (no
        household holds it, or it was replaced) stays, to be corrected."""
        typed = self.data.get("card", "")
        if typed and "card" in self.errors and normalise_token(typed) is None:
            # A copy of the posted data with the card emptied: still a QueryDict, whose fields give
            # their single values (a dict made of it gave lists, shown and posted back as "['…']").
            if isinstance(self.data, QueryDict):
                data = self.data.copy()
                data["card"] = ""
                self.data = data
            else:
                self.data = {**self.data, "card": ""}
