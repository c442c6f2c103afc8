"""Finding one household registered twice: name forms, blocking keys, and a score for a pair.

The method (chosen by measurement, docs/decisions/*-duplicate-detection-method.md) is blocking
plus RapidFuzz, in three steps:

1. **Forms.** Each name is folded (case, accents, punctuation), stripped of honorifics
   (Mst., Haji, s/o), and each word is put in one spelling: Muhammad/Mohammad/Mohd/M., Bibi/Begum,
   Khan/Khaan, Rasool/Rasul, Yousaf/Yousuf, Rafique/Rafiq all meet. Word order is ignored
   (swapped names), and a name with a word fewer still compares close (a dropped middle name).
2. **Blocking.** Only households that share a blocking key are compared: a word of the head's
   name with a word of the father's or husband's name in the same district (the same or a
   neighbouring tehsil); the head's name in the same village (a wife registered under her
   husband's name meets him here); two of the three parts of the identity number (so a number
   one digit off still meets its original); the same phone number.
3. **Score.** Each piece of evidence adds or takes log-odds points: the same CNIC (+9) or one
   digit apart (+4) or a different one (-5); the names' similarity; the same village, phone and
   family make-up. Two different given names that are both common names ("Aslam" and "Akram",
   brothers) count against, where a misspelling would count for. A wife registered instead of her
   husband is scored as such: her husband's name against his name, their village, phone and family.
   The pair's score is shown as 0-100; at LIKELY_DUPLICATE and above it goes to the review queue.

Nothing here touches the database: services feed it `Person`s and store what it finds.
"""

from __future__ import annotations

import functools
import hashlib
import math
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.fuzz import ratio, token_set_ratio

from reliefops.env import env

# Pairs scoring this (0-100) or more are likely duplicates: shown at registration, queued in a run.
LIKELY_DUPLICATE = 75
# A key shared by more households than this is too common to pair on (two common given names in
# a large tehsil, a camp's one phone): its households meet under their other keys, or not at all.
MAX_BLOCK = 150
METHOD_VERSION = "blocking+rapidfuzz 2"

# --- names -------------------------------------------------------------------------------------

