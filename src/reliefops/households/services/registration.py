"""Registering households: checking a form, file row or API request, and writing it once.

`household_check` turns what a person typed into a `Draft` (typed, normalised values) or a list of
Problems, each naming its field; `household_register` writes a draft after likely duplicates have
been shown; `households_register_many` writes a checked file's drafts in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from reliefops.core.errors import Conflict, InvalidInput, Problem
from reliefops.core.locks import transaction_lock
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted, day_text
from reliefops.households.cells import too_long, value_holds
from reliefops.households.identity import (
    NUMBERED_ONCE,
    DocumentRefused,
    DocumentType,
    normalise_document,
    normalise_phone,
)
from reliefops.households.matching import Match, Person, find_duplicates, prepare
from reliefops.households.models import (
    MEMBER_NAMES,
    OTHER_VULNERABILITY_MAX,
    DuplicatePair,
    ElevationBand,
    HouseDamage,
    Household,
    HouseholdStatus,
    MatchKey,
    PairStatus,
    Sex,
)
from reliefops.households.origins import AreaTree, Origin
from reliefops.households.selectors import (
    likely_duplicates,
    matchable_households,
    matching_person,
    store_match_keys,
)
from reliefops.places.models import Site, SiteKind

NAME_MAX = 120
# A registration's texts as a refusal of their length names them.
TEXTS = {
    "head_name": "the head's name",
    "father_or_husband_name": "the father's or husband's name",
    "origin_village": "the village",
    "other_vulnerability": "other vulnerability",
}
MEMBERS_MAX = 40  # in one age band: more is a typing error, not a family


def matching_lock() -> None:
    """Make this transaction follow every other that seeks likely duplicates or writes blocking
    keys (a registration, a file's commit, a correction, a merge, an anonymisation, a rebuild of the
    keys): on PostgreSQL, where transactions do not see each other's writes before they commit, each
    then reads what the one before it wrote. Taken first in the transaction, before any row lock."""
    transaction_lock("households.matching")


@dataclass(frozen=True)
class HouseholdInput:
    """A household as a person gave it (form, API, file row): text and numbers, unchecked."""

    head_name: str
    father_or_husband_name: str
    head_sex: str
    document_type: str
    document_number: str
    members: Mapping[str, int | None]
    origin: str
    house_damage: str
    consent: bool | None
    origin_village: str = ""
    phone: str = ""
    current_site: str = ""
    elevation_band: str = ""
    elderly_headed: bool = False
    disabled_member: bool = False
    landless: bool = False
    other_vulnerability: str = ""
    registered_on: dt.date | None = None


@dataclass(frozen=True)
class Draft:
    """A checked household, ready to write."""

    head_name: str
    father_or_husband_name: str
    head_sex: str
    document_type: str
    document_number: str
    phone: str
    members: tuple[int, ...]
    origin: Origin
    origin_village: str
    current_site_id: int | None
    house_damage: str
    elevation_band: str
    elderly_headed: bool
    disabled_member: bool
    landless: bool
    other_vulnerability: str
    registered_on: dt.date

    def person(self, household_id: int = 0) -> Person:
        return Person(
            id=household_id,
            head=self.head_name,
            father=self.father_or_husband_name,
            sex=self.head_sex,
            document_type=self.document_type,
            document=self.document_number,
            phone=self.phone,
            district=self.origin.district_pcode,
            area=self.origin.pcode,
            village=self.origin_village,
            members=self.members,
            site_id=self.current_site_id,
            tehsil=self.origin.tehsil_pcode,
        )

    def fields(self) -> dict[str, Any]:
        return {
            "head_name": self.head_name,
            "father_or_husband_name": self.father_or_husband_name,
            "head_sex": self.head_sex,
            "document_type": self.document_type,
            "document_number": self.document_number,
            "phone": self.phone,
            **dict(zip(MEMBER_NAMES, self.members, strict=True)),
            "size": sum(self.members),
            "origin_area_id": self.origin.area_id,
            "origin_district_id": self.origin.district_id,
            "origin_village": self.origin_village,
            "current_site_id": self.current_site_id,
            "house_damage": self.house_damage,
            "elevation_band": self.elevation_band,
            "elderly_headed": self.elderly_headed,
            "disabled_member": self.disabled_member,
            "landless": self.landless,
            "other_vulnerability": self.other_vulnerability,
            "consent_given_on": self.registered_on,
            "registered_on": self.registered_on,
        }


@dataclass
class Lookups:
    """What checking needs from the database, loaded once for a whole file."""

    areas: AreaTree
    camps: dict[str, Site]

    @classmethod
    def load(cls) -> Lookups:
        camps = Site.objects.filter(kind=SiteKind.CAMP).select_related("admin_area")
        return cls(areas=AreaTree.load(), camps={site.code.upper(): site for site in camps})


def _name(value: str, field: str, row: int | None, problems: list[Problem], *, required: bool) -> str:
    text = " ".join(value.split())
    if not text:
        if required:
            problems.append(Problem(row, field, "required"))
        return ""
    if len(text) > NAME_MAX:
        problems.append(Problem(row, field, too_long(TEXTS[field], NAME_MAX)))
    elif not any(c.isalpha() for c in text):
        problems.append(Problem(row, field, "a name has letters"))
    return text


def _choice(value: str, choices: Iterable[str], field: str, row: int | None, problems: list[Problem]) -> str:
    text = value.strip().lower().replace(" ", "_").replace("-", "_")
    allowed = list(choices)
    if text not in allowed:
        # The value is not quoted: a file's columns out of order put a name or a phone here.
        shown = ", ".join(c for c in allowed if c) + (" or empty" if "" in allowed else "")
        # A file's row is numbered: its value is a cell's.
        problems.append(
            Problem(row, field, f"not one of {shown} ({value_holds(value, in_file=row is not None)})")
        )
        return ""
    return text


def member_count_problem(count: object) -> str:
    """Why a member count is refused, without repeating it (a phone in a count's column is a number)."""
    if isinstance(count, bool) or not isinstance(count, int):
        return f"a whole number from 0 to {MEMBERS_MAX}; this is not a whole number"
    if count < 0:
        return f"a whole number from 0 to {MEMBERS_MAX}; this one is below 0"
    return f"a whole number from 0 to {MEMBERS_MAX}; this one is larger (a count of one age band)"


def registration_day_problem(day: dt.date) -> str | None:
    """Why a registration date is refused, or None: a household is registered from the operation's
    first day (RELIEFOPS_OPERATION_START) to today, never before the disaster or in the future."""
    start: dt.date = settings.OPERATION_START
    today = timezone.localdate()
    if start <= day <= today:
        return None
    why = "before the operation began" if day < start else "in the future"
    return (
        f"a day from {day_text(start)}, the operation's first day, to today, {day_text(today)}; "
        f"{day_text(day)} is {why}"
    )


def household_check(
    data: HouseholdInput, *, lookups: Lookups, row: int | None = None, registered_on_kept: bool = False
) -> tuple[Draft | None, list[Problem]]:
    """Check one household; every problem names its field (and the row of a file).

    `registered_on_kept`: the registration date is the one stored (a correction, which cannot
    change it), not checked again against the operation's days."""
    in_file = row is not None  # a refusal calls the value a cell of a file's row, a value otherwise
    problems: list[Problem] = []
    head = _name(data.head_name, "head_name", row, problems, required=True)
    father = _name(data.father_or_husband_name, "father_or_husband_name", row, problems, required=False)
    sex = _choice(data.head_sex, Sex.values, "head_sex", row, problems)

    document_type = data.document_type.strip().lower().replace(" ", "_") or DocumentType.NONE
    document_number = ""
    try:
        document_number = normalise_document(document_type, data.document_number, in_file=in_file)
    except DocumentRefused as exc:
        field = "document_type" if document_type not in DocumentType.values else "document_number"
        problems.append(Problem(row, field, str(exc)))
    phone = ""
    try:
        phone = normalise_phone(data.phone)
    except DocumentRefused as exc:
        problems.append(Problem(row, "phone", str(exc)))

    members: list[int] = []
    for name in MEMBER_NAMES:
        count = data.members.get(name) or 0
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > MEMBERS_MAX:
            problems.append(Problem(row, name, member_count_problem(count)))
            count = 0
        members.append(count)
    if sum(members) == 0 and not any(p.field in MEMBER_NAMES for p in problems):
        problems.append(Problem(row, "members", "a household has at least one member: count the head too"))

    origin, why = lookups.areas.resolve(data.origin, in_file=in_file)
    if origin is None:
        problems.append(Problem(row, "origin", why))
    village = " ".join(data.origin_village.split())
    if len(village) > NAME_MAX:
        problems.append(Problem(row, "origin_village", too_long(TEXTS["origin_village"], NAME_MAX)))

    site_id: int | None = None
    site_code = data.current_site.strip().upper()
    if site_code and site_code not in {"HOME", "AT HOME"}:
        camp = lookups.camps.get(site_code)
        if camp is None:
            problems.append(
                Problem(
                    row,
                    "current_site",
                    "not the code of a camp; leave it empty for a household at home "
                    f"({value_holds(data.current_site, in_file=in_file)})",
                )
            )
        elif not camp.is_active:
            problems.append(Problem(row, "current_site", f"{camp.name} is closed"))
        else:
            site_id = camp.pk

    damage = _choice(data.house_damage, HouseDamage.values, "house_damage", row, problems)
    band = _choice(data.elevation_band, ElevationBand.values, "elevation_band", row, problems)
    other = " ".join(data.other_vulnerability.split())
    if len(other) > OTHER_VULNERABILITY_MAX:
        refused = too_long(TEXTS["other_vulnerability"], OTHER_VULNERABILITY_MAX)
        problems.append(Problem(row, "other_vulnerability", refused))
    if data.consent is not True:
        problems.append(
            Problem(
                row,
                "consent",
                "the head must agree to the use of the data before it is recorded; "
                "without consent, serve the household without registering it",
            )
        )
    registered_on = data.registered_on or timezone.localdate()
    if not registered_on_kept and (why_not := registration_day_problem(registered_on)):
        problems.append(Problem(row, "registered_on", why_not))
    if problems or origin is None:
        return None, problems
    return (
        Draft(
            head_name=head,
            father_or_husband_name=father,
            head_sex=sex,
            document_type=document_type,
            document_number=document_number,
            phone=phone,
            members=tuple(members),
            origin=origin,
            origin_village=village,
            current_site_id=site_id,
            house_damage=damage,
            elevation_band=band,
            elderly_headed=bool(data.elderly_headed),
            disabled_member=bool(data.disabled_member),
            landless=bool(data.landless),
            other_vulnerability=other,
            registered_on=registered_on,
        ),
        [],
    )


def document_key(data: HouseholdInput) -> tuple[str, str] | None:
    """The (type, number) of a CNIC or old NIC as stored, held to one household; None for another
    document, none, or a number that is refused (its problem says why)."""
    document_type = data.document_type.strip().lower().replace(" ", "_") or DocumentType.NONE
    if document_type not in NUMBERED_ONCE:
        return None
    try:
        return document_type, normalise_document(document_type, data.document_number)
    except DocumentRefused:
        return None


def document_holder(document_type: str, number: str, *, exclude_id: int | None = None) -> int | None:
    """The active household that holds an identity document, if any."""
    if document_type not in NUMBERED_ONCE or not number:
        return None
    found = Household.objects.filter(
        status=HouseholdStatus.ACTIVE, document_type=document_type, document_number=number
    )
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.values_list("pk", flat=True).first()


class DuplicatesFound(Conflict):
    """Likely duplicates that the person registering has not yet been shown; nothing was written."""

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches
        listed = ", ".join(f"household {m.first_id or m.second_id} (score {m.score})" for m in matches)
        super().__init__(
            f"{counted(len(matches), 'likely duplicate')} already registered: {listed}. "
            "Check them; if this is another household, register it again naming them as seen."
        )


@dataclass(frozen=True)
class RegistrationResult:
    household: Household
    duplicates: list[Match] = field(default_factory=list)
    replayed: bool = False

    @property
    def message(self) -> str:
        if self.replayed:
            return f"Household {self.household.pk} was already registered with this key: nothing changed."
        text = f"Registered household {self.household.pk}."
        if self.duplicates:
            text += f" {counted(len(self.duplicates), 'likely duplicate')} went to the review queue."
        return text


def held_document_problems(
    data: HouseholdInput, *, row: int | None = None, exclude_id: int | None = None
) -> list[Problem]:
    """The problem of an identity document registered to another household, read from what was
    sent, for a household refused for other problems too: every problem is named at once, instead
    of this one only after the others are mended."""
    document_type = data.document_type.strip().lower().replace(" ", "_") or DocumentType.NONE
    if document_type not in DocumentType.values:
        return []
    try:
        number = normalise_document(document_type, data.document_number)
    except DocumentRefused:
        return []
    holder = document_holder(document_type, number, exclude_id=exclude_id)
    if holder is None:
        return []
    label = DocumentType(document_type).label
    return [Problem(row, "document_number", f"this {label} is already registered to household {holder}")]


def household_problems(data: HouseholdInput) -> list[Problem]:
    """Every problem a registration of these values would be refused for, an identity document
    registered to another household among them, without registering anything: a form that refuses
    some fields itself names the others' problems with them, all to be mended at once."""
    _, problems = household_check(data, lookups=Lookups.load())
    return problems + held_document_problems(data)


def _refuse_held_document(draft: Draft, row: int | None = None) -> None:
    holder = document_holder(draft.document_type, draft.document_number)
    if holder is not None:
        label = DocumentType(draft.document_type).label
        raise InvalidInput(
            [Problem(row, "document_number", f"this {label} is already registered to household {holder}")],
            summary="the identity document is already registered; nothing was written",
        )


def household_register(
    *,
    actor: Any,
    data: HouseholdInput,
    duplicates_seen: Sequence[int] = (),
    idempotency_key: str | None = None,
) -> RegistrationResult:
    """Register a household once: its identity document unused, its likely duplicates shown first.

    Likely duplicates not named in `duplicates_seen` refuse the registration (DuplicatesFound, with
    the matches to show); named ones are queued for review with the new household.
    """
    replay = _registered_with(idempotency_key)
    if replay is not None:
        return _replayed(replay, data)
    draft, problems = household_check(data, lookups=Lookups.load())
    if draft is None:
        raise InvalidInput(problems + held_document_problems(data))
    try:
        with transaction.atomic():
            # A look-alike registered at the same moment is committed before this one reads.
            matching_lock()
            try:
                _refuse_held_document(draft)
                matches = likely_duplicates(draft.person())
                unseen = [m for m in matches if m.second_id not in set(duplicates_seen)]
                if unseen:
                    # A household registered with the document since the check above (committed
                    # meanwhile) is a refusal, not a likely duplicate to confirm.
                    _refuse_held_document(draft)
                    raise DuplicatesFound(unseen)
            except (InvalidInput, DuplicatesFound):
                # The same form sent twice (a double click): the first submission, committed since
                # its key was looked up above, now holds the document or looks like this one. The
                # second replays it rather than refuse the household it just registered.
                replay = _registered_with(idempotency_key)
                if replay is not None:
                    return _replayed(replay, data)
                raise
            household = Household.objects.create(
                **draft.fields(), registered_by=stored_user(actor), idempotency_key=idempotency_key or None
            )
            store_match_keys([household.pk])
            queued = _queue_pairs(household.pk, matches)
            audit_record(
                actor=actor,
                action="household.register",
                object_type="household",
                object_id=household.pk,
                after={
                    "origin": draft.origin.pcode,
                    "size": sum(draft.members),
                    "duplicates_seen": sorted(m.second_id for m in matches),
                    "pairs_queued": queued,
                },
            )
    except IntegrityError as exc:
        replay = _registered_with(idempotency_key)
        if replay is not None:
            return _replayed(replay, data)
        # Another registration of the same document committed between the check and the insert.
        _refuse_held_document(draft)
        raise Conflict("the household could not be registered; try again") from exc
    return RegistrationResult(household, duplicates=matches)


def _replayed(household: Household, data: HouseholdInput) -> RegistrationResult:
    """The first result of a repeated key (a double click, a client's retry). A key that registered
    a household of another head is refused: taken as a repeat, the household sent now would never be
    registered while the client believed it was. (Its name is not quoted back: the household's
    number says which.)"""
    if _plain(household.head_name) != _plain(data.head_name):
        raise Conflict(
            f"this idempotency key was used to register household {household.pk}; send a new key to "
            "register another household"
        )
    return RegistrationResult(household, replayed=True)


def _plain(name: str) -> str:
    return " ".join(str(name or "").split()).casefold()


def _registered_with(idempotency_key: str | None) -> Household | None:
    """The household a submission with this key registered, if one did."""
    if not idempotency_key:
        return None
    return Household.objects.filter(idempotency_key=idempotency_key).first()


def _queue_pairs(household_id: int, matches: Sequence[Match]) -> list[int]:
    """Queue a new household's likely duplicates for review (a draft's matches name it as 0);
    returns the other households, whether or not their pair was queued already."""
    pairs = []
    for match in matches:
        other = match.second_id if match.first_id in (0, household_id) else match.first_id
        first, second = sorted((household_id, other))
        pairs.append(
            DuplicatePair(first_id=first, second_id=second, score=match.score, reasons=list(match.reasons))
        )
    DuplicatePair.objects.bulk_create(pairs, ignore_conflicts=True)
    return sorted(p.second_id if p.first_id == household_id else p.first_id for p in pairs)


@dataclass(frozen=True)
class FileMatches:
    """The likely duplicates of a file's drafts, sought before any of them is written: each draft's
    matches in the registry (by the draft's position in the file's drafts), the pairs of drafts
    that look alike (positions, lower first), and the blocking keys of the registry that the
    drafts' keys met when the search began, as (household id, key's id): a household whose keys
    differ by the time the drafts are written changed meanwhile, and is sought again then."""

    registry: list[list[Match]]
    within: list[tuple[int, int, Match]]
    keys: frozenset[int]
    seen: frozenset[tuple[int, int]]


def file_matches(
    drafts: Sequence[tuple[int, Draft]],
    progress: Callable[[str, int, int], None] | None = None,
    *,
    limit: int = 10,
) -> FileMatches:
    """Seek the likely duplicates of a file's drafts: in the registry, one draft at a time (the
    check a registration makes), and among the drafts themselves (the batch method).

    This reads only. It is the long part of an import (about 10 ms a household), so it runs before
    the households are written: on SQLite, whose write lock stops every other writer, the lock is
    then held only while they are written (see `households_register_many`). `limit`: the most
    matches in the registry kept for each draft, likeliest first."""
    people = [draft.person() for _, draft in drafts]
    keys = frozenset(key for person in people for key in prepare(person).keys)
    # Taken first: whatever changes in the registry from now on is sought again when the file's
    # households are written.
    seen = frozenset(_registry_keys(keys))
    registry = []
    for done, person in enumerate(people):
        if progress:
            progress("looking for likely duplicates", done, len(drafts))
        registry.append(likely_duplicates(person, limit=limit))
    if progress:
        progress("looking for likely duplicates", len(drafts), len(drafts))
    # Drafts are named by -(position + 1), so that they cannot meet a household's id.
    found, _ = find_duplicates([draft.person(-(position + 1)) for position, (_, draft) in enumerate(drafts)])
    within = [(-match.second_id - 1, -match.first_id - 1, match) for match in found]
    return FileMatches(registry, within, keys, seen)


def _registry_keys(keys: Iterable[int]) -> set[tuple[int, int]]:
    """(household id, key's id) of the stored blocking keys among `keys`. A registration adds keys,
    a correction of what matching reads writes its household's keys again, a merge or an
    anonymisation removes them: each shows here as a difference."""
    wanted = sorted(set(keys))
    found: set[tuple[int, int]] = set()
    for start in range(0, len(wanted), IDS_AT_ONCE):
        part = wanted[start : start + IDS_AT_ONCE]
        found.update(MatchKey.objects.filter(key__in=part).values_list("household_id", "pk"))
    return found


def households_register_many(
    *,
    actor: Any,
    drafts: Sequence[tuple[int, Draft]],
    import_batch_id: int | None = None,
    matches: FileMatches | None = None,
) -> list[Household]:
    """Write checked drafts (with their file lines) in one transaction; refused all together if one
    identity document is held already. Likely duplicates go to the review queue.

    `matches` are the drafts' likely duplicates, sought by `file_matches` before the caller's
    transaction began (sought here, before this one, when not given)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for line, draft in drafts:
        if draft.document_type in NUMBERED_ONCE and draft.document_number:
            key = (draft.document_type, draft.document_number)
            if key in seen:
                problems.append(
                    Problem(line, "document_number", f"the same identity document as line {seen[key]}")
                )
            seen[key] = line
    if problems:
        raise InvalidInput(problems)
    if matches is None:
        matches = file_matches(drafts)
    with transaction.atomic():
        # Only the writing follows other registrations, not the seeking above: whatever was committed
        # since `file_matches` began shows as changed keys below, and is sought again.
        matching_lock()
        held = dict(
            Household.objects.filter(
                status=HouseholdStatus.ACTIVE,
                document_type__in=[t.value for t in NUMBERED_ONCE],
                document_number__in=[number for _, number in seen],
            ).values_list("document_number", "pk")
        )
        for (kind, number), line in seen.items():
            if number in held:
                label = DocumentType(kind).label
                problems.append(
                    Problem(
                        line,
                        "document_number",
                        f"this {label} is already registered to household {held[number]}",
                    )
                )
        if problems:
            raise InvalidInput(problems)
        user = stored_user(actor)
        households = Household.objects.bulk_create(
            [
                Household(**draft.fields(), registered_by=user, import_batch_id=import_batch_id)
                for _, draft in drafts
            ]
        )
        if not all(h.pk for h in households):  # databases that return no ids from a bulk insert
            households = list(Household.objects.filter(import_batch_id=import_batch_id).order_by("pk"))
        ids = [h.pk for h in households]
        store_match_keys(ids)
        pending = DuplicatePair.objects.filter(status=PairStatus.PENDING).count()
        _queue_file_pairs(ids, matches)
        queued = DuplicatePair.objects.filter(status=PairStatus.PENDING).count() - pending
        audit_record(
            actor=actor,
            action="household.import",
            object_type="household_import",
            object_id=import_batch_id or "",
            after={"households": len(ids), "first_id": min(ids, default=None), "pairs_queued": queued},
        )
    return households


IDS_AT_ONCE = 5_000  # ids in one IN list (SQLite takes at most 32,766 parameters a statement)


def _queue_file_pairs(ids: Sequence[int], matches: FileMatches) -> None:
    """Queue for review the pairs of a file's new households (`ids`, in the drafts' order): those
    found before they were written, and those of households that changed meanwhile."""
    pairs: dict[tuple[int, int], DuplicatePair] = {}

    def add(one: int, other: int, match: Match) -> None:
        first, second = sorted((one, other))
        if (first, second) not in pairs:
            pairs[first, second] = DuplicatePair(
                first_id=first, second_id=second, score=match.score, reasons=list(match.reasons)
            )

    # A household registered, corrected, merged or anonymised while the file was matched (whatever
    # its id: on PostgreSQL ids are not given in the order transactions commit) shows as a change of
    # the blocking keys the file's keys meet. Its matches found then are dropped; it is sought again
    # below, the file's own keys being stored now.
    new = set(ids)
    now = {(household, key) for household, key in _registry_keys(matches.keys) if household not in new}
    changed = {household for household, _ in now ^ matches.seen}
    # A household found then may have been withdrawn or anonymised since: it is no longer sought.
    others = sorted({match.second_id for found in matches.registry for match in found} - changed)
    still: set[int] = set()
    for start in range(0, len(others), IDS_AT_ONCE):
        part = others[start : start + IDS_AT_ONCE]
        still.update(matchable_households().filter(pk__in=part).values_list("pk", flat=True))
    for position, found in enumerate(matches.registry):
        for match in found:
            if match.second_id in still:
                add(ids[position], match.second_id, match)
    for one, other, match in matches.within:
        add(ids[one], ids[other], match)
    changed_ids = sorted(changed)
    for start in range(0, len(changed_ids), IDS_AT_ONCE):
        part = changed_ids[start : start + IDS_AT_ONCE]
        for pk in matchable_households().filter(pk__in=part).values_list("pk", flat=True):
            for match in likely_duplicates(matching_person(Household(pk=pk))):
                other = match.second_id if match.first_id == pk else match.first_id
                if other in new:
                    add(pk, other, match)
    DuplicatePair.objects.bulk_create(list(pairs.values()), ignore_conflicts=True, batch_size=IDS_AT_ONCE)


def household_keys_rebuild() -> int:
    """Recompute every active household's blocking keys (after a change of the matching method)."""
    with transaction.atomic():
        matching_lock()
        MatchKey.objects.all().delete()
        ids = list(
            Household.objects.filter(status=HouseholdStatus.ACTIVE, anonymised_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        store_match_keys(ids)
    return len(ids)
