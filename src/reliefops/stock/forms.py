"""Forms of the stock pages: filters (GET) and one form per posting (POST), with their lines.

A posting form offers only what the user may use (the sites of their scope, through core.access)
and carries a hidden idempotency key made when the form is rendered, so a double click posts once.
A refused posting's problems are put back beside the field they name (`show_problems`), on the
line they name, and the data stays as it was typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.forms import formset_factory
from django.utils import timezone

from reliefops.catalog.models import PackSize
from reliefops.core.access import (
    AnyUser,
    access_grants,
    access_items,
    access_organisations,
    access_sites,
    stock_sites,
)
from reliefops.core.errors import Problem
from reliefops.core.roles import Right
from reliefops.core.security import whole_id
from reliefops.places.models import SiteKind
from reliefops.stock.models import (
    DRIVER_MAX,
    EXCESS_REASON_MAX,
    QUANTITY_MAX,
    REASON_MAX,
    REFERENCE_MAX,
    REVERSAL_REASON_MAX,
    VEHICLE_MAX,
    WAYBILL_NUMBER_MAX,
    MovementKind,
    Transport,
    WaybillStatus,
)
from reliefops.stock.schemas import scoped_key
from reliefops.stock.services import UNRESOLVED, LossReason
from reliefops.stock.services.locations import UNATTRIBUTED_GRANT
from reliefops.web.forms import ANY, FilterForm, shown_short

LINES_PREFIX = "lines"
MORE_LINES = 5
ID_MAX = 2**63 - 1  # the largest id a database column holds
STOCK_KINDS = [SiteKind.WAREHOUSE, SiteKind.HUB, SiteKind.DISTRIBUTION_POINT]


def new_key() -> str:
    return uuid.uuid4().hex


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        initial=timezone.localdate if required else None,
        help_text=help_text,
    )


class SiteChoice(forms.ModelChoiceField):
    what = ("a site", "sites")

    def label_from_instance(self, obj: Model) -> str:
        closed = "" if getattr(obj, "is_active", True) else ", closed"
        return f"{obj.name} ({obj.code}{closed})"  # type: ignore[attr-defined]


class ItemChoice(forms.ModelChoiceField):
    what = ("an item", "items")

    def label_from_instance(self, obj: Model) -> str:
        return f"{obj.code} · {obj.name}"  # type: ignore[attr-defined]


class GrantChoice(forms.ModelChoiceField):
    what = ("a grant", "grants")

    def label_from_instance(self, obj: Model) -> str:
        return str(obj.reference)  # type: ignore[attr-defined]


class OrganisationChoice(forms.ModelChoiceField):
    what = ("a partner organisation", "partner organisations")

    def label_from_instance(self, obj: Model) -> str:
        acronym = obj.acronym  # type: ignore[attr-defined]
        return f"{obj.name} ({acronym})" if acronym else str(obj.name)  # type: ignore[attr-defined]


def stock_site_choices(user: AnyUser) -> Any:
    """Every open site that holds stock (a waybill may go to any of them)."""
    return access_sites(user).filter(kind__in=STOCK_KINDS, is_active=True).order_by("name", "pk")


# --- the words of a refusal ------------------------------------------------------------------------

# What a choice offers, by the field's name (else by its class: `what` of SiteChoice, ...): what to
# choose, and what the list holds, to say what a value is not.
CHOICES_NAMED: dict[str, tuple[str, str]] = {
    "kit": ("a kit", "kits"),
    "transport": ("the transport", "means of transport"),
    "reason": ("the reason", "reasons"),
    "pack": ("a pack", "packs"),
    "pledge": ("a pledge", "open pledges"),
    "action": ("assemble or break", "actions"),
}


def _what(field: forms.Field) -> tuple[str, str]:
    what = getattr(field, "what", None)
    return what if isinstance(what, tuple) else ("one", "choices")


class PlainRefusals:
    """Django's own refusals of a field, said as the ledger says its own: the reason, in plain words,
    with what was typed (the page puts the field's name before it, and the line's).

    "Enter a whole number." is "not a whole number: 'ten'" (as on the command line), "Select a valid
    choice. That choice is not one of the available choices." is "'99' is not one of the sites
    offered; pick one from the list", "This field is required." is "choose a site" or "must not be
    blank", "Ensure this value has at most 64 characters (it has 70)." is "longer than 64
    characters; shorten it" (as the ledger says it). Every posting form and line takes them from
    here; a refusal the form or the ledger words itself is left as it is.
    """

    fields: dict[str, forms.Field]

    def add_error(self, field: str | None, error: Any) -> None:
        if field in self.fields and isinstance(error, ValidationError) and not hasattr(error, "error_dict"):
            error = ValidationError([self._plain(field, each) for each in error.error_list])
        super().add_error(field, error)  # type: ignore[misc]

    def _plain(self, name: str, error: ValidationError) -> ValidationError:
        field = self.fields[name]
        params = error.params or {}
        typed = self._typed(name)
        choose, offered = CHOICES_NAMED.get(name) or _what(field)
        said = None
        if error.code == "required":
            said = f"choose {choose}" if isinstance(field, forms.ChoiceField) else "must not be blank"
        elif error.code == "invalid_choice":
            said = (
                f"'{params.get('value', typed)}' is not one of the {offered} offered; pick one from the list"
            )
        elif error.code == "invalid" and isinstance(field, forms.IntegerField):
            said = f"not a whole number: '{typed}'"
        elif error.code == "invalid" and isinstance(field, forms.DateField):
            said = f"'{typed}' is not a date; write it as YYYY-MM-DD"
        elif error.code == "max_length":
            said = f"longer than {params.get('limit_value')} characters; shorten it"
        elif error.code == "min_value":
            said = f"must be {params.get('limit_value')} or more, not {typed}"
        elif error.code == "max_value":
            said = f"must be {params.get('limit_value')} or less, not {typed}"
        elif error.code == "null_characters_not_allowed":
            said = "holds a character no text may hold (NUL); type it again"
        # Without params, the message is shown as it is: a '%' typed is not a placeholder.
        return error if said is None else ValidationError(said, code=error.code)

    def _typed(self, name: str) -> str:
        """What was sent for the field, as typed (without the spaces around it; cut short when long)."""
        value = self[name].data  # type: ignore[index]
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        text = "" if value is None else str(value).strip()
        return shown_short(text)


# --- filters (GET) --------------------------------------------------------------------------------


# A filter's site or item that names none, in the field's words (a site the user may not see is none).
NO_SITE = "no site whose stock you may see has the code '%(value)s'; choose one from the list"
NO_ITEM = "no item has the code '%(value)s'; choose one from the list"


class _ByCode:
    """A choice read by its code in any case (`blk-hub`), or by its id as earlier links wrote it;
    the list then shows it chosen, and a value that is none is refused in the field's words."""

    key = "pk"

    def to_python(self: Any, value: Any) -> Model | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        number = whole_id(text)
        found = self.queryset.filter(code__iexact=text).first() or (
            self.queryset.filter(pk=number).first() if number is not None else None
        )
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text}
            )
        return found

    def bound_data(self: Any, data: Any, initial: Any) -> Any:
        try:
            found = self.to_python(data)
        except ValidationError:
            return data
        return getattr(found, self.key) if found is not None else data


