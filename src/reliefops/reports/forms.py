"""The filters of the dashboard, the sitrep and the distribution pages: a period, an activity, and
on the Distributed page an item, a hub and a district. A value that is not one is refused beside
its field, never ignored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from reliefops.catalog.models import Item
from reliefops.cluster.models import ActivityType
from reliefops.core.errors import InvalidInput, Problem
from reliefops.places.models import AdminArea, AdminLevel, Site, SiteKind
from reliefops.reports import selectors
from reliefops.reports.periods import Period, period_from


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _select(label: str) -> forms.CharField:
    """A choice read as text: the selector it goes to says why a value is refused, in its own words."""
    return forms.CharField(label=label, required=False, widget=forms.Select())


class PeriodForm(forms.Form):
    start = forms.CharField(label="From", required=False, widget=DateInput())
    end = forms.CharField(label="To", required=False, widget=DateInput())
    activity = _select("Cluster activity")

    def __init__(self, *args: Any, with_activity: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_activity:
            activities = ActivityType.objects.order_by("sort_order", "name").values_list("code", "name")
            self._choices("activity", [("", "First with reports"), *activities])
        else:
            del self.fields["activity"]

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        self.fields[name].widget.choices = choices

    def period(self) -> Period:
        """The period asked for; InvalidInput (field and reason) when a date is not one, or the
        period starts after today."""
        return period_from(self.data.get("start", ""), self.data.get("end", ""), today=timezone.localdate())

    def chosen_activity(self) -> str | None:
        """The activity asked for, as written (the cluster's selection refuses one it does not know)."""
        if "activity" not in self.fields:
            return None
        return str(self.data.get("activity", "")).strip() or None

    def check_activity(self) -> None:
        """Where the form offers no activity (a role that sees no cluster figures), one given all
        the same is still refused when it is none, as everywhere: InvalidInput naming it."""
        given = str(self.data.get("activity", "")).strip()
        if "activity" in self.fields or not given:
            return
        if not ActivityType.objects.filter(Q(code__iexact=given) | Q(name__iexact=given)).exists():
            codes = ", ".join(
                ActivityType.objects.order_by("sort_order", "code").values_list("code", flat=True)
            )
            raise InvalidInput(
                [Problem(None, "activity", f"'{given}' is not an activity; use one of {codes}")]
            )

    def show_problems(self, error: InvalidInput) -> None:
        for problem in error.problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.reason)


class DistributedForm(PeriodForm):
    """The Distributed page's filter: the period, and an item, a hub and a district."""

    item = _select("Item")
    hub = _select("Hub")
    district = _select("District")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, with_activity=False, **kwargs)
        items = Item.objects.order_by("code").values_list("code", "name")
        hubs = (
            Site.objects.filter(
                Q(kind__in=selectors.HUB_KINDS) | Q(parent_hub__isnull=True, kind=SiteKind.DISTRIBUTION_POINT)
            )
            .order_by("name")
            .values_list("code", "name")
        )
        districts = AdminArea.objects.filter(level=AdminLevel.DISTRICT).order_by("name")
        self._choices("item", [("", "Every item"), *items])
        self._choices("hub", [("", "Every hub"), *hubs])
        self._choices("district", [("", "Every district"), *((a.pcode, str(a)) for a in districts)])

    def criteria(self) -> tuple[Period, selectors.Narrowing]:
        """The period and what the page is narrowed to; InvalidInput with every problem of both."""
        problems: list[Problem] = []
        period = Period()
        narrowed = selectors.Narrowing()
        try:
            period = self.period()
        except InvalidInput as error:
            problems += error.problems
        try:
            narrowed = selectors.narrowing(
                item=self.data.get("item", ""),
                hub=self.data.get("hub", ""),
                district=self.data.get("district", ""),
            )
        except InvalidInput as error:
            problems += error.problems
        if problems:
            raise InvalidInput(problems)
        # shown as the lists name them: a hub given by its id (an earlier link) is shown by its code
        shown = dict(self.data.items())
        shown["item"] = narrowed.item.code if narrowed.item else ""
        shown["hub"] = narrowed.hub.code if narrowed.hub else ""
        shown["district"] = narrowed.district.pcode if narrowed.district else ""
        self.data = shown
        return period, narrowed

    @property
    def kept(self) -> dict[str, str]:
        """The item, hub and district, which the "Whole operation" link keeps."""
        return {name: str(self.data.get(name, "")) for name in ("item", "hub", "district")}
