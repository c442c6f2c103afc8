"""Where a household comes from and where it is served: the gazetteer seen from a household.

`AreaTree` loads the gazetteer once (a few thousand areas at most) so that a file of thousands of
households resolves every origin, its district and the distribution point that serves it without
a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from reliefops.households.cells import value_holds
from reliefops.places.lookup import PlaceIndex
from reliefops.places.models import AdminArea, AdminLevel

# An origin name matched at this score or better is taken without asking (places.lookup tiers:
# 0.9 is "the same after transliteration variants are folded").
SURE_MATCH = 0.9
_ABOVE_DISTRICT = {AdminLevel.COUNTRY, AdminLevel.PROVINCE}


@dataclass(frozen=True)
class Origin:
    area_id: int
    pcode: str
    district_id: int
    district_pcode: str
    tehsil_pcode: str = ""  # the tehsil it lies in; empty for a district or above


class AreaTree:
    """The admin areas by id and P-code, with their parents, loaded in one query."""

    def __init__(self, areas: list[AdminArea]) -> None:
        self.by_id = {area.pk: area for area in areas}
        self.by_pcode = {area.pcode.upper(): area for area in areas}
        self._index: PlaceIndex | None = None
        self._areas = areas

    @classmethod
    def load(cls) -> AreaTree:
        return cls(list(AdminArea.objects.all()))

    def ancestors_or_self(self, area_id: int) -> list[int]:
        """The area and every area above it, nearest first."""
        chain: list[int] = []
        current: int | None = area_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.by_id[current].parent_id if current in self.by_id else None
        return chain

    def district_of(self, area_id: int) -> AdminArea:
        """The district an area lies in; an area above district level is its own."""
        area = self.by_id[area_id]
        if area.level in _ABOVE_DISTRICT:
            return area
        for ancestor in self.ancestors_or_self(area_id):
            if self.by_id[ancestor].level == AdminLevel.DISTRICT:
                return self.by_id[ancestor]
        return area

    def tehsil_of(self, area_id: int) -> str:
        """The P-code of the tehsil an area lies in; '' for a district or anything above."""
        for ancestor in self.ancestors_or_self(area_id):
            if self.by_id[ancestor].level == AdminLevel.TEHSIL:
                return self.by_id[ancestor].pcode
        return ""

    def descendants_or_self(self, area_ids: set[int]) -> set[int]:
        found = set(area_ids)
        frontier = set(area_ids)
        children: dict[int, list[int]] = {}
        for area in self._areas:
            if area.parent_id is not None:
                children.setdefault(area.parent_id, []).append(area.pk)
        while frontier:
            frontier = {c for parent in frontier for c in children.get(parent, []) if c not in found}
            found |= frontier
        return found

    def resolve(self, text: str, *, in_file: bool = False) -> tuple[Origin | None, str]:
        """The origin a P-code or a place name means, or None and why not (with suggestions);
        `in_file`: the text is a file's cell, and the refusal calls it so."""
        value = text.strip()
        if not value:
            return None, "give the origin: the lowest admin area known, as a P-code or a name"
        area = self.by_pcode.get(value.upper())
        if area is None:
            if self._index is None:
                self._index = PlaceIndex(self._areas)
            matches = self._index.match(value, limit=3)
            sure = [m for m in matches if m.score >= SURE_MATCH]
            if len(sure) == 1 or (sure and sure[0].score > sure[1].score):
                area = self.by_id[sure[0].area.pk]
            elif suggestions := self._index.suggest(value, limit=3):
                # What was typed is not repeated (a name or a phone in the wrong column of a file):
                # the gazetteer's areas it comes near are, those whose name begins with it first.
                names = "; ".join(f"{m.area.name} ({m.area.pcode})" for m in suggestions)
                return None, f"not a P-code, and no one area of the gazetteer is sure: did you mean {names}?"
            else:
                holds = value_holds(value, in_file=in_file)
                return None, f"neither a P-code nor a place name of the gazetteer ({holds})"
        district = self.district_of(area.pk)
        return Origin(area.pk, area.pcode, district.pk, district.pcode, self.tehsil_of(area.pk)), ""

    def serving_point(self, place_area_id: int, points: list[tuple[int, int]]) -> int | None:
        """Of (site id, served area id) pairs, the site whose area is nearest above the place."""
        chain = self.ancestors_or_self(place_area_id)
        best: tuple[int, int] | None = None
        for site_id, area_id in points:
            if area_id in chain:
                depth = chain.index(area_id)
                if best is None or (depth, site_id) < best:
                    best = (depth, site_id)
        return best[1] if best else None
