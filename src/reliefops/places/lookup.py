"""Matching a place name as people write it to an admin area of the gazetteer, with a score.

Names of the same place are spelt many ways in reports and spreadsheets (Battagram / Batagram,
Bala Kot / Balakot, Muzaffarabad / Muzafarabad, Neelum / Neelam). A name is compared with every
area's name and alternate names after normalising both, in tiers:

| score | when |
|---|---|
| 1.0  | the same text, ignoring case, accents, punctuation and spacing (or the P-code itself) |
| 0.95 | the same once spaces and hyphens are dropped (`Balakot` = `Bala Kot`) |
| 0.9  | the same after transliteration variants and doubled letters are folded |
| 0.8  | the same consonants in the same order (`Neelum` = `Neelam`) |
| < 0.8 | a fuzzy similarity (difflib) of the folded forms, scaled below the tiers above |

Ties go to the higher admin level (a district before a tehsil of the same name), then the P-code.

`PlaceIndex.suggest` offers names to someone who typed a name no area matches for sure: a name
that begins with what was typed (`Bala` -> Bala Kot) comes before the fuzzy ones, whatever its
score. It only offers; the scores that decide a match are the tiers above.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from reliefops.places.models import LEVEL_DEPTH, AdminArea, AdminLevel

EXACT, COMPACT, VARIANT, SKELETON = 1.0, 0.95, 0.9, 0.8
FUZZY_WEIGHT = 0.75
DEFAULT_MIN_SCORE = 0.6
# Letters typed (spaces and hyphens dropped) before the names that begin with them are offered.
PREFIX_MIN_LETTERS = 3

# Words that describe a place's kind rather than name it ("Allai valley", "Bagh district").
NOISE_WORDS = frozenset(
    {"district", "tehsil", "tahsil", "union", "council", "uc", "city", "town", "valley", "village", "camp"}
)
# Romanisation variants of Urdu and Pashto names, folded to one spelling (applied in order).
TRANSLITERATIONS: tuple[tuple[str, str], ...] = (
    ("ee", "i"),
    ("oo", "u"),
    ("ou", "u"),
    ("ph", "f"),
    ("q", "k"),
    ("w", "v"),
    ("ai", "e"),
    ("ay", "e"),
    ("ei", "e"),
    ("ey", "e"),
    ("y", "i"),
)
_ASPIRATED = re.compile(r"([bcdgjkpt])h")
_DOUBLED = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]")


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: `Bālā-Kot ` -> `bala kot`."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[\W_]+", " ", plain).strip()
    return words or text.strip().casefold()


def variant_key(text: str) -> str:
    """One spelling for the common variants: `Battagram` and `Batagram` both give `batagram`."""
    words = [w for w in fold(text).split() if w not in NOISE_WORDS] or fold(text).split()
    key = "".join(words)
    for old, new in TRANSLITERATIONS:
        key = key.replace(old, new)
    key = _ASPIRATED.sub(r"\1", key)
    return _DOUBLED.sub(r"\1", key)


def skeleton(text: str) -> str:
    """The consonants of the variant key, the first letter kept: `Neelum`, `Neelam` -> `nlm`."""
    key = variant_key(text)
    return key[:1] + _VOWELS.sub("", key[1:])


@dataclass(frozen=True)
class _Forms:
    folded: str
    compact: str
    variant: str
    skeleton: str

    @classmethod
    def of(cls, text: str) -> _Forms:
        folded = fold(text)
        return cls(folded, folded.replace(" ", ""), variant_key(text), skeleton(text))


def _score(query: _Forms, name: _Forms) -> float:
    if query.folded == name.folded:
        return EXACT
    if query.compact == name.compact:
        return COMPACT
    if query.variant == name.variant:
        return VARIANT
    if len(query.skeleton) >= 3 and query.skeleton == name.skeleton:
        return SKELETON
    matcher = SequenceMatcher(None, query.variant, name.variant, autojunk=False)
    if matcher.real_quick_ratio() * FUZZY_WEIGHT < DEFAULT_MIN_SCORE / 2:
        return 0.0
    return round(matcher.ratio() * FUZZY_WEIGHT, 3)


@dataclass(frozen=True)
class PlaceMatch:
    """An admin area that a name may mean, how sure the match is (0..1), and the name it matched."""

    area: AdminArea
    score: float
    matched_name: str


class PlaceIndex:
    """The gazetteer's names prepared once, for matching many names (an import of thousands of rows)."""

    def __init__(self, areas: list[AdminArea]) -> None:
        self._areas = areas
        self._names: list[tuple[int, str, _Forms]] = []
        for index, area in enumerate(areas):
            for name in [area.name, *area.alt_names]:
                if name:
                    self._names.append((index, name, _Forms.of(name)))
        self._by_pcode = {area.pcode.upper(): area for area in areas}

    @classmethod
    def build(cls, *, level: AdminLevel | str | None = None) -> PlaceIndex:
        areas = AdminArea.objects.select_related("parent")
        if level:
            areas = areas.filter(level=AdminLevel(level))
        return cls(list(areas))

    def match(self, name: str, *, limit: int = 5, min_score: float = DEFAULT_MIN_SCORE) -> list[PlaceMatch]:
        text = name.strip()
        if not text:
            return []
        area = self._by_pcode.get(text.upper())
        if area is not None:
            return [PlaceMatch(area=area, score=EXACT, matched_name=area.pcode)]
        query = _Forms.of(text)
        best: dict[int, tuple[float, str]] = {}
        for index, candidate, forms in self._names:
            score = _score(query, forms)
            if score >= min_score and score > best.get(index, (0.0, ""))[0]:
                best[index] = (score, candidate)
        ranked = sorted(
            best.items(),
            key=lambda item: (
                -item[1][0],
                LEVEL_DEPTH.get(self._areas[item[0]].level, 99),
                self._areas[item[0]].pcode,
            ),
        )
        return [
            PlaceMatch(area=self._areas[index], score=score, matched_name=candidate)
            for index, (score, candidate) in ranked[:limit]
        ]

    def suggest(self, name: str, *, limit: int = 3) -> list[PlaceMatch]:
        """The areas to offer for a name: those matched as the same name first, then those whose
        name begins with it, then the nearest by similarity."""
        text = name.strip()
        if not text:
            return []
        query = _Forms.of(text)
        begins = len(query.compact) >= PREFIX_MIN_LETTERS
        best: dict[int, tuple[int, float, str]] = {}
        for index, candidate, forms in self._names:
            score = _score(query, forms)
            prefix = begins and (
                forms.compact.startswith(query.compact) or forms.variant.startswith(query.variant)
            )
            tier = 0 if score >= VARIANT else 1 if prefix else 2
            if tier == 2 and score < DEFAULT_MIN_SCORE:
                continue
            kept = best.get(index)
            if kept is None or (tier, -score) < (kept[0], -kept[1]):
                best[index] = (tier, score, candidate)
        ranked = sorted(
            best.items(),
            key=lambda item: (
                item[1][0],
                -item[1][1],
                LEVEL_DEPTH.get(self._areas[item[0]].level, 99),
                self._areas[item[0]].pcode,
            ),
        )
        return [
            PlaceMatch(area=self._areas[index], score=score, matched_name=candidate)
            for index, (_, score, candidate) in ranked[:limit]
        ]


def place_match(
    name: str,
    *,
    level: AdminLevel | str | None = None,
    limit: int = 5,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[PlaceMatch]:
    """The admin areas a place name most likely means, best first (exact = 1.0)."""
    return PlaceIndex.build(level=level).match(name, limit=limit, min_score=min_score)
