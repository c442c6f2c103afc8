"""Template filters of the household pages."""

from __future__ import annotations

from django import template

from reliefops.households.cards import printed

register = template.Library()


@register.filter
def card_token(token: str | None) -> str:
    """A card token as it is printed on the card (`K7M2-9QXD-A3`); empty when there is none."""
    return printed(token) if token else ""
