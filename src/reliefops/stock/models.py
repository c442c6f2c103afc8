"""The stock ledger: locations, movements with lines, balances, waybills and pledges.

Every change of quantity is a movement of items from one location to another. Balances per
(location, item, grant) are kept in the same transaction as the movement that changes them, and
for every (item, grant) the balances over all locations sum to zero.
"""

from __future__ import annotations

import itertools
import re

from django.conf import settings
from django.db import models

# The most units one line may move and one balance may hold (a virtual location's, either way): far
# beyond any real consignment or warehouse, and low enough that the sums of a million balances, or
# of a million lines, stay inside the 64-bit columns and sums of the database.
QUANTITY_MAX = 10**12

# Texts of the documents: a movement's reference (GRN, waybill or report number) and a line's lot; a
# waybill's number, vehicle and driver. The services, forms and API schemas take their limits from here.
REFERENCE_MAX = 64
# A GRN's key, its number as compared (see `grn_key`): upper case may spell a letter in more letters.
GRN_KEY_MAX = 3 * REFERENCE_MAX
LOT_MAX = 64
WAYBILL_NUMBER_MAX = 32
# A waybill's key, its number as compared (see `waybill_key`).
WAYBILL_KEY_MAX = 3 * WAYBILL_NUMBER_MAX
VEHICLE_MAX = 64
DRIVER_MAX = 120

# A movement line's reason: what the ledger records of why items were lost, damaged or reversed.
REASON_MAX = 200
EXCESS_PREFIX = "excess on arrival: "  # the reason of an excess accepted on delivery, then the user's
REVERSAL_PREFIX = "reversal: "  # the reason of a reversal's lines, then the user's
EXCESS_REASON_MAX = REASON_MAX - len(EXCESS_PREFIX)
REVERSAL_REASON_MAX = REASON_MAX - len(REVERSAL_PREFIX)


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", "Warehouse"
    HUB = "hub", "Hub"
    DISTRIBUTION_POINT = "distribution_point", "Distribution point"
    DONOR = "donor", "Donor / supplier pipeline"
    IN_TRANSIT = "in_transit", "In transit"
    BENEFICIARIES = "beneficiaries", "Beneficiaries"
    PARTNER = "partner", "Partner organisation"
    LOSS = "loss", "Loss / damage"
    COUNT_ADJUSTMENT = "count_adjustment", "Count adjustment"
    ASSEMBLY = "assembly", "Assembly (kitting)"


PHYSICAL_KINDS = frozenset({LocationKind.WAREHOUSE, LocationKind.HUB, LocationKind.DISTRIBUTION_POINT})
SINGLETON_KINDS = frozenset(
    {LocationKind.BENEFICIARIES, LocationKind.LOSS, LocationKind.COUNT_ADJUSTMENT, LocationKind.ASSEMBLY}
)


class StockLocation(models.Model):
    """Where stock can be: a physical site, or a virtual place that keeps the ledger balanced."""

    kind = models.CharField(max_length=24, choices=LocationKind.choices)
    name = models.CharField(max_length=160)
    is_physical = models.BooleanField()
    site = models.OneToOneField(
        "places.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="stock_location"
    )
    grant = models.OneToOneField(
        "partners.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="pipeline_location"
    )
    organisation = models.OneToOneField(
        "partners.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partner_location",
    )
    waybill = models.OneToOneField(
        "stock.Waybill", null=True, blank=True, on_delete=models.PROTECT, related_name="transit_location"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=LocationKind.values), name="location_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    is_physical=True, kind__in=sorted(k.value for k in PHYSICAL_KINDS), site__isnull=False
                )
                | models.Q(is_physical=False) & ~models.Q(kind__in=sorted(k.value for k in PHYSICAL_KINDS)),
                name="location_physical_iff_site_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=LocationKind.DONOR) | models.Q(grant__isnull=False),
                name="location_donor_has_grant",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=LocationKind.PARTNER) | models.Q(organisation__isnull=False),
                name="location_partner_has_organisation",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=LocationKind.IN_TRANSIT) | models.Q(waybill__isnull=False),
                name="location_transit_has_waybill",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind__in=sorted(k.value for k in SINGLETON_KINDS)),
                name="location_singletons_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    DISPATCH = "dispatch", "Dispatch"
    DELIVERY = "delivery", "Delivery confirmation"
    DISTRIBUTION = "distribution", "Distribution"
    HANDOVER = "handover", "Hand-over to partner"
    LOSS = "loss", "Loss / damage"
    COUNT = "count", "Physical count"
    KITTING = "kitting", "Kitting"
    REVERSAL = "reversal", "Reversal"


