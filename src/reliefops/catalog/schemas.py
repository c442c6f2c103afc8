"""API schemas of the relief items catalogue and its kits."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, FilterLookup, FilterSchema, Schema

from reliefops.catalog.models import Item, ItemCategory, Kit, KitComponent


class PackSizeOut(Schema):
    name: str = Field(description="Name of the pack, e.g. `bale`.")
    quantity: int = Field(description="Base units in one pack, e.g. 10 blankets in a bale.")


class ItemOut(Schema):
    code: str = Field(description="Code of the item, unique, e.g. `BLANKET`.")
    name: str = Field(description="Name of the item.")
    base_unit: str = Field(description="The unit quantities of this item are counted in, e.g. `piece`.")
    category: ItemCategory = Field(description="Shelter, non-food item, winterization, WASH, tools, kit.")
    weight_kg: float | None = Field(description="Weight of one base unit in kilograms.")
    volume_m3: float | None = Field(description="Volume of one base unit in cubic metres.")
    is_active: bool = Field(description="False once the item is no longer distributed.")
    is_kit: bool = Field(description="True when the item is a kit assembled from components.")
    pack_sizes: list[PackSizeOut] = Field(description="Packs the item arrives in, by name.")

    @staticmethod
    def resolve_is_kit(obj: Item) -> bool:
        return obj.is_kit

    @staticmethod
    def resolve_pack_sizes(obj: Item) -> list[PackSizeOut]:
        # Sorted in Python so that the prefetched rows are used as they are.
        return [
            PackSizeOut(name=p.name, quantity=p.quantity)
            for p in sorted(obj.pack_sizes.all(), key=lambda p: p.name)
        ]


class ItemDetailOut(ItemOut):
    description: str = Field(description="Specification of the item.")


class ItemFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["code__icontains", "name__icontains"])] = Field(
        None, description="Text found in the code or name (any case)."
    )
    category: Annotated[ItemCategory | None, FilterLookup("category")] = Field(
        None, description="Only items of this category."
    )


class KitComponentOut(Schema):
    item_code: str = Field(description="Code of the component item.")
    item_name: str = Field(description="Name of the component item.")
    base_unit: str = Field(description="Unit of the quantity.")
    quantity: int = Field(description="How many base units of the item go into one kit.")

    @staticmethod
    def resolve_item_code(obj: KitComponent) -> str:
        return obj.item.code

    @staticmethod
    def resolve_item_name(obj: KitComponent) -> str:
        return obj.item.name

    @staticmethod
    def resolve_base_unit(obj: KitComponent) -> str:
        return obj.item.base_unit


class KitOut(Schema):
    code: str = Field(description="Code of the kit's item, e.g. `KIT-WINTER`.")
    name: str = Field(description="Name of the kit.")
    source: str = Field(description="Where the kit's definition comes from.")
    components: list[KitComponentOut] = Field(description="What one kit is made of, by item code.")

    @staticmethod
    def resolve_code(obj: Kit) -> str:
        return obj.item.code

    @staticmethod
    def resolve_name(obj: Kit) -> str:
        return obj.item.name

    @staticmethod
    def resolve_components(obj: Kit) -> list[KitComponent]:
        # Sorted in Python so that the prefetched rows are used as they are.
        return sorted(obj.components.all(), key=lambda c: c.item.code)


class KitFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["item__code__icontains", "item__name__icontains"])] = Field(
        None, description="Text found in the kit's code or name (any case)."
    )
