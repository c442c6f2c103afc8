"""Households registered once and served in many rounds: registration, duplicates, rounds,
entitlements, cards and handovers.

Personal data (the head's and the father's or husband's names, the identity number, the phone,
who collected a package) lives only in `Household` and `Handover`; everything else refers to
households by id, so that anonymising a household leaves every count and the ledger intact.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from reliefops.households.identity import NUMBERED_ONCE, DocumentType, format_document

# Free texts limited by their columns: the API schemas, the forms and the services refuse longer ones.
OTHER_VULNERABILITY_MAX = 120  # another vulnerability, in a few words
CARD_REASON_MAX = 200  # why a card was replaced, kept on the voided card


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"


class HouseDamage(models.TextChoices):
    DESTROYED = "destroyed", "Destroyed"
    DAMAGED = "damaged", "Damaged"
    NONE = "none", "Not damaged"


class ElevationBand(models.TextChoices):
    UNKNOWN = "", "Not known"
    BELOW_5000 = "below_5000", "Below 5,000 ft"
    FROM_5000_TO_7000 = "5000_to_7000", "5,000 to 7,000 ft"
    ABOVE_7000 = "above_7000", "Above 7,000 ft"


# The bands at or above 5,000 ft, which the Winter Race served first.
ABOVE_5000_FT = (ElevationBand.FROM_5000_TO_7000, ElevationBand.ABOVE_7000)


class Vulnerability(models.TextChoices):
    FEMALE_HEADED = "female_headed", "Female-headed"
    ELDERLY_HEADED = "elderly_headed", "Elderly-headed"
    DISABLED_MEMBER = "disabled_member", "Disabled member"
    LANDLESS = "landless", "Landless"
    OTHER = "other", "Other"


class HouseholdStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MERGED = "merged", "Merged into another"


# Members by sex and age band, in the order forms and files list them.
MEMBER_FIELDS: tuple[tuple[str, str], ...] = (
    ("females_0_5", "Girls 0-5"),
    ("males_0_5", "Boys 0-5"),
    ("females_6_17", "Girls 6-17"),
    ("males_6_17", "Boys 6-17"),
    ("females_18_59", "Women 18-59"),
    ("males_18_59", "Men 18-59"),
    ("females_60_plus", "Women 60+"),
    ("males_60_plus", "Men 60+"),
)
MEMBER_NAMES = tuple(name for name, _ in MEMBER_FIELDS)
# A family's personal data: the fields anonymisation removes, whose values never go to the audit
# trail (only their names) and are never quoted in a file's problems.
PERSONAL_FIELDS = frozenset(
    {
        "head_name",
        "father_or_husband_name",
        "document_number",
        "phone",
        "origin_village",
        "other_vulnerability",
    }
)


def _members_sum() -> Any:
    total: Any = F(MEMBER_NAMES[0])
    for name in MEMBER_NAMES[1:]:
        total = total + F(name)
    return total


class Household(models.Model):
    """A household as registered: its head, identity document, members, origin and situation."""

    head_name = models.CharField("head's name", max_length=120)
    father_or_husband_name = models.CharField("father's or husband's name", max_length=120, blank=True)
    head_sex = models.CharField("head's sex", max_length=8, choices=Sex.choices)
    document_type = models.CharField(max_length=8, choices=DocumentType.choices, default=DocumentType.NONE)
    document_number = models.CharField(
        max_length=40, blank=True, help_text="normalised: a CNIC as 13 digits, an old NIC as 11"
    )
    phone = models.CharField(max_length=20, blank=True, help_text="international form, +923001234567")

    females_0_5 = models.PositiveSmallIntegerField(default=0)
    males_0_5 = models.PositiveSmallIntegerField(default=0)
    females_6_17 = models.PositiveSmallIntegerField(default=0)
    males_6_17 = models.PositiveSmallIntegerField(default=0)
    females_18_59 = models.PositiveSmallIntegerField(default=0)
    males_18_59 = models.PositiveSmallIntegerField(default=0)
    females_60_plus = models.PositiveSmallIntegerField(default=0)
    males_60_plus = models.PositiveSmallIntegerField(default=0)
    size = models.PositiveSmallIntegerField(help_text="members in all; the sum of the bands")

    elderly_headed = models.BooleanField(default=False)
    disabled_member = models.BooleanField(default=False)
    landless = models.BooleanField(default=False)
    other_vulnerability = models.CharField(max_length=OTHER_VULNERABILITY_MAX, blank=True)

    origin_area = models.ForeignKey(
        "places.AdminArea",
        on_delete=models.PROTECT,
        related_name="households_from",
        help_text="the lowest admin area of origin known",
    )
    origin_district = models.ForeignKey(
        "places.AdminArea",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the district (or the lowest area above a tehsil) of origin: where duplicates are sought",
    )
    origin_village = models.CharField(max_length=120, blank=True)
    current_site = models.ForeignKey(
        "places.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
        help_text="the camp where the household lives now; empty when it is at home",
    )
    house_damage = models.CharField(max_length=12, choices=HouseDamage.choices)
    elevation_band = models.CharField(max_length=16, choices=ElevationBand.choices, blank=True, default="")
    consent_given_on = models.DateField(help_text="the day the head agreed to the use of the data")

    status = models.CharField(max_length=8, choices=HouseholdStatus.choices, default=HouseholdStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_households"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    registered_on = models.DateField()
    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    anonymised_at = models.DateTimeField(null=True, blank=True)
    import_batch = models.ForeignKey(
        "households.HouseholdImport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "origin_district"], name="household_status_district"),
            models.Index(fields=["document_number"], name="household_document"),
            models.Index(fields=["registered_on"], name="household_registered_on"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number"],
                condition=Q(status=HouseholdStatus.ACTIVE)
                & Q(document_type__in=sorted(t.value for t in NUMBERED_ONCE))  # sorted: a stable migration
                & ~Q(document_number=""),
                name="household_document_once_among_active",
                violation_error_message="another active household holds this identity document",
            ),
            models.CheckConstraint(
                condition=Q(status__in=HouseholdStatus.values), name="household_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status=HouseholdStatus.MERGED, merged_into__isnull=False)
                | Q(status=HouseholdStatus.ACTIVE, merged_into__isnull=True),
                name="household_merged_has_survivor",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="household_not_merged_into_itself"
            ),
            models.CheckConstraint(condition=Q(head_sex__in=Sex.values), name="household_sex_known"),
            models.CheckConstraint(
                condition=Q(document_type__in=DocumentType.values), name="household_document_type_known"
            ),
            models.CheckConstraint(
                condition=Q(document_type=DocumentType.NONE, document_number="")
                | ~Q(document_type=DocumentType.NONE)
                & (~Q(document_number="") | Q(anonymised_at__isnull=False)),
                name="household_document_number_matches_type",
            ),
            models.CheckConstraint(
                condition=Q(house_damage__in=HouseDamage.values), name="household_damage_known"
            ),
            models.CheckConstraint(
                condition=Q(elevation_band__in=ElevationBand.values), name="household_elevation_band_known"
            ),
            models.CheckConstraint(
                condition=Q(size=_members_sum()) & Q(size__gte=1), name="household_size_is_members"
            ),
        ]

    def __str__(self) -> str:
        return f"household {self.pk}"

    @property
    def document_display(self) -> str:
        """The identity number as written on the card (`12345-1234567-1`)."""
        return format_document(self.document_type, self.document_number)

    @property
    def female_headed(self) -> bool:
        return self.head_sex == Sex.FEMALE

    @property
    def members(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in MEMBER_NAMES)

    @property
    def vulnerabilities(self) -> list[str]:
        """The vulnerability labels that apply, female-headed first."""
        labels = [label for flag, label in self.vulnerability_flags() if flag]
        if self.other_vulnerability:
            labels.append(self.other_vulnerability)
        return labels

    def vulnerability_flags(self) -> list[tuple[bool, str]]:
        return [
            (self.female_headed, Vulnerability.FEMALE_HEADED.label),
            (self.elderly_headed, Vulnerability.ELDERLY_HEADED.label),
            (self.disabled_member, Vulnerability.DISABLED_MEMBER.label),
            (self.landless, Vulnerability.LANDLESS.label),
        ]


class HouseholdCorrection(models.Model):
    """A change to a registration after it was saved: who made it, when, why and which fields.

    The old values of personal fields are kept nowhere: neither here nor in the audit trail.
    """

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="corrections")
    corrected_at = models.DateTimeField(auto_now_add=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)
    fields = models.JSONField(default=list, help_text="the names of the fields changed")
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-corrected_at", "-id"]

    def __str__(self) -> str:
        return f"correction {self.pk} of household {self.household_id}"


class MatchKey(models.Model):
    """A blocking key of an active household (households.matching): the registration-time check
    looks a new household's keys up here instead of reading the whole registry."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="match_keys")
    key = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key"], name="matchkey_key")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.key}"


