"""The search and filter forms of the list pages. They parse the query string; selectors do the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from reliefops.catalog.models import ItemCategory
from reliefops.partners.models import OrganisationType
from reliefops.places.models import AdminLevel, SiteKind

ANY = [("", "Any")]
SHOWN = 40  # characters of a refused value quoted back (a link may carry a long one)


def shown_short(text: str) -> str:
    """A refused value as a refusal quotes it back: whole, or its first characters and "…"."""
    return text if len(text) <= SHOWN else f"{text[: SHOWN - 1]}…"


class SearchInput(forms.TextInput):
    input_type = "search"


class FilterForm(forms.Form):
    """A GET form whose valid fields become the selector's keyword arguments (bad ones are ignored)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        strip=True,
        widget=SearchInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def add_error(self, field: str | None, error: Any) -> None:
        # Django's "Select a valid choice. X is not one of the available choices." and "Ensure this
        # value has at most 100 characters" in the words of the rest of the application; a filter
        # that words its own refusal keeps it.
        if field in self.fields and isinstance(error, ValidationError) and not hasattr(error, "error_dict"):
            error = ValidationError([self._plain(field, each) for each in error.error_list])
        super().add_error(field, error)

    def _plain(self, name: str, error: ValidationError) -> ValidationError:
        params = error.params or {}
        if error.code == "invalid_choice" and str(error.message) == str(
            forms.ChoiceField.default_error_messages["invalid_choice"]
        ):
            value = shown_short(str(params.get("value", "")))
            return ValidationError(
                f"'{value}' is not one of its choices; pick one from the list", code=error.code
            )
        if error.code == "max_length":
            return ValidationError(
                f"longer than {params.get('limit_value')} characters; shorten it", code=error.code
            )
        return error

    def criteria(self) -> dict[str, Any]:
        """The selector's keyword arguments from the fields that are valid; invalid ones count as unset."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or "" for name in self.fields}

    @property
    def is_filtered(self) -> bool:
        return any(self.criteria().values())


class AdminAreaFilter(FilterForm):
    level = forms.ChoiceField(choices=ANY + AdminLevel.choices, required=False)
    parent = forms.ChoiceField(label="In", choices=ANY, required=False)

    def __init__(self, *args: Any, parent_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, P-code or other spelling"
        self.fields["parent"].choices = ANY + parent_choices  # type: ignore[attr-defined]


class SiteFilter(FilterForm):
    kind = forms.ChoiceField(choices=ANY + SiteKind.choices, required=False)
    area = forms.ChoiceField(label="In area", choices=ANY, required=False)

    def __init__(self, *args: Any, area_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name or code"
        self.fields["area"].choices = ANY + area_choices  # type: ignore[attr-defined]


class OrganisationFilter(FilterForm):
    type = forms.ChoiceField(choices=ANY + OrganisationType.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Name, acronym or other name"


class ItemFilter(FilterForm):
    category = forms.ChoiceField(choices=ANY + ItemCategory.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Code or name"


class KitFilter(FilterForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Code or name"