# Words that are not names: honorifics, relations, titles ("Mst." is Mussammat, a woman's title).
_NOISE = frozenset(
    {
        "mst", "mussammat", "musammat", "mosammat", "mohtarma", "mrs", "mr", "miss", "haji", "hajji",
        "alhaj", "late", "marhoom", "marhum", "son", "of", "wife", "daughter", "widow", "so", "wo", "do",
        "dr", "sahib", "sb", "bibi", "bibee", "begum", "begam", "bi",
    }
)  # fmt: skip
# Spellings of one name, as they come out of `_phonetic`, to the one form used.
_SAME_NAME: dict[str, str] = {
    **dict.fromkeys(
        ["muhamad", "mohamad", "mohamed", "muhamed", "mohmad", "mohd", "md", "m", "muhd", "mhd", "mohamd",
         "muhamd", "mohammd", "mamad", "mahamad"],
        "muhamad",
    ),
    # vowels written differently in one name
    **dict.fromkeys(["iusaf", "iusuf", "iusif", "iosaf", "iosuf"], "iusuf"),
    **dict.fromkeys(["rahman", "rehman", "rehmen"], "rehman"),
    **dict.fromkeys(["mahmud", "mehmud"], "mahmud"),
    **dict.fromkeys(["ahmad", "ahmed"], "ahmad"),
    **dict.fromkeys(["iunas", "iunis", "iunus"], "iunus"),
    **dict.fromkeys(["husen", "husan", "husin"], "husen"),
}  # fmt: skip
_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("ph", "f"),
    ("que", "k"),
    ("q", "k"),
    ("w", "v"),
    ("ee", "i"),
    ("oo", "u"),
    ("ou", "u"),
    ("ai", "e"),
    ("ay", "e"),
    ("ey", "e"),
    ("ei", "e"),
    ("y", "i"),
)
_ASPIRATED = re.compile(r"([bcdgjkpt])h")
_DOUBLED = re.compile(r"(.)\1+")
_FINAL_H = re.compile(r"([aeiou])h$")
_VOWELS = re.compile(r"[aeiou]")


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces (as places.lookup folds place names;
    kept here so that matching runs without Django, as the benchmarks run it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[\W_]+", " ", plain).strip()


# Names, their words and villages repeat across a registry (a few thousand given names, family names
# and villages): each distinct text is put in its forms once. The caches are bounded.
@functools.lru_cache(maxsize=1 << 16)
def _phonetic(word: str) -> str:
    for old, new in _SPELLINGS:
        word = word.replace(old, new)
    word = _ASPIRATED.sub(r"\1", word)
    word = _DOUBLED.sub(r"\1", word)
    return _FINAL_H.sub(r"\1", word) if len(word) > 3 else word


@functools.lru_cache(maxsize=1 << 18)
def name_words(name: str) -> tuple[str, ...]:
    """The words of a name in one spelling each, honorifics dropped, order kept.

    `Mst. Zainab Begum` -> ('zenab', 'bibi'); `Mohd. Aslam Khaan` -> ('muhamad', 'aslam', 'kan').
    """
    words: list[str] = []
    for raw in fold(name).split():
        if raw in _NOISE or (len(raw) == 1 and raw != "m") or raw.isdigit():
            continue
        word = _phonetic(raw)
        words.append(_SAME_NAME.get(word, word))
    return tuple(words)


@functools.lru_cache(maxsize=1 << 16)
def skeleton(word: str) -> str:
    """The first letter and the consonants: `ahmed`, `ahmad` -> `ahmd`. Blocking compares these."""
    return word[:1] + _VOWELS.sub("", word[1:])


# Words too common to block on alone: the prefixes of given names (almost every man is Muhammad
# ...), women's titles, and the family and tribe names that thousands of unrelated households of a
# district share (Khan, Swati, Awan, Abbasi, ...). They still count in a name's similarity.
_COMMON = frozenset(
    name_words(
        "muhammad bibi begum akhtar khan abdul ghulam noor ullah din "
        "syed sayed shah mir malik raja sardar mian qazi sheikh chaudhry "
        "swati awan gujjar tanoli jadoon abbasi qureshi mughal sudhan rathore butt lone dar kiani "
        "akhunzada yousafzai kohistani gilani karlal dhund turk bakarwal janjua satti minhas "
        "hashmi bukhari kazmi naqvi rizvi jafri alvi khattak tareen mohmand afridi"
    )
)

# Given names common in Hazara and AJK. Two different names both on this list are two different
# people ("Aslam" and "Akram" are brothers); a word off the list is likelier a misspelling.
_GIVEN_NAMES = frozenset(
    name_words(
        "aslam akram akbar afzal asghar asif arif amjad anwar arshad ashraf ayub azam azhar "
        "bashir basharat fazal faisal farooq fayyaz habib hameed hamid haroon hassan hussain "
        "iftikhar ijaz ilyas imran iqbal irfan ishaq ishfaq ismail jamil javed jahangir kabir "
        "karim khalid khurshid latif mahmood majeed manzoor maqsood masood mehboob mumtaz munir "
        "mushtaq nadeem naeem naseer nasir nawaz nazir niaz pervez qadir qasim rafiq rahim "
        "rashid rasheed rauf raza rehman riaz saeed sadiq sajid sajjad saleem sarwar shabbir "
        "shafiq shahid shakeel shakir shaukat sher siddique sultan tahir tanveer tariq usman "
        "waheed wajid waqar yaqub younas yousaf zafar zahid zaheer zaman zubair ayaz altaf "
        "zulfiqar ibrahim idrees nabi rasool bahadur wali jan taj gul zareen khan "
        "zainab fatima amina khadija hajra sakina safia sughra kalsoom nasreen parveen shamim "
        "rukhsana shaheen shabana tahira yasmin zubaida razia rehana zarina nusrat khalida "
        "naseem rasheeda bilquis sharifa hanifa jamila salma saeeda naheed kausar ruqayya "
        "mehrunnisa sadia farzana nargis bano akhtar jan"
    )
)


@dataclass(frozen=True, slots=True)
class Name:
    """A name's words in one spelling, in order, sorted into one string, and as a set."""

    words: tuple[str, ...]
    sorted: str
    set: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Name:
        return _name_of(text)


@functools.lru_cache(maxsize=1 << 18)
def _name_of(text: str) -> Name:
    """A Name (immutable: households with one name share it)."""
    words = name_words(text)
    return Name(words, " ".join(sorted(words)), frozenset(words))


def name_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """How alike two names are, 0..1: order ignored, a word fewer costs little, 1.0 only if equal.

    Two different given names that are both common names score low whatever their letters.
    """
    return _similarity(Name(a, " ".join(sorted(a)), frozenset(a)), Name(b, " ".join(sorted(b)), frozenset(b)))


def _similarity(na: Name, nb: Name) -> float:
    a, b = na.words, nb.words
    if a == b:
        return 1.0 if a else 0.0
    if not a or not b:
        return 0.0
    sa, sb = na.sorted, nb.sorted
    if sa == sb:
        return 0.99  # the same words in another order
    only_a: set[str] = set(na.set - nb.set)
    only_b: set[str] = set(nb.set - na.set)
    # Pair the words that differ by a misspelling (the closest first); what is left differs.
    spelt: list[float] = []
    if only_a and only_b:
        candidates = sorted(((ratio(x, y), x, y) for x in only_a for y in only_b), reverse=True)
        left_a, left_b = set(only_a), set(only_b)
        for closeness, x, y in candidates:
            if closeness < _MISSPELT or x not in left_a or y not in left_b:
                continue
            spelt.append(closeness / 100)
            left_a.discard(x)
            left_b.discard(y)
        only_a, only_b = left_a, left_b
    if only_a and only_b:
        # Different given names (brothers, namesakes' sons) rather than a misspelling of one name.
        if all(w in _GIVEN_NAMES for w in only_a | only_b) and not any(
            skeleton(x) == skeleton(y) for x in only_a for y in only_b
        ):
            return min(0.5, ratio(sa, sb) / 100)
        return max(ratio(sa, sb) / 100, 0.9 * token_set_ratio(sa, sb) / 100) * (0.95 if spelt else 1.0)
    if only_a or only_b:
        return 0.93 if not spelt else 0.91  # one name is the other with a word more
    if not spelt:
        return 0.93  # the same words, one of them written twice
    return 0.9 + 0.09 * min(spelt)  # the same words, some misspelt


# Two words this close (RapidFuzz ratio, 0-100) are one word misspelt: Aslam / Aslaam / Aslan.
_MISSPELT = 75


# --- documents ----------------------------------------------------------------------------------


def documents_near(a: str, b: str) -> bool:
    """One digit different, or two neighbouring digits swapped."""
    if len(a) != len(b) or a == b:
        return False
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differ) == 1:
        return True
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and a[differ[0]] == b[differ[1]]
        and a[differ[1]] == b[differ[0]]
    )


