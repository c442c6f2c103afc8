"""Resolving the names in partners' files — organisations, activities, P-codes and place names,
sites — against the reference data, held in memory for the length of one import.

A name resolves when it is the same text once case, accents, punctuation and spacing are set
aside ("Save the  Children", "N.R.C."), or when it is an acronym or another name the reference
data lists. Anything else is refused with the nearest candidates as a suggestion: the importer
never guesses who did the work or where.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from reliefops.catalog.models import Item
from reliefops.cluster.models import ActivityType
from reliefops.cluster.values import BadValue, refuse_excel_error, text_of
from reliefops.partners.models import Organisation
from reliefops.places.lookup import EXACT, VARIANT, PlaceIndex
from reliefops.places.models import LEVEL_DEPTH, AdminArea, AdminLevel, Site

# Depth of each level counted from the province (adm1).
ADM_DEPTH = {
    AdminLevel.PROVINCE.value: 1,
    AdminLevel.DISTRICT.value: 2,
    AdminLevel.TEHSIL.value: 3,
    AdminLevel.UNION_COUNCIL.value: 4,
    AdminLevel.VILLAGE.value: 5,
}
LEVEL_OF_ADM = {1: AdminLevel.PROVINCE, 2: AdminLevel.DISTRICT, 3: AdminLevel.TEHSIL}


def normal(text: str) -> str:
    """`Médecins Sans Frontières (MSF)` -> `medecins sans frontieres msf`; `&` reads as `and`."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace("&", " and ")
    return re.sub(r"[\W_]+", " ", plain).strip()


def compact(text: str) -> str:
    return normal(text).replace(" ", "")


def _abbreviates(short: str, word: str) -> bool:
    """`intl` abbreviates `international`: same first letter, its letters in order in the word."""
    if short == word or (len(short) >= 2 and word.startswith(short)):
        return True
    if len(short) < 2 or short[0] != word[0]:
        return False
    letters = iter(word)
    return all(letter in letters for letter in short)


def name_similarity(query: str, candidate: str, **_: Any) -> float:
    """0-100: the spelling similarity of two names, or how well their words abbreviate each other
    ("oxfam intl" and "oxfam international" score 100), whichever is higher."""
    spelling = fuzz.ratio(query, candidate)
    asked, known = query.split(), candidate.split()
    if not asked or not known:
        return spelling
    found = sum(1 for a in asked if any(_abbreviates(a, k) or _abbreviates(k, a) for k in known))
    covered = sum(1 for k in known if any(_abbreviates(a, k) or _abbreviates(k, a) for a in asked))
    recall, precision = found / len(asked), covered / len(known)
    words = 200 * recall * precision / (recall + precision) if found and covered else 0.0
    return max(spelling, words)


# --- organisations -------------------------------------------------------------------------------

_SMALL_WORDS = frozenset({"the", "of", "and", "for", "de", "du", "la", "le", "des"})


