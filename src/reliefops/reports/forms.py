"""The period (and activity) filter of the dashboard, the sitrep and the distribution pages."""

from __future__ import annotations

from typing import Any

from django import forms

from reliefops.cluster.models import ActivityType
from reliefops.core.errors import InvalidInput
from reliefops.reports.periods import Period, period_from


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodForm(forms.Form):
    start = forms.CharField(label="From", required=False, widget=DateInput())
    end = forms.CharField(label="To", required=False, widget=DateInput())
    activity = forms.ChoiceField(label="Cluster activity", required=False, choices=[])

    def __init__(self, *args: Any, with_activity: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_activity:
            activities = ActivityType.objects.order_by("sort_order", "name").values_list("code", "name")
            self.fields["activity"].choices = [("", "First with reports"), *activities]  # type: ignore[attr-defined]
        else:
            del self.fields["activity"]

    def period(self) -> Period:
        """The period asked for; InvalidInput (field and reason) when a date is not one."""
        return period_from(self.data.get("start", ""), self.data.get("end", ""))

    def chosen_activity(self) -> str | None:
        if "activity" not in self.fields or not self.is_valid():
            return None
        return self.cleaned_data.get("activity") or None

    def show_problems(self, error: InvalidInput) -> None:
        for problem in error.problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.reason)