def _document_parts(number: str) -> tuple[str, str, str]:
    third = len(number) // 3
    return (
        number[: len(number) - 2 * third],
        number[len(number) - 2 * third : len(number) - third],
        number[-third:],
    )


# --- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """What matching looks at in a household (registered, or a draft not yet saved)."""

    id: int
    head: str
    father: str
    sex: str  # "female" or "male"
    document_type: str
    document: str  # normalised number, '' when there is none
    phone: str
    district: str  # P-code of the district of origin (or the lowest known area above it)
    area: str  # P-code of the lowest known area of origin
    village: str
    members: tuple[int, ...]
    site_id: int | None = None
    tehsil: str = ""  # P-code of the tehsil of origin; empty when only the district is known


@dataclass(slots=True)
class Prepared:
    """A Person with its name forms and blocking keys worked out once."""

    person: Person
    head: Name
    father: Name
    village: str
    size: int
    keys: frozenset[int] = field(default_factory=frozenset)


@functools.lru_cache(maxsize=1 << 18)
def _rare(words: tuple[str, ...]) -> tuple[str, ...]:
    rare = sorted({skeleton(w) for w in words if w not in _COMMON})
    return tuple(rare or sorted({skeleton(w) for w in words}))


@functools.lru_cache(maxsize=1 << 18)
def _whole(words: tuple[str, ...]) -> str:
    return "+".join(sorted({skeleton(w) for w in words}))


@functools.lru_cache(maxsize=1 << 16)
def _village_form(village: str) -> str:
    return "".join(_phonetic(w) for w in fold(village).split()) if village.strip() else ""