class Movement(models.Model):
    """A posted document (receipt, dispatch, ...). Immutable once posted: correct with a reversal."""

    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    reference = models.CharField(
        max_length=REFERENCE_MAX, blank=True, help_text="GRN, waybill or report number"
    )
    occurred_on = models.DateField(help_text="the day it happened in the field")
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        "places.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    waybill = models.ForeignKey(
        "stock.Waybill", null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    note = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # A receipt's pledge: reversing the receipt takes its quantity back off the pledge.
    pledge = models.ForeignKey(
        "stock.Pledge", null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    # A receipt's GRN as compared (`grn_key`: GRN-ISB-9010, grn isb 9010 and GRN/ISB/9010 are one
    # number), unique: the database refuses one GRN on two receipts. Null for other movements, and for
    # a receipt posted before GRNs were compared so whose number another, earlier receipt already had
    # (migrations stock.0007 and 0011 list them; docs/operations.md).
    grn_key = models.CharField(  # noqa: DJ001 - null is no key, outside the unique index
        max_length=GRN_KEY_MAX, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "occurred_on"]), models.Index(fields=["site", "occurred_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=MovementKind.values), name="movement_kind_known"
            ),
            models.UniqueConstraint(
                fields=["grn_key"], condition=models.Q(grn_key__isnull=False), name="movement_grn_key_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=MovementKind.REVERSAL, reverses__isnull=False)
                | ~models.Q(kind=MovementKind.REVERSAL) & models.Q(reverses__isnull=True),
                name="movement_reversal_names_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.reference}".strip()


def grn_number(text: str) -> str:
    """A GRN as the ledger keeps it: as typed, without spaces around it or runs of them inside."""
    return " ".join(text.split())


# A document number's groups: its runs of letters and its runs of digits.
_NUMBER_GROUPS = re.compile(r"[^\W\d_]+|\d+")


def document_number_key(text: str) -> str:
    """A document's number (a GRN, a waybill's) as compared: its letters and digits in upper case,
    whatever the spaces and punctuation between them. WB2005/0012, wb 2005/0012, WB-2005-0012 and
    " WB 2005 / 0012 " are one number; 12/3 is not 1/23, as a space or a mark between two runs of
    digits (or of letters) keeps them apart. A number of no letter or digit has the key ""."""
    groups = _NUMBER_GROUPS.findall(text.upper())
    key = groups[:1]
    for before, group in itertools.pairwise(groups):
        # Two runs of one kind were kept apart by what was typed between them: so is the key's.
        key.append(f" {group}" if before[-1].isdigit() == group[0].isdigit() else group)
    return "".join(key)


def grn_key(text: str) -> str:
    """A GRN as compared (`document_number_key`): GRN-ISB-9010, grn isb 9010 and GRN/ISB/9010 are one
    number. A GRN of no letter or digit has the key "" (refused to a new receipt)."""
    return document_number_key(text)


class MovementLine(models.Model):
    """A quantity of one item, of one grant, moved from one location to another."""

    movement = models.ForeignKey(Movement, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey("partners.Grant", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    from_location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="+")
    lot = models.CharField(max_length=LOT_MAX, blank=True)
    expiry = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=REASON_MAX, blank=True)

    class Meta:
        # Each side's index carries the grant and quantity as well: `stock verify` then sums the lines
        # of each balance by walking an index in order, without sorting the ledger (SQLite has no hash
        # aggregate), and the lookups by item and location use the same indexes' first columns.
        indexes = [
            models.Index(fields=["item", "from_location", "grant", "quantity"], name="line_item_from_grant"),
            models.Index(fields=["item", "to_location", "grant", "quantity"], name="line_item_to_grant"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=~models.Q(from_location=models.F("to_location")), name="line_from_differs_from_to"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.item_id} {self.from_location_id}->{self.to_location_id}"


class Balance(models.Model):
    """What one location holds of one item of one grant, kept in step with the ledger."""

    location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="balances")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey("partners.Grant", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(default=0)
    # Copied from the location so that a CHECK can guard physical stock without a join.
    is_physical = models.BooleanField()
    # When stock of this grant last arrived at an empty balance: first-in-first-out takes the oldest.
    fifo_date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "item", "grant"], name="balance_unique_key"),
            models.CheckConstraint(
                condition=models.Q(is_physical=False) | models.Q(quantity__gte=0),
                name="balance_physical_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["item", "grant"], name="balance_item_grant")]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.item_id}/{self.grant_id}: {self.quantity}"


class Transport(models.TextChoices):
    TRUCK = "truck", "Truck"
    HELICOPTER = "helicopter", "Helicopter sortie"
    JEEP = "jeep", "Jeep / 4x4"
    MULE = "mule", "Mule or porters"
    OTHER = "other", "Other"


class WaybillStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled (dispatch reversed)"


class Waybill(models.Model):
    """The document travelling with a consignment from one site to another."""

    number = models.CharField(max_length=WAYBILL_NUMBER_MAX, unique=True)
    # The number as compared (`waybill_key`: BLK/2005/0412, blk 2005-0412 and " BLK/2005/0412 " are
    # one paper waybill), unique: the database refuses one number on two waybills. Null for a waybill
    # dispatched before numbers were compared so whose number another, earlier waybill already had
    # (migrations 0009 and 0010), which keeps the number it was given.
    number_key = models.CharField(  # noqa: DJ001 - null is no key, outside the unique index
        max_length=WAYBILL_KEY_MAX, null=True, blank=True, editable=False
    )
    from_site = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="waybills_out")
    to_site = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="waybills_in")
    transport = models.CharField(max_length=16, choices=Transport.choices, default=Transport.TRUCK)
    vehicle = models.CharField(max_length=VEHICLE_MAX, blank=True, help_text="registration or sortie number")
    driver = models.CharField(max_length=DRIVER_MAX, blank=True)
    dispatched_on = models.DateField()
    expected_on = models.DateField()
    delivered_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=WaybillStatus.choices, default=WaybillStatus.IN_TRANSIT)

    class Meta:
        ordering = ["-dispatched_on", "-id"]
        indexes = [models.Index(fields=["status", "expected_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_site=models.F("to_site")), name="waybill_sites_differ"
            ),
            models.CheckConstraint(
                condition=models.Q(expected_on__gte=models.F("dispatched_on")),
                name="waybill_expected_after_dispatch",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=WaybillStatus.values), name="waybill_status_known"
            ),
            models.UniqueConstraint(
                fields=["number_key"],
                condition=models.Q(number_key__isnull=False),
                name="waybill_number_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number


def waybill_number(text: str) -> str:
    """A waybill number as the ledger keeps it: as typed, without spaces around it or runs of them
    inside."""
    return " ".join(text.split())


def waybill_key(text: str) -> str:
    """A waybill number as compared (`document_number_key`): WB2005/0012, wb 2005/0012, WB-2005-0012
    and " WB 2005 / 0012 " are one number. A number of no letter or digit has the key "" (refused to
    a new waybill)."""
    return document_number_key(text)


class PledgeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RECEIVED = "received", "Received in full"
    CANCELLED = "cancelled", "Cancelled"


class Pledge(models.Model):
    """Stock a donor promised, with an expected arrival date: pipeline, not stock."""

    grant = models.ForeignKey("partners.Grant", on_delete=models.PROTECT, related_name="pledges")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    received_quantity = models.BigIntegerField(default=0)
    destination = models.ForeignKey("places.Site", on_delete=models.PROTECT, related_name="pledges")
    expected_on = models.DateField()
    status = models.CharField(max_length=16, choices=PledgeStatus.choices, default=PledgeStatus.OPEN)
    reference = models.CharField(max_length=REFERENCE_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Why and when a pledge was cancelled: what the donor said will not come.
    cancel_reason = models.CharField(max_length=REASON_MAX, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expected_on", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="pledge_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(received_quantity__gte=0), name="pledge_received_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status=PledgeStatus.CANCELLED, cancelled_at__isnull=False)
                | ~models.Q(status=PledgeStatus.CANCELLED) & models.Q(cancelled_at__isnull=True),
                name="pledge_cancelled_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.item} ({self.grant})"

    @property
    def still_to_come(self) -> int:
        """How many of the pledge were not received (0 when all or more were)."""
        return max(self.quantity - self.received_quantity, 0)

    @property
    def more_than_pledged(self) -> int:
        """How many arrived beyond what was pledged (0 when no more than that)."""
        return max(self.received_quantity - self.quantity, 0)
