"""The cluster pages' forms: filters of the gap table, matrix and rows; the upload; a period."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from reliefops.cluster.models import NOTE_MAX, ActivityStatus, ActivityType
from reliefops.cluster.selectors import LEVELS
from reliefops.cluster.values import EARLIEST, LATEST
from reliefops.core.errors import InvalidInput
from reliefops.partners.models import Organisation
from reliefops.places.models import AdminArea, AdminLevel
from reliefops.web.forms import ANY, FilterForm

# The empty choice of the activity filter is every activity, as in the API and the command line;
# `all`, which older links carry, means the same.
EVERY_ACTIVITY = "all"
MONTH_INPUT = forms.DateInput(attrs={"type": "month", "placeholder": "2005-11"}, format="%Y-%m")


class MonthField(forms.DateField):
    """A month written `2005-11` (what a month input sends); its first day."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]
    widget = MONTH_INPUT

    def to_python(self, value: Any) -> dt.date | None:
        try:
            day = super().to_python(value)
        except ValidationError as error:
            # in the words of the other filters' refusals, not Django's "Enter a valid date."
            raise ValidationError(
                f"'{str(value).strip()}' is not a month; write it as YYYY-MM", code="invalid"
            ) from error
        if day and not EARLIEST <= day <= LATEST:  # the months of 4W rows and reporting periods
            raise ValidationError(f"Enter a month from {EARLIEST:%Y-%m} to {LATEST:%Y-%m}.", code="invalid")
        return day.replace(day=1) if day else None