def key_hash(*parts: str) -> int:
    """A signed 64-bit hash of a key's parts (stable across processes and databases)."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def blocking_keys(
    person: Person, head: tuple[str, ...] | None = None, father: tuple[str, ...] | None = None
) -> frozenset[int]:
    """The keys a household is filed under: two households sharing one are compared.

    A woman heading a household is also filed under her husband's (or father's) name in her village,
    where his household is filed under his own: that is how a wife registered instead of her
    husband is found.
    """
    head = name_words(person.head) if head is None else head
    father = name_words(person.father) if father is None else father
    district = person.district
    tehsil = person.tehsil or district
    keys: set[int] = set()
    if head and father:
        # a word of each name, in the tehsil: typos, variants, swapped and dropped words still meet
        for h in _rare(head):
            for f in _rare(father):
                keys.add(key_hash("ht", tehsil, h, f))
        # both names whole, in the district: the same names given in a neighbouring tehsil
        keys.add(key_hash("hd", district, _whole(head), _whole(father)))
    village = _village_form(person.village)
    if village and father:
        # the father's or husband's name in the village: a head's name misspelt beyond recognition
        keys.add(key_hash("fv", district, village, _whole(father)))
    if village and head:
        keys.add(key_hash("hv", district, village, *_rare(head)))
        if person.sex == "female" and father:
            keys.add(key_hash("hv", district, village, *_rare(father)))
    if person.document and person.document_type in {"cnic", "old_nic"}:
        a, b, c = _document_parts(person.document)
        keys |= {
            key_hash("d1", person.document_type, a, b),
            key_hash("d2", person.document_type, a, c),
            key_hash("d3", person.document_type, b, c),
        }
    if person.phone:
        keys.add(key_hash("p", person.phone))
    return frozenset(keys)


def prepare(person: Person) -> Prepared:
    head, father = Name.of(person.head), Name.of(person.father)
    return Prepared(
        person=person,
        head=head,
        father=father,
        village=_village_form(person.village),
        size=sum(person.members),
        keys=blocking_keys(person, head.words, father.words),
    )


# --- the score ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A likely pair: the two households (lower id first), the score 0-100 and the evidence."""

    first_id: int
    second_id: int
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Weights:
    """Log-odds points each piece of evidence adds (or takes); tuned on a synthetic registry
    (bench/households_quality.py, seed 1) and reported on another (seed 2)."""

    base: float = -1.0
    same_document: float = 9.0
    near_document: float = 4.0
    other_document: float = -5.0
    head: float = 4.0  # the head's name the same
    father: float = 3.0  # the father's or husband's name the same
    common_name: float = 1.0  # taken off a name agreement when the name has one uncommon word only
    other_name: float = -3.0  # two different names
    same_village: float = 1.5
    other_village: float = -3.5
    same_area: float = 0.5  # no village on one side, the same area of origin
    other_district: float = -1.0
    same_phone: float = 2.5
    other_phone: float = -1.0
    # a difference in family make-up (members by sex and age band): 0, 1, 2, 3, 4 or more
    members: tuple[float, ...] = (2.0, 1.0, -0.5, -2.0, -4.0)
    other_sex: float = -4.0
    spouse_base: float = -2.0  # a woman's husband's name against a man's name starts lower


WEIGHTS = Weights()


def _name_points(
    similarity: float, strong: float, name: Name, what: str, reasons: list[str], w: Weights
) -> float:
    # A name of one uncommon word ("Muhammad Aslam", "Akram") is shared by many: it proves less.
    if len(name.set - _COMMON) <= 1:
        strong -= w.common_name
    if similarity >= 0.99:
        reasons.append(f"same {what}")
        return strong
    if similarity >= 0.9:
        reasons.append(f"{what} nearly the same")
        return strong - 1.0
    if similarity >= 0.8:
        reasons.append(f"{what} similar")
        return strong - 2.5
    if similarity >= 0.7:
        return 0.0
    return w.other_name


def _place_points(a: Prepared, b: Prepared, reasons: list[str], w: Weights) -> float:
    pa, pb = a.person, b.person
    points = 0.0
    if a.village and b.village:
        if a.village == b.village or ratio(a.village, b.village) >= 85:
            reasons.append("same village")
            points += w.same_village
        else:
            points += w.other_village
    elif pa.area == pb.area:
        points += w.same_area
    if pa.district != pb.district:
        points += w.other_district
    return points