# --- duplicates -----------------------------------------------------------------------------------


class PairStatus(models.TextChoices):
    PENDING = "pending", "To review"
    SAME = "same", "Same household (merged)"
    DIFFERENT = "different", "Different households"
    # Nobody can decide a pair once a household of it is anonymised: its names and documents are
    # gone. It is closed, not decided "different" (which would say something of the two families).
    CLOSED = "closed", "Closed: household anonymised"


class DuplicateRun(models.Model):
    """One batch run of duplicate detection over the whole registry."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=64)
    threshold = models.PositiveSmallIntegerField()
    households = models.PositiveIntegerField(default=0)
    compared = models.BigIntegerField(default=0, help_text="pairs scored")
    found = models.PositiveIntegerField(default=0, help_text="likely pairs found, decided ones left out")
    queued = models.PositiveIntegerField(default=0, help_text="pairs new to the review queue")
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"duplicate run {self.pk}"


class DuplicatePair(models.Model):
    """Two households that may be one; a person decides (merge, or different — remembered)."""

    first = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(help_text="0-100; 50 is even odds")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=PairStatus.choices, default=PairStatus.PENDING)
    found_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey(
        DuplicateRun, null=True, blank=True, on_delete=models.PROTECT, related_name="pairs"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    survivor = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["status", "score"], name="pair_status_score")]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="pair_once"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="pair_first_is_lower"),
            models.CheckConstraint(condition=Q(status__in=PairStatus.values), name="pair_status_known"),
            models.CheckConstraint(
                condition=~Q(status=PairStatus.SAME) | Q(survivor__isnull=False),
                name="pair_merge_has_survivor",
            ),
        ]

    def __str__(self) -> str:
        return f"households {self.first_id} and {self.second_id} ({self.score})"


# --- distribution rounds --------------------------------------------------------------------------


class RoundStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    OPEN = "open", "Open: handing over"
    CLOSED = "closed", "Closed"


class Living(models.TextChoices):
    ANY = "any", "At home or in a camp"
    HOME = "home", "At home"
    CAMP = "camp", "In a camp"


def _labels(choices: type[models.TextChoices], values: list[str]) -> list[str]:
    """The labels of stored choice values, in their order (a value no longer known as it is)."""
    known = dict(choices.choices)
    return [str(known.get(value, value)) for value in values]


class DistributionRound(models.Model):
    """One planned distribution of a package to eligible households, at named distribution points."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=160)
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=8, choices=RoundStatus.choices, default=RoundStatus.PLANNED)
    # Who is eligible: every condition given must hold (an empty one holds for everybody).
    areas = models.ManyToManyField("places.AdminArea", blank=True, related_name="+")
    sites = models.ManyToManyField("places.Site", blank=True, related_name="+")
    living = models.CharField(max_length=8, choices=Living.choices, default=Living.ANY)
    elevation_bands = models.JSONField(default=list, blank=True)
    vulnerabilities = models.JSONField(default=list, blank=True, help_text="any one of them")
    house_damage = models.JSONField(default=list, blank=True)
    not_served_in = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    listed_at = models.DateTimeField(null=True, blank=True, help_text="when the distribution list was made")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="when the round was closed")
    note = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-starts_on", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="round_ends_after_start"),
            models.CheckConstraint(condition=Q(status__in=RoundStatus.values), name="round_status_known"),
            models.CheckConstraint(condition=Q(living__in=Living.values), name="round_living_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    # The conditions as people read them ("Above 7,000 ft"), not as they are stored ("above_7000").
    @property
    def elevation_labels(self) -> list[str]:
        return _labels(ElevationBand, self.elevation_bands)

    @property
    def house_damage_labels(self) -> list[str]:
        return _labels(HouseDamage, self.house_damage)

    @property
    def vulnerability_labels(self) -> list[str]:
        return _labels(Vulnerability, self.vulnerabilities)


class RoundPoint(models.Model):
    """A distribution point of a round and the area whose households it serves."""

    round = models.ForeignKey(DistributionRound, on_delete=models.CASCADE, related_name="points")
    site = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="+")
    serves_area = models.ForeignKey("places.AdminArea", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["site__name", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "site"], name="round_point_once")]

    def __str__(self) -> str:
        return f"{self.round_id}@{self.site_id}"


