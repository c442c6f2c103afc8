"""The gazetteer (admin areas with P-codes) and the operation's sites."""

from __future__ import annotations

from django.db import models


class AdminLevel(models.TextChoices):
    COUNTRY = "country", "Country"
    PROVINCE = "province", "Province (adm1)"
    DISTRICT = "district", "District (adm2)"
    TEHSIL = "tehsil", "Tehsil (adm3)"
    UNION_COUNCIL = "union_council", "Union council"
    VILLAGE = "village", "Village"


LEVEL_DEPTH = {level: depth for depth, level in enumerate(AdminLevel.values)}


class AdminArea(models.Model):
    """An administrative area identified by its P-code (COD-AB), with its parent."""

    pcode = models.CharField("P-code", max_length=32, unique=True)
    name = models.CharField(max_length=120, db_index=True)
    level = models.CharField(max_length=16, choices=AdminLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    cod_version = models.CharField("COD version", max_length=64, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    elevation_m = models.IntegerField("elevation (m)", null=True, blank=True)
    alt_names = models.JSONField("alternate names", default=list, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["pcode"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True) | models.Q(lat__gte=-90, lat__lte=90),
                name="adminarea_lat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(lon__isnull=True) | models.Q(lon__gte=-180, lon__lte=180),
                name="adminarea_lon_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.pcode})"


class SiteKind(models.TextChoices):
    WAREHOUSE = "warehouse", "Warehouse"
    HUB = "hub", "Hub"
    DISTRIBUTION_POINT = "distribution_point", "Distribution point"
    CAMP = "camp", "Camp"
    OFFICE = "office", "Office"
    POST_OFFICE = "post_office", "Post office"


class Site(models.Model):
    """A place where the operation works: a warehouse, hub, distribution point, camp or office."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=24, choices=SiteKind.choices)
    admin_area = models.ForeignKey(AdminArea, on_delete=models.PROTECT, related_name="sites")
    parent_hub = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="served_sites",
        help_text="the hub that supplies this distribution point or camp",
    )
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    elevation_m = models.IntegerField("elevation (m)", null=True, blank=True)
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True) | models.Q(lat__gte=-90, lat__lte=90),
                name="site_lat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(lon__isnull=True) | models.Q(lon__gte=-180, lon__lte=180),
                name="site_lon_range",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=SiteKind.values), name="site_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"

    @property
    def holds_stock(self) -> bool:
        return self.kind in {SiteKind.WAREHOUSE, SiteKind.HUB, SiteKind.DISTRIBUTION_POINT}