def _family_points(a: Prepared, b: Prepared, reasons: list[str], w: Weights) -> float:
    pa, pb = a.person, b.person
    points = 0.0
    if pa.phone and pb.phone:
        if pa.phone == pb.phone:
            reasons.append("same phone")
            points += w.same_phone
        else:
            points += w.other_phone
    difference = sum(abs(x - y) for x, y in zip(pa.members, pb.members, strict=True))
    if difference == 0:
        reasons.append("same family members")
    points += w.members[min(difference, len(w.members) - 1)]
    return points


# How a reason names the document two households share (an "other document" is not a NIC).
_DOCUMENT_LABELS = {"cnic": "CNIC", "old_nic": "old NIC", "other": "document number"}


def _direct(a: Prepared, b: Prepared, w: Weights) -> tuple[float, list[str]]:
    """The two households as registered by the same head."""
    pa, pb = a.person, b.person
    reasons: list[str] = []
    points = w.base
    if pa.document and pb.document and pa.document_type == pb.document_type:
        label = _DOCUMENT_LABELS.get(pa.document_type, "document number")
        if pa.document == pb.document:
            reasons.append(f"same {label}")
            points += w.same_document
        elif documents_near(pa.document, pb.document):
            reasons.append(f"{label} one digit apart")
            points += w.near_document
        else:
            points += w.other_document
    points += _name_points(_similarity(a.head, b.head), w.head, a.head, "head's name", reasons, w)
    father = _similarity(a.father, b.father)
    points += _name_points(father, w.father, a.father, "father's or husband's name", reasons, w)
    points += _place_points(a, b, reasons, w)
    points += _family_points(a, b, reasons, w)
    if pa.sex != pb.sex:
        points += w.other_sex
    return points, reasons


def _spouse(wife: Prepared, husband: Prepared, w: Weights) -> tuple[float, list[str]]:
    """A wife registered the household that her husband registered (or the other way round)."""
    reasons: list[str] = []
    similarity = _similarity(wife.father, husband.head)
    if similarity < 0.9:
        return -math.inf, reasons
    points = w.spouse_base + _name_points(similarity, w.head, husband.head, "husband's name", [], w)
    reasons.append("a woman registered under her husband's name: his household")
    points += _place_points(wife, husband, reasons, w)
    points += _family_points(wife, husband, reasons, w)
    return points, reasons


def to_score(points: float) -> int:
    """Log-odds points as 0-100 (50 is even odds)."""
    return round(100 / (1 + math.exp(-points / 2)))


def compare(a: Prepared, b: Prepared, w: Weights = WEIGHTS) -> tuple[int, tuple[str, ...]]:
    """The score of a pair (0-100) and the evidence for it."""
    points, reasons = _direct(a, b, w)
    if a.person.sex != b.person.sex:
        wife, husband = (a, b) if a.person.sex == "female" else (b, a)
        spouse_points, spouse_reasons = _spouse(wife, husband, w)
        if spouse_points > points:
            points, reasons = spouse_points, spouse_reasons
    return to_score(points), tuple(reasons)


# --- one household against the registry, and the whole registry against itself ---------------------


def best_matches(
    draft: Prepared, candidates: Iterable[Prepared], *, threshold: int = LIKELY_DUPLICATE, limit: int = 10
) -> list[Match]:
    """The candidates that are likely the draft's household, best first."""
    found: list[Match] = []
    for other in candidates:
        if other.person.id == draft.person.id:
            continue
        score, reasons = compare(draft, other)
        if score >= threshold:
            first, second = sorted((draft.person.id, other.person.id))
            found.append(Match(first, second, score, reasons))
    found.sort(key=lambda m: (-m.score, m.first_id + m.second_id - draft.person.id))
    return found[:limit]


@dataclass
class RunStats:
    households: int = 0
    keys: int = 0
    blocks: int = 0
    oversized_blocks: int = 0
    compared: int = 0
    found: int = 0


_INDEX_BITS = 25  # up to 33 million households in one run
_INDEX_MASK = (1 << _INDEX_BITS) - 1