@dataclass(frozen=True)
class OrganisationName:
    id: int
    name: str
    acronym: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class OrganisationIndex:
    """Organisations by name, acronym and other names (aliases)."""

    def __init__(self, organisations: list[dict[str, Any]]) -> None:
        self.by_id: dict[int, OrganisationName] = {}
        self._direct: dict[str, set[int]] = defaultdict(set)
        self._alias: dict[str, set[int]] = defaultdict(set)
        self._choices: dict[str, tuple[int, str]] = {}  # text -> (id, how it is known)
        for org in organisations:
            entry = OrganisationName(org["id"], org["name"], org["acronym"] or "")
            self.by_id[entry.id] = entry
            for text in (entry.name, entry.acronym, entry.label):
                if text:
                    self._direct[normal(text)].add(entry.id)
                    self._direct[compact(text)].add(entry.id)
                    self._choices[normal(text)] = (entry.id, "")
            for alias in org["aliases"] or []:
                if str(alias).strip():
                    self._alias[normal(str(alias))].add(entry.id)
                    self._alias[compact(str(alias))].add(entry.id)
                    self._choices.setdefault(normal(str(alias)), (entry.id, str(alias).strip()))

    @classmethod
    def build(cls) -> OrganisationIndex:
        return cls([dict(o) for o in Organisation.objects.values("id", "name", "acronym", "aliases")])

    def _lookup(self, text: str) -> set[int]:
        for key in (normal(text), compact(text)):
            if key in self._direct:
                return self._direct[key]
        for key in (normal(text), compact(text)):
            if key in self._alias:
                return self._alias[key]
        return set()

    def resolve(self, raw: Any) -> int | None:
        """The organisation's id; None for an empty cell; BadValue when unknown or ambiguous."""
        refuse_excel_error(raw)
        text = text_of(raw)
        if not text:
            return None
        found = self._lookup(text)
        if not found:
            # "Norwegian Refugee Council (NRC)": the name or the part in brackets.
            match = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", text)
            if match:
                found = self._lookup(match[1]) or self._lookup(match[2])
        if len(found) == 1:
            return next(iter(found))
        if found:
            names = " or ".join(sorted(self.by_id[i].label for i in found))
            raise BadValue(f"'{text}' could be {names}; write the full name")
        raise BadValue(f"'{text}' is not an organisation of the cluster; {self.suggest(text)}")

    def suggest(self, text: str) -> str:
        # "NRC Pakistan", "IOM Islamabad": a run of the text's words that names one organisation
        # (longest first) says more than a spelling like another's ("CARE Pakistan").
        words = normal(text).split()
        named = next(
            (
                found
                for size in range(len(words) - 1, 0, -1)
                for start in range(len(words) - size + 1)
                if len(found := self._lookup(" ".join(words[start : start + size]))) == 1
            ),
            set(),
        )
        guess = process.extractOne(normal(text), list(self._choices), scorer=name_similarity, score_cutoff=75)
        if named and (guess is None or self._choices[guess[0]][0] not in named):
            return f"did you mean {self.by_id[next(iter(named))].label}?"
        # "Red Cross": every organisation whose name (or other name) holds the words says more than
        # the one nearest in spelling.
        holding = self._holding_words(text)
        if len(holding) > 1 or (holding and guess is None):
            listed = ", ".join(self.by_id[i].label for i in holding[:6])
            more = f" (and {len(holding) - 6} more)" if len(holding) > 6 else ""
            return (
                f"organisations whose name holds '{' '.join(self._words(text))}': {listed}{more}; write "
                "one of them, or add it to the organisations first"
            )
        if guess is None:
            return "add it to the organisations first, or write its name as the organisation list has it"
        org_id, alias = self._choices[guess[0]]
        label = self.by_id[org_id].label
        if alias:
            return f"did you mean {label}, also known as '{alias}'?"
        return f"did you mean {label}?"

    def label(self, org_id: int | None) -> str:
        return self.by_id[org_id].label if org_id in self.by_id else ""

    @staticmethod
    def _words(text: str) -> list[str]:
        return [word for word in normal(text).split() if word not in _SMALL_WORDS]

    def _holding_words(self, text: str) -> list[int]:
        """The organisations whose name, acronym or other names hold every word of the text
        ("Red Cross": the ICRC, the IFRC, the French Red Cross), by name."""
        words = set(self._words(text))
        if not words:
            return []
        found: set[int] = set()
        for key, ids in (*self._direct.items(), *self._alias.items()):
            if words <= set(key.split()):
                found |= ids
        return sorted(found, key=lambda i: self.by_id[i].name.casefold())


# --- activity types ------------------------------------------------------------------------------