class PcodeChoiceField(forms.ChoiceField):
    """A P-code chosen from the list, read in any case (`pk522` is PK522) as everywhere P-codes are
    read; the form, its links and the selection then carry the P-code as it is stored."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value).strip()
        folded = text.upper()
        for key, _label in self._flat_choices():
            if str(key).upper() == folded:
                return str(key)
        return text

    def _flat_choices(self) -> list[tuple[Any, str]]:
        """The choices, those of each group (a level's areas) among them."""
        flat: list[tuple[Any, str]] = []
        for key, label in cast(list[tuple[Any, Any]], self.choices):
            flat.extend(label if isinstance(label, list | tuple) else [(key, label)])
        return flat

    def bound_data(self, data: Any, initial: Any) -> Any:
        # the list shows the area chosen as selected, whatever the case it was written in
        return self.to_python(data) if isinstance(data, str) else super().bound_data(data, initial)


def activity_choices() -> list[tuple[str, str]]:
    return list(
        ActivityType.objects.filter(is_active=True).order_by("sort_order", "name").values_list("code", "name")
    )


def area_choices(*levels: str) -> list[tuple[str, str]]:
    areas = (
        AdminArea.objects.filter(level__in=levels)
        .order_by("level", "pcode")
        .values_list("pcode", "name", "level")
    )
    return [(pcode, f"{name} ({pcode})") for pcode, name, _ in areas]


def area_groups(*levels: AdminLevel) -> list[tuple[str, list[tuple[str, str]]]]:
    """The areas of each level, a group each (Provinces, Districts, Tehsils), in the order given."""
    groups = [(f"{level.label.split(' (')[0]}s", area_choices(level)) for level in levels]
    return [(label, choices) for label, choices in groups if choices]


def _not_one_of(what: str) -> dict[str, str]:
    """The refusal of a value a filter's list does not hold, as the field's error."""
    return {"invalid_choice": f"'%(value)s' is not {what}; choose one from the list"}


NOT_AN_ACTIVITY = _not_one_of("an activity")
NOT_A_PLACE = _not_one_of("the P-code of a province or district")
NOT_A_ROWS_PLACE = _not_one_of("the P-code of a province, district or tehsil")


class ShowsProblems:
    """A filter form that puts a refusal's problems back beside the fields they name."""

    def show_problems(self: Any, error: InvalidInput) -> None:
        for problem in error.problems:
            name = problem.field if problem.field in self.fields else None
            if name is None or name not in self.errors:
                self.add_error(name, problem.reason)


class SelectionForm(ShowsProblems, forms.Form):
    """Level, activity, reporting months and an area to stay within; a value that is not one is
    the field's error (the page then shows no figures)."""

    level = forms.ChoiceField(
        choices=[(level, AdminLevel(level).label.split(" (")[0]) for level in LEVELS],
        required=False,
        error_messages=_not_one_of("a level"),
    )
    activity = forms.ChoiceField(choices=[], required=False, error_messages=NOT_AN_ACTIVITY)
    period_from = MonthField(label="From month", required=False)
    period_to = MonthField(label="To month", required=False)
    within = PcodeChoiceField(label="Within", choices=[], required=False, error_messages=NOT_A_PLACE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = [("", "Every activity"), *activity_choices()]  # type: ignore[attr-defined]
        self.fields["within"].choices = ANY + area_choices(AdminLevel.PROVINCE, AdminLevel.DISTRICT)  # type: ignore[attr-defined]

    def criteria(self) -> dict[str, Any]:
        """The values chosen, once the form is valid."""
        data = self.cleaned_data
        return {
            "level": data.get("level") or AdminLevel.DISTRICT.value,
            "activity": data.get("activity") or "",
            "period_from": data.get("period_from"),
            "period_to": data.get("period_to"),
            "within": data.get("within") or "",
        }


class RowFilter(FilterForm):
    """The rows page's filters; a value that is not one is the field's error (then no row is listed)."""

    activity = forms.ChoiceField(choices=[], required=False, error_messages=NOT_AN_ACTIVITY)
    status = forms.ChoiceField(
        choices=ANY + ActivityStatus.choices,
        required=False,
        error_messages=_not_one_of("a status (planned, ongoing or completed)"),
    )
    within = PcodeChoiceField(label="Within", choices=[], required=False, error_messages=NOT_A_ROWS_PLACE)
    organisation = forms.ChoiceField(
        label="Reported by",
        choices=[],
        required=False,
        error_messages=_not_one_of("an organisation whose rows you may see"),
    )
    period_from = MonthField(label="From month", required=False)
    period_to = MonthField(label="To month", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and end < start:
            self.add_error("period_to", "the period ends before it starts")
        return data

    def __init__(self, *args: Any, organisations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Row id or place"
        self.fields["activity"].choices = ANY + activity_choices()  # type: ignore[attr-defined]
        # A tehsil's rows too: the rows a tehsil's coordinator checks, as in the gaps page's links
        self.fields["within"].choices = ANY + area_groups(  # type: ignore[attr-defined]
            AdminLevel.PROVINCE, AdminLevel.DISTRICT, AdminLevel.TEHSIL
        )
        self.fields["organisation"].choices = ANY + organisations  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="4W file",
        help_text="The cluster template, or any HXL-tagged CSV, XLSX, XLS or ODS file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.xlsm,.xls,.ods,.txt"}),
    )
    organisation = forms.ChoiceField(
        label="Report of",
        required=False,
        choices=[],
        help_text="The reporting organisation of the rows that name none (#org+reporting); a row that "
        "names its own keeps it, and a file whose every row names another is refused. Left empty: each "
        "row's own, or else its programming organisation.",
    )

    def __init__(self, *args: Any, scope: Organisation | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if scope is not None:
            del self.fields["organisation"]
        else:
            # Named as the rows, batches and previews name them too (NRC), beside the full name.
            organisations = Organisation.objects.order_by("name").values_list("pk", "name", "acronym")
            self.fields["organisation"].choices = [("", "Each row's own")] + [  # type: ignore[attr-defined]
                (str(pk), f"{name} ({acronym})" if acronym and acronym != name else name)
                for pk, name, acronym in organisations
            ]


class NeedsForm(forms.Form):
    file = forms.FileField(
        label="Needs baselines file",
        help_text="CSV or workbook tagged #adm2+code (or another level), #inneed+hh, #population+hh …",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.xlsm,.xls,.ods,.txt"}),
    )


class PeriodForm(forms.Form):
    month = MonthField(label="Month")
    note = forms.CharField(max_length=NOTE_MAX, required=False)