class SiteByCode(_ByCode, SiteChoice):
    pass


class ItemByCode(_ByCode, ItemChoice):
    key = "code"


class FilterDay(forms.DateField):
    """A day of a period (a card's, a list's), refused as the reports' periods are, not "Enter a valid
    date."."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except ValidationError as error:
            raise ValidationError(
                f"'{str(value).strip()}' is not a date; write it as YYYY-MM-DD", code="invalid"
            ) from error


def _any_item() -> ItemByCode:
    """A list's filter by one item, read by its code (any case); empty: every item."""
    return ItemByCode(
        queryset=None,
        required=False,
        empty_label="Any",
        to_field_name="code",
        error_messages={"invalid_choice": NO_ITEM},
    )


class OnHandFilter(FilterForm):
    """The Stock on hand's filter: a text in the item's code or name, the site, an item (by its code,
    as the other stock lists take it), one row per grant."""

    site = SiteByCode(
        queryset=None, required=False, empty_label="Any", error_messages={"invalid_choice": NO_SITE}
    )
    item = _any_item()
    by_grant = forms.BooleanField(label="One row per grant", required=False)

    def __init__(self, *args: Any, sites: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = "Item code or name"
        self.fields["q"].widget.attrs["placeholder"] = "Item code or name"
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["item"].queryset = items  # type: ignore[attr-defined]


class WaybillFilter(FilterForm):
    """The Waybills list's filter: number, site (from or to), status, an item (by code), overdue."""

    site = SiteByCode(
        queryset=None,
        required=False,
        empty_label="Any",
        label="From or to",
        error_messages={"invalid_choice": NO_SITE},
    )
    status = forms.ChoiceField(choices=ANY + WaybillStatus.choices, required=False)
    item = _any_item()
    overdue = forms.BooleanField(label="Overdue only", required=False)

    def __init__(self, *args: Any, sites: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = "Number"
        self.fields["q"].widget.attrs["placeholder"] = "Waybill number"
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["item"].queryset = items  # type: ignore[attr-defined]


class MovementFilter(FilterForm):
    """The Movements list's filter: reference, site, kind, an item and the days (both included)."""

    site = SiteByCode(
        queryset=None, required=False, empty_label="Any", error_messages={"invalid_choice": NO_SITE}
    )
    kind = forms.ChoiceField(choices=ANY + MovementKind.choices, required=False)
    item = _any_item()
    start = FilterDay(label="From", required=False, widget=DateInput())
    end = FilterDay(label="To", required=False, widget=DateInput())

    def __init__(self, *args: Any, sites: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = "Number or reference"
        self.fields["q"].widget.attrs["placeholder"] = "#2120, or a GRN, waybill or report number"
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["item"].queryset = items  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "the period ends before it starts")
        return data


class StockCardForm(forms.Form):
    """One item at one site over a period: the site by its code (or id), the item by its code."""

    site = SiteByCode(queryset=None, error_messages={"required": "choose a site", "invalid_choice": NO_SITE})
    item = ItemByCode(
        queryset=None,
        to_field_name="code",
        error_messages={"required": "choose an item", "invalid_choice": NO_ITEM},
    )
    start = FilterDay(label="From", widget=DateInput())
    end = FilterDay(label="To", widget=DateInput())

    def __init__(self, *args: Any, sites: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["item"].queryset = items  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("start", "the period starts after it ends")
        return data


# --- lines ----------------------------------------------------------------------------------------


class LineForm(PlainRefusals, forms.Form):
    """One line of a posting. Its `item` may be fixed (prefilled from a waybill or a site's stock)."""

    def __init__(self, *args: Any, items: Any = None, grants: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "item" in self.fields and isinstance(self.fields["item"], forms.ModelChoiceField):
            self.fields["item"].queryset = items
        for name in ("grant", "surplus_grant"):
            if name in self.fields:
                self.fields[name].queryset = grants  # type: ignore[attr-defined]

    @property
    def fixed(self) -> bool:
        """A prefilled line: its item is shown as text and sent back in a hidden field."""
        return bool(self.initial.get("label"))

    def stand_in(self, name: str) -> Any:
        """What the ledger is given for a field the form could not read: nothing it refuses itself.

        A record no longer offered stands in as UNRESOLVED, a number as 1, and anything else (a text
        too long, a choice not offered) as its empty value, "": the ledger reads it as it reads text.
        """
        field = self.fields[name]
        if name == "item" or isinstance(field, forms.ModelChoiceField):
            return UNRESOLVED if isinstance(field, forms.IntegerField) else Unread()
        if isinstance(field, forms.IntegerField):
            return 1
        return ""


def _quantity(label: str = "Quantity", *, required: bool = True, minimum: int = 1) -> forms.IntegerField:
    """A whole number; the browser is told it is from `minimum` to what a line moves.

    The form reads the number and the ledger judges it, so that a form lists what the API lists for
    the same request, in the same words, beside every other problem of the posting.
    """
    return forms.IntegerField(
        label=label,
        required=required,
        widget=forms.NumberInput(attrs={"min": minimum, "max": QUANTITY_MAX, "step": 1}),
    )


class Unread:
    """What the form puts in place of a choice it could not read (an item no longer offered): the
    ledger passes over its UNRESOLVED id, and the form shows its own problem."""

    pk = UNRESOLVED


class StockLineForm(LineForm):
    item = ItemChoice(queryset=None)
    quantity = _quantity()
    grant = GrantChoice(queryset=None, required=False, empty_label="Oldest stock first")


class ReceiptLineForm(LineForm):
    item = ItemChoice(queryset=None)
    quantity = _quantity(required=False)
    packs = _quantity("or packs", required=False)
    pack = forms.ChoiceField(label="Pack", required=False, choices=[("", "—")])

    def __init__(self, *args: Any, packs: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack"].choices = [("", "—"), *((name, name) for name in packs)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "quantity" in data and "packs" in data and (data["quantity"] is None) == (data["packs"] is None):
            self.add_error("quantity", "give either a quantity in base units or a number of packs")
        return data


class DeliveryLineForm(LineForm):
    item = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=ID_MAX)
    received = _quantity("Received in good condition", minimum=0)
    damaged = _quantity("Damaged", minimum=0)
    damage_reason = forms.CharField(label="Why damaged", required=False, max_length=REASON_MAX)
    short_reason = forms.CharField(label="Why short", required=False, max_length=REASON_MAX)

    def stand_in(self, name: str) -> Any:
        # What was sent arrived, less what is reported damaged: no shortfall nor excess to explain.
        if name == "damaged":
            return 0
        if name == "received":
            damaged = self.cleaned_data.get("damaged")
            return max(int(self.initial.get("sent") or 0) - (damaged if isinstance(damaged, int) else 0), 0)
        return super().stand_in(name)


class CountLineForm(LineForm):
    item = ItemChoice(queryset=None)
    counted = _quantity("Counted", required=False, minimum=0)
    # A surplus of no named grant goes to the UNATTRIBUTED grant: the empty choice is that grant, so
    # the grant itself is not offered again beside it (two choices that post the same).
    surplus_grant = GrantChoice(
        queryset=None, required=False, empty_label=f"{UNATTRIBUTED_GRANT} (donor unknown)"
    )

    def stand_in(self, name: str) -> Any:
        return 0 if name == "counted" else super().stand_in(name)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["surplus_grant"]
        field.queryset = field.queryset.exclude(reference=UNATTRIBUTED_GRANT)  # type: ignore[attr-defined]
        if self.fixed:
            self.fields["item"].widget = forms.HiddenInput()


# --- postings (POST) ------------------------------------------------------------------------------


def choose_the_only_site(form: forms.Form, name: str) -> None:
    """Have the site `name` chosen on a blank form when the user may act at that one site only (a hub
    manager of one hub), instead of picked from a list every time."""
    own = form.fields.get(name)
    if not form.is_bound and isinstance(own, SiteChoice) and name not in form.initial:
        only = list(own.queryset.values_list("pk", flat=True)[:2])  # type: ignore[union-attr]
        if len(only) == 1:
            form.initial[name] = only[0]


class PostingForm(PlainRefusals, forms.Form):
    """A posting with its hidden idempotency key and, when `line_form` is set, its lines."""

    line_form: type[LineForm] | None = None
    extra_lines = 6
    right = Right.POST_STOCK
    # The site the posting is made at (not a waybill's destination): chosen for a user who may post
    # at that one site only, as a hub manager of one hub, instead of picked from a list every time.
    own_site = "site"
    # Every line must be sent, even one left as it was prefilled (a delivery lists every item).
    send_unchanged_lines = False

    idempotency_key = forms.CharField(widget=forms.HiddenInput, initial=new_key, max_length=80)

    def __init__(
        self,
        data: Any = None,
        *,
        user: AnyUser,
        initial_lines: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        for field in self.fields.values():
            if isinstance(field, SiteChoice) and field.queryset is None:
                field.queryset = stock_sites(user, self.right)
        choose_the_only_site(self, self.own_site)
        self.lines: Any = None
        if self.line_form is not None:
            extra = self.extra_lines if not initial_lines else max(self.extra_lines - len(initial_lines), 0)
            formset = formset_factory(self.line_form, extra=extra)
            self.lines = formset(
                data, prefix=LINES_PREFIX, initial=initial_lines, form_kwargs=self.line_kwargs()
            )

    def line_kwargs(self) -> dict[str, Any]:
        return {
            "items": access_items(self.user).filter(is_active=True).order_by("code"),
            "grants": access_grants(self.user).order_by("reference"),
        }

    @staticmethod
    def with_more_lines(data: Any) -> Any:
        """The posted data with MORE_LINES empty lines added (the "More lines" button)."""
        data = data.copy()
        key = f"{LINES_PREFIX}-TOTAL_FORMS"
        try:
            data[key] = str(min(int(data.get(key, 0)) + MORE_LINES, 200))
        except ValueError:
            data[key] = str(MORE_LINES)
        return data

    def is_valid(self) -> bool:
        self.caller_problems: list[Problem] = []
        valid = super().is_valid()
        if self.lines is not None:
            valid = self.lines.is_valid() and valid
        return valid

    def stand_ins(self) -> bool:
        """For a form not valid only because of fields of its lines it could not read (an item no
        longer offered, a number it could not read): put a stand-in in each one's place (see
        `LineForm.stand_in`) and keep the form's problems as `caller_problems`, so that the ledger
        checks everything else and lists its problems beside the form's. False when the posting
        itself (a date, a site) could not be read: the form then shows only its own problems.
        """
        if self.errors or self.lines is None or self.lines.non_form_errors():
            return False
        problems: list[Problem] = []
        row = 0
        for line in self.lines.forms:
            if not (self.send_unchanged_lines or line.has_changed()):
                continue
            row += 1
            for name, errors in line.errors.items():
                if name not in line.fields:
                    problems += [Problem(row, "line", str(error)) for error in errors]
                    continue
                line.cleaned_data[name] = line.stand_in(name)
                problems += [Problem(row, name, str(error)) for error in errors]
        self.caller_problems = problems
        return bool(problems)

    def idempotency(self) -> str | None:
        return scoped_key(self.user, self.cleaned_data.get("idempotency_key"), field="idempotency_key")

    def filled_lines(self) -> list[tuple[int, LineForm]]:
        """(row on the page, line form) of the lines to post, in order; blank rows are skipped."""
        if self.lines is None:
            return []
        return [
            (row, line)
            for row, line in enumerate(self.lines.forms, start=1)
            if (self.send_unchanged_lines or line.has_changed()) and line.cleaned_data
        ]

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """Put a service's problems beside the fields (and lines) they name."""
        filled = self.filled_lines()
        for problem in problems:
            target: forms.Form = self
            if problem.row is not None and 0 < problem.row <= len(filled):
                target = filled[problem.row - 1][1]
            field = problem.field if problem.field in target.fields else None
            if field is not None and target.fields[field].widget.is_hidden:
                field = None
            if problem.reason not in target.errors.get(field or NON_FIELD_ERRORS, []):
                target.add_error(field, problem.reason)

    def error_summary(self) -> list[str]:
        """Every error, naming its line and field: `Line 2, quantity: must be more than zero`."""
        out = [
            f"{self[name].label}: {error}" if name in self.fields else str(error)
            for name, errors in self.errors.items()
            for error in errors
        ]
        if self.lines is not None:
            for row, line in enumerate(self.lines.forms, start=1):
                line_name = f"Line {row} ({line.initial['label']})" if line.fixed else f"Line {row}"
                for name, errors in line.errors.items():
                    where = (
                        f"{line_name}, {str(line[name].label).lower()}" if name in line.fields else line_name
                    )
                    out += [f"{where}: {error}" for error in errors]
        return out


class ReceiptForm(PostingForm):
    line_form = ReceiptLineForm
    site = SiteChoice(queryset=None, label="Received at")
    # No grant is chosen for the user: a grant forgotten would charge another donor's report.
    grant = GrantChoice(queryset=None, label="Grant", empty_label="Choose the grant")
    grn_number = forms.CharField(
        label="GRN number", max_length=REFERENCE_MAX, help_text="Goods received note number"
    )
    received_on = _date("Received on")
    pledge = forms.TypedChoiceField(label="Fulfils pledge", required=False, coerce=int, empty_value=None)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, pledges: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grant"].queryset = access_grants(self.user).order_by("reference")  # type: ignore[attr-defined]
        self.fields["pledge"].choices = [("", "No pledge"), *pledges]  # type: ignore[attr-defined]

    def line_kwargs(self) -> dict[str, Any]:
        kwargs = super().line_kwargs()
        kwargs["packs"] = sorted(
            set(PackSize.objects.filter(item__in=kwargs["items"]).values_list("name", flat=True))
        )
        return kwargs


class DispatchForm(PostingForm):
    line_form = StockLineForm
    own_site = "from_site"
    from_site = SiteChoice(queryset=None, label="From")
    to_site = SiteChoice(queryset=None, label="To")
    dispatched_on = _date("Dispatched on")
    expected_on = _date("Expected on", required=False, help_text="The dispatch day when left empty")
    transport = forms.ChoiceField(choices=Transport.choices, initial=Transport.TRUCK)
    vehicle = forms.CharField(label="Vehicle or sortie", required=False, max_length=VEHICLE_MAX)
    driver = forms.CharField(label="Driver or pilot", required=False, max_length=DRIVER_MAX)
    number = forms.CharField(
        label="Waybill number",
        required=False,
        max_length=WAYBILL_NUMBER_MAX,
        help_text="Given automatically when left empty",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_site"].queryset = stock_site_choices(self.user)  # type: ignore[attr-defined]


class DeliveryForm(PostingForm):
    line_form = DeliveryLineForm
    extra_lines = 0
    send_unchanged_lines = True
    delivered_on = _date("Arrived on")
    excess_reason = forms.CharField(
        label="Why more arrived than was sent",
        required=False,
        max_length=EXCESS_REASON_MAX,
        help_text="Only when more arrived than the waybill lists: the excess enters the site as "
        "UNATTRIBUTED stock (donor unknown), from Count adjustment",
    )


class DistributionForm(PostingForm):
    line_form = StockLineForm
    right = Right.DISTRIBUTE
    site = SiteChoice(queryset=None, label="Distribution point")
    distributed_on = _date("Distributed on")
    reference = forms.CharField(label="Report number", required=False, max_length=REFERENCE_MAX)
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Where, to whom"
    )


class HandoverForm(PostingForm):
    line_form = StockLineForm
    right = Right.DISTRIBUTE
    site = SiteChoice(queryset=None, label="From site")
    organisation = OrganisationChoice(queryset=None, label="Partner organisation")
    handed_on = _date("Handed over on")
    reference = forms.CharField(label="Hand-over note number", required=False, max_length=REFERENCE_MAX)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = access_organisations(self.user).order_by("name")  # type: ignore[attr-defined]


class LossForm(PostingForm):
    line_form = StockLineForm
    site = SiteChoice(queryset=None, label="Site")
    # No reason is chosen for the user: a loss posted as theft by default would say what nobody said.
    # The ledger refuses none (as the note), with the loss's other problems, in the API's words.
    reason = forms.ChoiceField(
        choices=[("", "Choose the reason"), *((r, r.capitalize()) for r in LossReason.ALL)], required=False
    )
    occurred_on = _date("Happened on")
    # Required by the ledger, which says so in the same words as to the API and the command line.
    note = forms.CharField(label="What happened", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CountSiteForm(PlainRefusals, forms.Form):
    """The first step of a count: which site (its items then fill the count sheet)."""

    site = SiteChoice(queryset=None, label="Site counted")

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = stock_sites(user, Right.POST_STOCK)  # type: ignore[attr-defined]
        choose_the_only_site(self, "site")


class CountForm(PostingForm):
    line_form = CountLineForm
    extra_lines = 3
    site = forms.IntegerField(widget=forms.HiddenInput)
    counted_on = _date("Counted on")
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Who counted"
    )


class KittingForm(PostingForm):
    ASSEMBLE = "assemble"
    BREAK = "break"

    site = SiteChoice(queryset=None, label="Site")
    action = forms.ChoiceField(
        choices=[(ASSEMBLE, "Assemble kits from components"), (BREAK, "Break kits into components")],
        widget=forms.RadioSelect,
        initial=ASSEMBLE,
    )
    kit = ItemChoice(queryset=None, label="Kit")
    quantity = _quantity("Number of kits")
    grant = GrantChoice(
        queryset=None,
        required=False,
        empty_label="The components' grant",
        help_text="Needed when the components come from several grants",
    )
    on = _date("On")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kit"].queryset = (  # type: ignore[attr-defined]
            access_items(self.user).filter(kit__isnull=False).order_by("code")
        )
        self.fields["grant"].queryset = access_grants(self.user).order_by("reference")  # type: ignore[attr-defined]


class ReversalForm(PostingForm):
    reason = forms.CharField(label="Why reverse it", max_length=REVERSAL_REASON_MAX)
    reversed_on = _date("Reversed on")


class PledgeCancelForm(PlainRefusals, forms.Form):
    """Why a pledge is cancelled. The ledger checks the reason (it says what is missing or too long),
    as it does for the API and the command line; the page shows its answer beside the field."""

    reason = forms.CharField(
        label="Why is it cancelled",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REASON_MAX}),
        help_text="What the donor said will not come, and why. It is kept with the pledge.",
    )

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """Put the ledger's problems beside the field they name, the others at the top."""
        for problem in problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.reason)

    def error_summary(self) -> list[str]:
        return [
            f"{self[name].label}: {error}" if name in self.fields else str(error)
            for name, errors in self.errors.items()
            for error in errors
        ]