class ActivityIndex:
    """Activity types by code, name, other names, and by their catalogue item."""

    def __init__(self, activities: list[ActivityType], items: Iterable[tuple[str, str]] = ()) -> None:
        self.by_id = {a.pk: a for a in activities}
        self._keys: dict[str, int] = {}
        self._by_item: dict[str, set[int]] = defaultdict(set)
        for activity in activities:
            for text in (activity.code, activity.name, *activity.aliases):
                if str(text).strip():
                    self._keys.setdefault(normal(str(text)), activity.pk)
                    self._keys.setdefault(compact(str(text)), activity.pk)
            if activity.item is not None:
                for text in (activity.item.code, activity.item.name):
                    self._by_item[normal(text)].add(activity.pk)
                    self._by_item[compact(text)].add(activity.pk)
        # Every item of the catalogue (code, name), to say which one a text names when no activity
        # counts it: "'Family tent (winterized)' is the catalogue's TENT-WINTER".
        self._items: dict[str, str] = {}
        for code, name in items:
            for text in (code, name):
                self._items.setdefault(normal(text), f"{name} ({code})")
                self._items.setdefault(compact(text), f"{name} ({code})")

    @classmethod
    def build(cls) -> ActivityIndex:
        return cls(
            list(ActivityType.objects.filter(is_active=True).select_related("item")),
            Item.objects.values_list("code", "name"),
        )

    def resolve(self, raw: Any) -> int | None:
        refuse_excel_error(raw)
        text = text_of(raw)
        if not text:
            return None
        found = self._named(text)
        if found is not None:
            return found
        raise BadValue(f"'{text}' is not an activity of the cluster; {self.hint(text)}")

    def _named(self, text: str) -> int | None:
        """The activity a text names by its code, name or other name, if one."""
        return self._keys.get(normal(text)) or self._keys.get(compact(text))

    def hint(self, text: str) -> str:
        """The activity nearest to a text ("did you mean …?"), else the list of them."""
        guess = process.extractOne(normal(text), list(self._keys), scorer=name_similarity, score_cutoff=75)
        return f"did you mean {self.by_id[self._keys[guess[0]]].name}?" if guess else self.listing()

    def by_item(self, raw: Any) -> int | None:
        """The one activity whose catalogue item the text names, if exactly one; a plural names the
        item as its singular does ('Blankets', 'CGI sheets')."""
        found = self._item_activities(text_of(raw))
        return next(iter(found)) if len(found) == 1 else None

    def named_by_item(self, raw: Any) -> int:
        """The activity that an item cell names where the row gives no activity: by its catalogue
        item ('Blanket', 'Blankets'), else by the activity's own code, name or other name ('Tents
        distributed', 'tents'). BadValue, saying which item of the catalogue it is if it is one, and
        the nearest activity, when it names none."""
        refuse_excel_error(raw)
        text = text_of(raw)
        found = self.by_item(text)
        if found is None:
            found = self._named(text)
        if found is not None:
            return found
        item = next((self._items[key] for key in _item_keys(text) if key in self._items), None)
        said = (
            f"'{text}' names no activity"
            if item is None
            else (f"'{text}' is the catalogue's {item}, which no activity of the cluster counts")
        )
        raise BadValue(f"{said}; give the activity (#activity): {self.hint(text)}")

    def item_matches(self, activity_id: int, raw: Any) -> bool | None:
        """Whether the item named is the activity's own; None when the item is not in the catalogue."""
        found = self._item_activities(text_of(raw))
        if not found:
            return None
        return activity_id in found

    def listing(self) -> str:
        names = [a.name for a in sorted(self.by_id.values(), key=lambda a: (a.sort_order, a.name))]
        return "use one of: " + ", ".join(names)

    def _item_activities(self, text: str) -> set[int]:
        for key in _item_keys(text):
            found = self._by_item.get(key)
            if found:
                return found
        return set()


def _item_keys(text: str) -> list[str]:
    """The keys a text may name an item by: as written, then with its words made singular
    ('Blankets' -> 'blanket', 'CGI sheets' -> 'cgi sheet')."""
    plain = normal(text)
    keys = [plain, plain.replace(" ", "")]
    single = " ".join(
        word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        for word in plain.split()
    )
    if single != plain:
        keys += [single, single.replace(" ", "")]
    return keys


# --- admin areas ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    id: int
    pcode: str
    name: str
    level: str
    depth: int  # 1 province, 2 district, 3 tehsil, 4 union council
    adm1: str
    adm2: str
    adm3: str
    ancestors: frozenset[str]  # P-codes of the area and every area above it

    @property
    def label(self) -> str:
        return f"{self.pcode} ({self.name})"


_LOOKALIKE = str.maketrans({"O": "0", "I": "1", "L": "1", " ": "", "-": "", ".": ""})


