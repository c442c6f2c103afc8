"""Organisations of the response (agencies, donors, government, military) and donors' grants."""

from __future__ import annotations

from django.db import models


class OrganisationType(models.TextChoices):
    UN = "un", "UN agency"
    INGO = "ingo", "International NGO"
    NNGO = "nngo", "National NGO"
    GOVERNMENT = "government", "Government"
    MILITARY = "military", "Military"
    RCRC = "rcrc", "Red Cross / Red Crescent"
    DONOR = "donor", "Donor"
    PRIVATE = "private", "Private sector"


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    acronym = models.CharField(max_length=32, blank=True, db_index=True)
    type = models.CharField(max_length=16, choices=OrganisationType.choices)
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=OrganisationType.values), name="organisation_type_known"
            ),
        ]

    def __str__(self) -> str:
        return self.acronym or self.name


class Grant(models.Model):
    """A donor's contribution; stock carries the grant it was bought with (donor attribution)."""

    donor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="grants")
    reference = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    amount_minor = models.BigIntegerField("amount (minor units)", default=0)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gte=0), name="grant_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(start__isnull=True)
                | models.Q(end__isnull=True)
                | models.Q(end__gte=models.F("start")),
                name="grant_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.reference