class PackageLine(models.Model):
    """What a household receives of one item: per household plus per member, at most a cap."""

    round = models.ForeignKey(DistributionRound, on_delete=models.CASCADE, related_name="package")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+")
    per_household = models.PositiveIntegerField(default=0)
    per_member = models.PositiveIntegerField(default=0)
    at_most = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["item__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "item"], name="package_item_once"),
            models.CheckConstraint(
                condition=Q(per_household__gt=0) | Q(per_member__gt=0), name="package_line_gives_something"
            ),
            models.CheckConstraint(
                condition=Q(at_most__isnull=True) | Q(at_most__gt=0), name="package_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.per_household} + {self.per_member}/member"

    def quantity_for(self, members: int) -> int:
        quantity = self.per_household + self.per_member * members
        return min(quantity, self.at_most) if self.at_most is not None else quantity


class Entitlement(models.Model):
    """A household on a round's distribution list, at the point that serves it."""

    round = models.ForeignKey(DistributionRound, on_delete=models.PROTECT, related_name="entitlements")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="entitlements")
    point = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="+")
    members = models.PositiveSmallIntegerField(help_text="members when listed: per-member items count these")
    listed_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["round", "id"]
        indexes = [models.Index(fields=["round", "point"], name="entitlement_round_point")]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=Q(cancelled_at__isnull=True),
                name="entitlement_once_per_round",
            )
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} household {self.household_id}"