def _sorted_entries(prepared: Sequence[Prepared]) -> list[int]:
    """Every (key, household) as one integer: the key's low 40 bits above the household's index,
    sorted, so that the households filed under one key sit side by side."""
    entries: list[int] = []
    shift = _INDEX_BITS
    for index, record in enumerate(prepared):
        for key in record.keys:
            entries.append(((key & 0xFFFFFFFFFF) << shift) | index)
    entries.sort()
    return entries


def _blocks(entries: list[int], part: int = 0, parts: int = 1) -> Iterator[tuple[int, list[int], float]]:
    """(key, indexes of the households filed under it, share of the work done), for keys shared
    by two or more households; with `parts`, only every parts-th such block from the part-th."""
    shift = _INDEX_BITS
    start = 0
    total = len(entries)
    ordinal = -1
    while start < total:
        key = entries[start] >> shift
        end = start + 1
        while end < total and entries[end] >> shift == key:
            end += 1
        if end - start > 1:
            ordinal += 1
            if ordinal % parts == part:
                yield key, [entry & _INDEX_MASK for entry in entries[start:end]], end / total
        start = end


@dataclass
class _Part:
    """What one part of the comparison found."""

    found: dict[tuple[int, int], Match] = field(default_factory=dict)
    blocks: int = 0
    oversized_blocks: int = 0
    compared: int = 0


def _compare_part(
    prepared: Sequence[Prepared],
    entries: list[int],
    part: int,
    parts: int,
    *,
    threshold: int,
    skip: set[tuple[int, int]] | None,
    weights: Weights,
    report: Callable[[float], None] | None = None,
) -> _Part:
    """Compare the pairs of one part of the blocks (all of them with parts=1).

    A pair sharing several keys is compared once, under the smallest of them, so that every pair
    is compared in exactly one block whichever part that block falls in.
    """
    low40 = 0xFFFFFFFFFF
    out = _Part()
    found = out.found
    for key, members, share in _blocks(entries, part, parts):
        out.blocks += 1
        if len(members) > MAX_BLOCK:
            out.oversized_blocks += 1
            continue
        for i, first in enumerate(members):
            a = prepared[first]
            a_keys = a.keys
            for second in members[i + 1 :]:
                b = prepared[second]
                shared = a_keys & b.keys
                if len(shared) > 1 and min(k & low40 for k in shared) != key:
                    continue
                if a.person.id == b.person.id:
                    continue
                out.compared += 1
                score, reasons = compare(a, b, weights)
                if score < threshold:
                    continue
                pair = (min(a.person.id, b.person.id), max(a.person.id, b.person.id))
                if skip and pair in skip:
                    continue
                found[pair] = Match(pair[0], pair[1], score, reasons)
        if report is not None:
            report(share)
    return out


def _in_thousandths(progress: Callable[[int, int], None] | None) -> Callable[[float], None]:
    """A share of the work done (0..1), told to `progress(done, 1000)` each time it rises a thousandth."""
    reported = 0

    def tell(done: float) -> None:
        nonlocal reported
        now = int(done * 1000)
        if progress is not None and now > reported:
            reported = now
            progress(reported, 1000)

    return tell


# A registry smaller than this is compared in one process: starting another costs more than it saves.
PARALLEL_FROM = 50_000


def match_workers() -> int:
    """How many processes a batch run compares in: RELIEFOPS_MATCH_WORKERS, or one per core."""
    configured = env("RELIEFOPS_MATCH_WORKERS")
    if configured is not None:
        return max(1, configured)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _worker(
    pipe: Any, share: Any, prepared: Sequence[Prepared], entries: list[int], part: int, parts: int,
    threshold: int, skip: set[tuple[int, int]] | None, weights: Weights,
) -> None:  # fmt: skip
    """A forked process's part of the comparison, sent back through the pipe."""

    def report(done: float) -> None:
        share.value = done

    try:
        result = _compare_part(
            prepared, entries, part, parts, threshold=threshold, skip=skip, weights=weights, report=report
        )
        pipe.send((list(result.found.values()), result.blocks, result.oversized_blocks, result.compared))
    except BaseException as exc:  # the parent reports it; the process ends either way
        pipe.send(exc)
    finally:
        pipe.close()