class AreaIndex:
    """The gazetteer by P-code with each area's province, district and tehsil."""

    def __init__(self, areas: list[dict[str, Any]]) -> None:
        by_id = {a["id"]: a for a in areas}
        self.by_pcode: dict[str, Area] = {}
        self.by_id: dict[int, Area] = {}
        self._codes_by_depth: dict[int, list[str]] = defaultdict(list)
        for row in areas:
            chain = []
            node: dict[str, Any] | None = row
            while node is not None:
                chain.append(node)
                node = by_id.get(node["parent_id"]) if node["parent_id"] else None
            codes = {ADM_DEPTH.get(n["level"], 0): n["pcode"] for n in chain}
            area = Area(
                id=row["id"],
                pcode=row["pcode"],
                name=row["name"],
                level=row["level"],
                depth=ADM_DEPTH.get(row["level"], 0),
                adm1=codes.get(1, ""),
                adm2=codes.get(2, ""),
                adm3=codes.get(3, ""),
                ancestors=frozenset(n["pcode"] for n in chain),
            )
            self.by_pcode[area.pcode.upper()] = area
            self.by_id[area.id] = area
            self._codes_by_depth[area.depth].append(area.pcode)
        self._places: PlaceIndex | None = None
        self._alt_names: dict[int, set[str]] = {}

    @classmethod
    def build(cls) -> AreaIndex:
        index = cls([dict(a) for a in AdminArea.objects.values("id", "pcode", "name", "level", "parent_id")])
        for area_id, alt_names in AdminArea.objects.exclude(alt_names=[]).values_list("id", "alt_names"):
            index._alt_names[area_id] = {normal(str(n)) for n in alt_names}
        return index

    def code(self, raw: Any, depth: int) -> Area | None:
        """The area a P-code cell names; BadValue with the nearest P-code when it is not one."""
        refuse_excel_error(raw)
        text = text_of(raw)
        if not text:
            return None
        area = self.by_pcode.get(text.upper())
        if area is not None:
            return area
        # "PK504 Batagram", as the template's lists write them
        match = re.match(r"^([A-Za-z]{2}[0-9A-Za-z_-]*?)\s*[\s:\u2013-]\s*(\D.*)$", text)
        if match and match[1].upper() in self.by_pcode:
            area = self.by_pcode[match[1].upper()]
            if normal(match[2]) in {normal(area.name), *self._alt_names.get(area.id, ())}:
                return area
            raise BadValue(f"'{text}': {area.pcode} is {area.name}, not {match[2].strip()}; check the row")
        raise UnknownCode(text, self.suggest_code(text, depth))

    def suggest_code(self, text: str, depth: int) -> str:
        if not any(c.isdigit() for c in text) and (found := self._named(text, depth)):
            named, sure = found  # a name written where the P-code goes
            return f"{'it names' if sure else 'it may name'} {named.label}: write {named.pcode}"
        fixed = text.upper().translate(_LOOKALIKE)
        fixed = "PK" + fixed[2:] if fixed.startswith("PK") else fixed
        area = self.by_pcode.get(fixed)
        if area is None:
            candidates = self._codes_by_depth.get(depth) or [a.pcode for a in self.by_id.values()]
            guess = process.extractOne(
                text.upper(), candidates, scorer=Levenshtein.distance, score_cutoff=2, processor=str.upper
            )
            area = self.by_pcode.get(guess[0].upper()) if guess else None
        if area is None:
            return "check it against the gazetteer (Admin areas)"
        return f"did you mean {area.label}?"

    def places(self) -> PlaceIndex:
        if self._places is None:
            self._places = PlaceIndex.build()
        return self._places

    def name(self, raw: Any, depth: int, within: Area | None) -> Area | None:
        """The area a place name names at a level (within a parent when one is known)."""
        refuse_excel_error(raw)
        text = text_of(raw)
        if not text:
            return None
        level = LEVEL_OF_ADM.get(depth)
        matches = [
            m
            for m in self.places().match(text, limit=20, min_score=0.5)
            if (level is None or m.area.level == level)
            and (within is None or within.pcode in self.by_id[m.area.pk].ancestors)
        ]
        sure = [m for m in matches if m.score >= VARIANT]
        if len({m.area.pk for m in sure}) == 1:
            return self.by_id[sure[0].area.pk]
        what = level.label.split(" (")[0].lower() if level else "area"
        if not sure and within is not None:
            # A name the gazetteer knows, but in another area than the row's wider one.
            elsewhere = {
                m.area.pk: self.by_id[m.area.pk]
                for m in self.places().match(text, limit=20, min_score=0.5)
                if m.score >= VARIANT and (level is None or m.area.level == level)
            }
            if elsewhere:
                found = " or ".join(
                    f"{text} ({area.pcode}) is a {what} of {self._parent_name(area)}"
                    for area in list(elsewhere.values())[:3]
                )
                raise BadValue(f"{found}, not of {within.name} ({within.pcode}); check the row")
        if len(sure) > 1:
            options = " or ".join(self.by_id[m.area.pk].label for m in sure[:4])
            raise BadValue(f"'{text}' could be {options}; give the P-code")
        if matches:
            best = self.by_id[matches[0].area.pk]
            raise BadValue(f"'{text}' is not a {what} of the gazetteer; did you mean {best.label}?")
        raise BadValue(f"'{text}' is not a {what} of the gazetteer; give the P-code")

    def _parent_name(self, area: Area) -> str:
        parent = {2: area.adm1, 3: area.adm2, 4: area.adm3}.get(area.depth, "")
        found = self.by_pcode.get(parent.upper()) if parent else None
        return found.name if found is not None else "another area"

    def named_otherwise(self, area: Area, raw: Any, depth: int) -> Area | None:
        """The other area of the level a name cell surely names, when it does not name `area`
        (`Batagram` beside PK522, Mansehra); None when it names `area`, or nothing for sure."""
        text = text_of(raw)
        if not text or normal(text) in {normal(area.name), *self._alt_names.get(area.id, ())}:
            return None
        level = LEVEL_OF_ADM.get(depth)
        sure = [
            self.by_id[m.area.pk]
            for m in self.places().match(text, limit=5, min_score=0.75)
            if m.score >= VARIANT and (level is None or m.area.level == level)
        ]
        if not sure or any(other.id == area.id for other in sure):
            return None
        return sure[0]

    def name_hint(self, raw: Any, depth: int) -> str:
        """'; the district named Battagram is PK504' — a hint from a name cell of the same row."""
        text = text_of(raw)
        found = self._named(text, depth) if text else None
        if found is None:
            return ""
        area, sure = found
        return f"; '{text}' {'is' if sure else 'may be'} {area.label}"

    def _named(self, text: str, depth: int) -> tuple[Area, bool] | None:
        """The area of the level a place name most likely names, and whether surely; None when
        the gazetteer has no such name."""
        level = LEVEL_OF_ADM.get(depth)
        for match in self.places().match(text, limit=5, min_score=0.75):
            if level is None or match.area.level == level:
                return self.by_id[match.area.pk], match.score >= EXACT
        return None