class HouseholdCard(models.Model):
    """A household's card: its token is printed as text and as a QR code. A reissue voids the old."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="cards")
    token = models.CharField(max_length=16, unique=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=CARD_REASON_MAX, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(voided_at__isnull=True), name="card_one_valid_per_household"
            )
        ]

    def __str__(self) -> str:
        return f"card {self.pk}"


class Handover(models.Model):
    """A household's receipt of a round's package: once per household per round.

    Each time goods are handed over (the first time, and again to make up a shortfall) is a
    `HandoverDelivery` with its own ledger movement. A merge re-points the handover to the
    surviving household; when that household had already been served in the round, the later
    handover is a double receipt, kept and listed for follow-up.
    """

    round = models.ForeignKey(DistributionRound, on_delete=models.PROTECT, related_name="handovers")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="handovers")
    received_by_household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the household that received it, as registered then (before any merge)",
    )
    point = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(HouseholdCard, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_complete = models.BooleanField(default=False)
    double_receipt = models.BooleanField(default=False)
    double_receipt_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=Q(double_receipt=False),
                name="handover_once_per_household_and_round",
            )
        ]

    def __str__(self) -> str:
        return f"handover {self.pk}"


class HandoverDelivery(models.Model):
    """Goods handed over at one moment: one ledger movement, point -> beneficiaries."""

    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="deliveries")
    movement = models.OneToOneField(
        "stock.Movement", on_delete=models.PROTECT, related_name="household_delivery"
    )
    delivered_on = models.DateField()
    collected_by = models.CharField(max_length=120, help_text="who collected: the head, or a named relative")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["handover", "id"]

    def __str__(self) -> str:
        return f"delivery {self.pk}"


class HandoverLine(models.Model):
    """What one delivery gave of one item, as the handover records it; its movement's lines in the
    ledger must say the same (the round's reconciliation compares the two)."""

    delivery = models.ForeignKey(HandoverDelivery, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "item"], name="handover_line_item_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="handover_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of item {self.item_id}"


# --- imports --------------------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Checked, not yet imported"
    REFUSED = "refused", "Refused: problems in the file"
    COMMITTED = "committed", "Imported"


class HouseholdImport(models.Model):
    """An uploaded registration file: checked and previewed first, imported all or nothing later.

    The file is kept only until it is imported (or refused): its content is then cleared. Its digest
    is kept: a file with the same content as one imported before is not imported again.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField(default=b"")
    digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_index=True,
        help_text="SHA-256 of the file's content: the same file is imported once",
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    problems = models.JSONField(
        default=list, blank=True, help_text="the first 1,000 problems by line, then how many more"
    )
    problem_count = models.PositiveIntegerField(default=0, help_text="every problem of the file")
    duplicates = models.JSONField(default=list, blank=True, help_text="likely duplicates, by line")
    committed_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_status_known")
        ]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.filename})"
