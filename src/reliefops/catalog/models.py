"""Relief items, their pack sizes, and kits (bills of materials)."""

from __future__ import annotations

from django.db import models


class ItemCategory(models.TextChoices):
    SHELTER = "shelter", "Shelter"
    NFI = "nfi", "Non-food item"
    WINTERIZATION = "winterization", "Winterization"
    WASH = "wash", "Water, sanitation, hygiene"
    TOOLS = "tools", "Tools and fixings"
    KIT = "kit", "Kit"


class Item(models.Model):
    """A relief item, counted in whole base units (a blanket, a CGI sheet, a kit)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    base_unit = models.CharField(max_length=24, default="piece")
    category = models.CharField(max_length=16, choices=ItemCategory.choices)
    weight_kg = models.DecimalField(
        "weight (kg) per unit", max_digits=9, decimal_places=3, null=True, blank=True
    )
    volume_m3 = models.DecimalField(
        "volume (m³) per unit", max_digits=9, decimal_places=4, null=True, blank=True
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight_kg__isnull=True) | models.Q(weight_kg__gte=0),
                name="item_weight_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_m3__isnull=True) | models.Q(volume_m3__gte=0),
                name="item_volume_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_kit(self) -> bool:
        return hasattr(self, "kit")


class PackSize(models.Model):
    """A pack an item arrives in, such as a bale of 10 blankets."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="pack_sizes")
    name = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField(help_text="base units in one pack")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="packsize_unique_per_item"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="packsize_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.quantity} {self.item.base_unit}"


class Kit(models.Model):
    """An item assembled from components; it is stocked and moved like any item."""

    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="kit")
    source = models.TextField(blank=True, help_text="where the kit's definition comes from")

    def __str__(self) -> str:
        return self.item.name


class KitComponent(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="components")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kit", "item"], name="kitcomponent_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="kitcomponent_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item}"