def _compare_in_parallel(
    prepared: Sequence[Prepared],
    entries: list[int],
    workers: int,
    *,
    threshold: int,
    skip: set[tuple[int, int]] | None,
    weights: Weights,
    progress: Callable[[int, int], None] | None,
) -> list[_Part]:
    """The comparison split over `workers` processes: this one takes part 0, forked copies of it
    (which share the prepared registry with it, copy-on-write) take the others."""
    context = multiprocessing.get_context("fork")
    shares = [context.RawValue("d", 0.0) for _ in range(workers)]
    children = []
    for part in range(1, workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker,
            args=(send, shares[part], prepared, entries, part, workers, threshold, skip, weights),
            daemon=True,
        )
        process.start()
        send.close()
        children.append((process, receive))
    tell = _in_thousandths(progress)

    def report(done: float) -> None:
        shares[0].value = done
        tell(min(s.value for s in shares))

    try:
        parts = [
            _compare_part(
                prepared, entries, 0, workers, threshold=threshold, skip=skip, weights=weights, report=report
            )
        ]
        for process, receive in children:
            while not receive.poll(1.0):
                report(1.0)
                if not process.is_alive() and not receive.poll(0):
                    raise RuntimeError(
                        f"a comparing process ended with exit code {process.exitcode} (out of memory?); "
                        "nothing was written"
                    )
            answer = receive.recv()
            if isinstance(answer, BaseException):
                raise RuntimeError(f"a comparing process failed: {answer!r}; nothing was written") from answer
            matches, blocks, oversized, compared = answer
            parts.append(
                _Part(
                    found={(m.first_id, m.second_id): m for m in matches},
                    blocks=blocks,
                    oversized_blocks=oversized,
                    compared=compared,
                )
            )
            process.join()
        return parts
    finally:
        for process, receive in children:
            if process.is_alive():
                process.terminate()
                process.join()
            receive.close()


def find_duplicates(
    people: Iterable[Person],
    *,
    threshold: int = LIKELY_DUPLICATE,
    skip: set[tuple[int, int]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    weights: Weights = WEIGHTS,
    workers: int | None = None,
) -> tuple[list[Match], RunStats]:
    """Every likely pair in the registry, compared once each; `skip` holds pairs already decided.

    `progress(done, 1000)` is told how far the comparison is, in thousandths. A registry of
    PARALLEL_FROM households or more is compared in `workers` processes (match_workers() by
    default); the pairs found are the same whatever the number.
    """
    stats = RunStats()
    prepared = [prepare(person) for person in people]
    stats.households = len(prepared)
    entries = _sorted_entries(prepared)
    stats.keys = len(entries)
    count = match_workers() if workers is None else max(1, workers)
    if count > 1 and len(prepared) >= PARALLEL_FROM:
        parts = _compare_in_parallel(
            prepared, entries, count, threshold=threshold, skip=skip, weights=weights, progress=progress
        )
    else:
        report = _in_thousandths(progress)
        parts = [
            _compare_part(
                prepared, entries, 0, 1, threshold=threshold, skip=skip, weights=weights, report=report
            )
        ]
    found: dict[tuple[int, int], Match] = {}
    for part in parts:
        found.update(part.found)
        stats.blocks += part.blocks
        stats.oversized_blocks += part.oversized_blocks
        stats.compared += part.compared
    if progress is not None:
        progress(1000, 1000)
    stats.found = len(found)
    return sorted(found.values(), key=lambda m: (m.first_id, m.second_id)), stats


def baseline_duplicates(people: Iterable[Person]) -> list[tuple[int, int]]:
    """The simple rule to beat: the same identity number, or the same head's and father's names
    (folded, nothing else) in the same district."""
    by_document: dict[tuple[str, str], list[int]] = {}
    by_names: dict[tuple[str, str, str], list[int]] = {}
    for person in people:
        if person.document:
            by_document.setdefault((person.document_type, person.document), []).append(person.id)
        by_names.setdefault((person.district, fold(person.head), fold(person.father)), []).append(person.id)
    pairs: set[tuple[int, int]] = set()
    for group in [*by_document.values(), *by_names.values()]:
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                pairs.add((min(first, second), max(first, second)))
    return sorted(pairs)