class UnknownCode(BadValue):
    """A P-code cell whose text is no P-code of the gazetteer, with the suggestion for it."""

    def __init__(self, text: str, suggestion: str) -> None:
        super().__init__(f"'{text}' is not a P-code; {suggestion}")
        self.text = text


def level_depth(level: str) -> int:
    return ADM_DEPTH.get(level, LEVEL_DEPTH.get(level, 0))


# --- sites ---------------------------------------------------------------------------------------


class SiteIndex:
    """Sites by code and by name (exact, case aside); a place that is not a site stays as text."""

    def __init__(self, sites: list[dict[str, Any]]) -> None:
        self._by_key: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self.label: dict[int, str] = {}  # "IOM Balakot hub (BLK-HUB)"
        for site in sites:
            for text in (site["code"], site["name"]):
                self._by_key[normal(text)].add((site["id"], site["admin_area_id"]))
            name, code = site["name"], site["code"]
            self.label[site["id"]] = f"{name} ({code})" if code and code != name else name

    @classmethod
    def build(cls) -> SiteIndex:
        return cls([dict(s) for s in Site.objects.values("id", "code", "name", "admin_area_id")])

    def find(self, text: str) -> tuple[int, int] | None:
        found = self._by_key.get(normal(text), set())
        return next(iter(found)) if len(found) == 1 else None

    def outside(self, place: tuple[int, int], area: Area, areas: AreaIndex) -> str:
        """Why a site cannot be the place of a row for `area`: it lies in another area (neither
        within the row's area nor its wider area); '' when it may be."""
        own = areas.by_id.get(place[1])
        if own is None or area.pcode in own.ancestors or own.pcode in area.ancestors:
            return ""
        return (
            f"{self.label.get(place[0], 'the site')} lies in {own.name}, {own.pcode}, not in {area.name}, "
            f"{area.pcode}; check the row's place"
        )
