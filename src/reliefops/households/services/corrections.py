"""Correcting a registered household: a mistyped CNIC, a child not counted, the wrong village.

A correction is checked as a registration is (`household_check`): the identity number normalised
and not held by another active household, the origin a known P-code or name. When a field that
duplicate detection reads changes, the likely duplicates are shown before anything is saved, as at
registration. Each correction is kept (`HouseholdCorrection`: who, when, why, which fields) and is
an audit event that names the fields changed; the old and new values of personal fields (names,
identity number, phone, village) are written to neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from reliefops.core.errors import Conflict, InvalidInput, NotFound, Problem
from reliefops.core.services import audit_record, stored_user
from reliefops.core.text import counted
from reliefops.households.cells import json_kind
from reliefops.households.identity import DocumentType
from reliefops.households.matching import Match
from reliefops.households.models import (
    MEMBER_FIELDS,
    MEMBER_NAMES,
    PERSONAL_FIELDS,
    DuplicatePair,
    Entitlement,
    Handover,
    Household,
    HouseholdCorrection,
    HouseholdStatus,
    MatchKey,
    RoundStatus,
)
from reliefops.households.selectors import eligible_households, likely_duplicates, store_match_keys
from reliefops.households.services.registration import (
    Draft,
    DuplicatesFound,
    HouseholdInput,
    Lookups,
    _queue_pairs,
    document_holder,
    held_document_problems,
    household_check,
    matching_lock,
)

REASON_MAX = 200

# What a correction may change, by the name a form, request or command gives it.
CORRECTABLE = (
    "head_name",
    "father_or_husband_name",
    "head_sex",
    "document_type",
    "document_number",
    "phone",
    "members",
    "origin",
    "origin_village",
    "current_site",
    "house_damage",
    "elevation_band",
    "elderly_headed",
    "disabled_member",
    "landless",
    "other_vulnerability",
)
# Fields whose values never go to the audit trail: only their names do.
PERSONAL = PERSONAL_FIELDS
# Fields that duplicate detection reads: changing one of them runs the duplicate check again.
MATCHED = frozenset(
    {
        "head_name",
        "father_or_husband_name",
        "head_sex",
        "document_type",
        "document_number",
        "phone",
        "origin",
        "origin_village",
        "current_site",
        *MEMBER_NAMES,
    }
)
# Every stored field a correction may change, in the order forms show them, with its label.
LABELS: dict[str, str] = {
    "head_name": "head's name",
    "father_or_husband_name": "father's or husband's name",
    "head_sex": "head's sex",
    "document_type": "identity document",
    "document_number": "document number",
    "phone": "phone",
    **{name: label.lower() for name, label in MEMBER_FIELDS},
    "origin": "origin",
    "origin_village": "village",
    "current_site": "where it lives",
    "house_damage": "house damage",
    "elevation_band": "elevation",
    "elderly_headed": "elderly-headed",
    "disabled_member": "disabled member",
    "landless": "landless",
    "other_vulnerability": "other vulnerability",
}
FIELD_ORDER = tuple(LABELS)
# The columns each correctable field is stored in (the others are stored under their own name).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "origin": ("origin_area_id", "origin_district_id"),
    "current_site": ("current_site_id",),
    **{name: (name, "size") for name in MEMBER_NAMES},
}


def _current_input(household: Household) -> HouseholdInput:
    """The household as registered, in the shape a person gives it."""
    return HouseholdInput(
        head_name=household.head_name,
        father_or_husband_name=household.father_or_husband_name,
        head_sex=household.head_sex,
        document_type=household.document_type,
        document_number=household.document_number,
        phone=household.phone,
        members=dict(zip(MEMBER_NAMES, household.members, strict=True)),
        origin=household.origin_area.pcode,
        origin_village=household.origin_village,
        current_site=household.current_site.code if household.current_site else "",
        house_damage=household.house_damage,
        elevation_band=household.elevation_band,
        elderly_headed=household.elderly_headed,
        disabled_member=household.disabled_member,
        landless=household.landless,
        other_vulnerability=household.other_vulnerability,
        consent=True,  # given at registration; a correction does not ask again
        registered_on=household.registered_on,
    )


def _corrected_input(
    current: HouseholdInput, changes: Mapping[str, Any]
) -> tuple[HouseholdInput, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in CORRECTABLE:
            problems.append(
                Problem(None, name, f"cannot be corrected; the fields that can: {', '.join(CORRECTABLE)}")
            )
        elif name == "members":
            if not isinstance(value, Mapping):
                problems.append(Problem(None, "members", "the members by sex and age band"))
                continue
            unknown = [band for band in value if band not in MEMBER_NAMES]
            for band in unknown:
                problems.append(Problem(None, band, "not an age band: " + ", ".join(MEMBER_NAMES)))
            values["members"] = {**current.members, **{k: v for k, v in value.items() if k in MEMBER_NAMES}}
        elif name in {"elderly_headed", "disabled_member", "landless"}:
            if not isinstance(value, bool):
                problems.append(Problem(None, name, f"yes or no (true or false), not {json_kind(value)}"))
                continue
            values[name] = value
        else:
            if value is None:
                value = ""
            if not isinstance(value, str):
                problems.append(Problem(None, name, f"text, not {json_kind(value)}"))
                continue
            values[name] = value
    # A document type changed to "none" without a number given clears the number.
    if (
        values.get("document_type", "").strip().lower() == DocumentType.NONE
        and "document_number" not in values
    ):
        values["document_number"] = ""
    return replace(current, **values), problems


def _changed_fields(household: Household, stored: Mapping[str, Any]) -> list[str]:
    """The correctable fields whose stored value differs, in the order forms show them."""
    return [
        name
        for name in FIELD_ORDER
        if getattr(household, _COLUMNS.get(name, (name,))[0]) != stored[_COLUMNS.get(name, (name,))[0]]
    ]


def _shown(household: Household, name: str) -> Any:
    """A non-personal field's value as the audit trail records it."""
    if name == "origin":
        return household.origin_area.pcode
    if name == "current_site":
        return household.current_site.code if household.current_site else "at home"
    return getattr(household, name)


@dataclass(frozen=True)
class CorrectionResult:
    household: Household
    fields: list[str] = field(default_factory=list)
    correction: HouseholdCorrection | None = None
    duplicates: list[Match] = field(default_factory=list)
    entitlements_updated: list[str] = field(default_factory=list)
    no_longer_eligible: list[str] = field(default_factory=list)
    replayed: bool = False

    @property
    def message(self) -> str:
        pk = self.household.pk
        if self.replayed:
            return f"This correction of household {pk} was saved before: nothing changed."
        if not self.fields:
            return f"Household {pk} already reads so: nothing changed."
        text = f"Household {pk} corrected: {', '.join(LABELS[f] for f in self.fields)}."
        if self.duplicates:
            text += f" {counted(len(self.duplicates), 'likely duplicate')} went to the review queue."
        if self.entitlements_updated:
            text += (
                f" Its members now count in {_rounds(self.entitlements_updated)}, "
                "where it is listed and not yet served."
            )
        if self.no_longer_eligible:
            one = len(self.no_longer_eligible) == 1
            text += (
                f" It no longer meets the conditions of {_rounds(self.no_longer_eligible)}; "
                f"it stays on {'its list' if one else 'their lists'} until a manager of rounds takes it off "
                f"({'the' if one else 'each'} round's distribution list: Take a household off the list)."
            )
        return text


def _as_draft_match(household_id: int, match: Match) -> Match:
    """A match as registration shows it: the household being checked named 0, the other second."""
    other = match.second_id if match.first_id == household_id else match.first_id
    return Match(0, other, match.score, match.reasons)


def _reason_problems(why: str) -> list[Problem]:
    if not why:
        return [Problem(None, "reason", "say why the registration is corrected")]
    if len(why) > REASON_MAX:
        return [Problem(None, "reason", f"at most {REASON_MAX} characters")]
    return []


def _checked_correction(
    household: Household, changes: Mapping[str, Any]
) -> tuple[HouseholdInput, Draft | None, list[Problem], bool]:
    """The registration as the changes make it, checked as a registration is: its values, its
    draft (None when refused), its problems, and whether it keeps its camp as it is."""
    current = _current_input(household)
    if str(changes.get("current_site", "")).strip().upper() == current.current_site.upper() != "":
        changes = {k: v for k, v in changes.items() if k != "current_site"}  # unchanged
    data, problems = _corrected_input(current, changes)
    # A camp closed since the household moved there is no reason to refuse another change.
    kept_camp = "current_site" not in changes and household.current_site is not None
    draft, checked = household_check(
        replace(data, current_site="") if kept_camp else data, lookups=Lookups.load(), registered_on_kept=True
    )
    return data, draft, problems + checked, kept_camp


def household_correction_problems(
    *, household_id: int, changes: Mapping[str, Any], reason: str
) -> list[Problem]:
    """Every problem a correction with these changes would be refused for, an identity document
    registered to another household among them, without changing anything: a form that refuses
    some fields itself names the others' problems with them, all to be mended at once."""
    household = (
        Household.objects.select_related("origin_area", "current_site").filter(pk=household_id).first()
    )
    if household is None:
        return []
    data, _, problems, _ = _checked_correction(household, changes)
    return (
        _reason_problems(" ".join(reason.split()))
        + problems
        + held_document_problems(data, exclude_id=household.pk)
    )


def household_update(
    *,
    actor: Any,
    household_id: int,
    changes: Mapping[str, Any],
    reason: str,
    duplicates_seen: Sequence[int] = (),
    idempotency_key: str | None = None,
) -> CorrectionResult:
    """Correct an active household's registration, checked as a registration is, with a reason.

    Likely duplicates that the new values bring up and that are not named in `duplicates_seen`
    refuse the correction (DuplicatesFound, with the matches to show); named ones are queued for
    review. Values equal to those stored change nothing, and a repeated key replays the first result.
    """
    if idempotency_key:
        done = HouseholdCorrection.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            return _replayed(done, household_id)
    why = " ".join(reason.split())
    problems = _reason_problems(why)
    draft: Draft | None = None
    try:
        with transaction.atomic():
            if any(name in MATCHED or name == "members" for name in changes):
                # Taken before the household's row lock: a registration that holds it may be waiting
                # for that row (to queue a pair with the household).
                matching_lock()
            household = (
                Household.objects.select_for_update(of=("self",))
                .select_related("origin_area", "current_site")
                .filter(pk=household_id)
                .first()
            )
            if household is None:
                raise NotFound(f"no household {household_id}")
            if idempotency_key:
                # The same submission sent twice at once: the other one held the household's row
                # until it committed its correction, which is read again now, before any value is.
                done = HouseholdCorrection.objects.filter(idempotency_key=idempotency_key).first()
                if done is not None:
                    return _replayed(done, household_id)
            if household.status == HouseholdStatus.MERGED:
                raise Conflict(
                    f"household {household.pk} was merged into household {household.merged_into_id}: "
                    f"correct household {household.merged_into_id} instead"
                )
            if household.anonymised_at is not None:
                raise Conflict(
                    f"household {household.pk} was anonymised past the retention period: "
                    "its registration can no longer be corrected"
                )
            data, draft, checked, kept_camp = _checked_correction(household, changes)
            problems += checked
            if problems:
                problems += held_document_problems(data, exclude_id=household.pk)
            if problems or draft is None:
                summary = f"{counted(len(problems), 'problem')}; the correction was refused"
                raise InvalidInput(problems, summary=f"{summary} and nothing was changed")
            if kept_camp:
                draft = replace(draft, current_site_id=household.current_site_id)
            stored = draft.fields()
            changed = _changed_fields(household, stored)
            if not changed:
                return CorrectionResult(household)
            _refuse_held(draft, household.pk)
            matches: list[Match] = []
            known: set[int] = set()
            if MATCHED & set(changed):
                paired = DuplicatePair.objects.filter(Q(first=household) | Q(second=household))
                known = {pk for pair in paired.values_list("first_id", "second_id") for pk in pair}
                matches = [
                    _as_draft_match(household.pk, m) for m in likely_duplicates(draft.person(household.pk))
                ]
                seen = set(duplicates_seen)
                unseen = [m for m in matches if m.second_id not in seen and m.second_id not in known]
                if unseen:
                    # A household that took the document since the check above (another correction
                    # committed meanwhile) is a refusal, not a likely duplicate to confirm.
                    _refuse_held(draft, household.pk)
                    raise DuplicatesFound(unseen)
            before = {name: _shown(household, name) for name in changed if name not in PERSONAL}
            columns = sorted({column for name in changed for column in _COLUMNS.get(name, (name,))})
            for column in columns:
                setattr(household, column, stored[column])
            household.save(update_fields=columns)
            household.refresh_from_db()
            if MATCHED & set(changed):
                MatchKey.objects.filter(household=household).delete()
                store_match_keys([household.pk])
            # Only the pairs not in the queue already are queued now, and said to be.
            matches = [m for m in matches if m.second_id not in known]
            queued = _queue_pairs(household.pk, matches) if matches else []
            updated, ineligible = _follow_rounds(household, size_changed="size" in columns)
            correction = HouseholdCorrection.objects.create(
                household=household,
                corrected_by=stored_user(actor),
                reason=why,
                fields=changed,
                idempotency_key=idempotency_key or None,
            )
            audit_record(
                actor=actor,
                action="household.correct",
                object_type="household",
                object_id=household.pk,
                before=before,
                after={
                    **{name: _shown(household, name) for name in changed if name not in PERSONAL},
                    "fields": changed,
                    "personal_fields": [name for name in changed if name in PERSONAL],
                    "reason": why,
                    "correction": correction.pk,
                    "pairs_queued": queued,
                    "entitlements_updated": updated,
                    "no_longer_eligible": ineligible,
                },
            )
    except IntegrityError as exc:
        if idempotency_key:
            done = HouseholdCorrection.objects.filter(idempotency_key=idempotency_key).first()
            if done is not None:
                return _replayed(done, household_id)
        if draft is not None:
            # Another household took the identity document between the check and the write.
            _refuse_held(draft, household_id)
        raise Conflict("the household was changed by someone else at the same moment; try again") from exc
    return CorrectionResult(
        household,
        changed,
        correction,
        duplicates=matches,
        entitlements_updated=updated,
        no_longer_eligible=ineligible,
    )


def _refuse_held(draft: Draft, household_id: int) -> None:
    holder = document_holder(draft.document_type, draft.document_number, exclude_id=household_id)
    if holder is not None:
        label = DocumentType(draft.document_type).label
        raise InvalidInput(
            [Problem(None, "document_number", f"this {label} is already registered to household {holder}")],
            summary="the identity document is registered to another household; nothing was changed",
        )


def _replayed(done: HouseholdCorrection, household_id: int) -> CorrectionResult:
    """The first result of a repeated key; a key that corrected another household is refused."""
    if done.household_id != household_id:
        raise Conflict(
            f"this idempotency key was used for a correction of household {done.household_id}; "
            f"send a new key to correct household {household_id}"
        )
    household = Household.objects.select_related("origin_area", "current_site").get(pk=done.household_id)
    return CorrectionResult(household, list(done.fields), done, replayed=True)


def _follow_rounds(household: Household, *, size_changed: bool) -> tuple[list[str], list[str]]:
    """Bring the household's places on the lists of rounds not closed up to date with the correction:
    a new size counts where it has not been served yet; a round whose conditions it no longer
    meets, and where it has not been served, is named (a person decides). Returns the codes of both
    kinds of round."""
    listed = (
        Entitlement.objects.select_for_update(of=("self",))
        .filter(household=household, cancelled_at__isnull=True)
        .exclude(round__status=RoundStatus.CLOSED)
        .select_related("round")
        .order_by("round__code")
    )
    served = set(Handover.objects.filter(household=household).values_list("round_id", flat=True))
    updated: list[str] = []
    ineligible: list[str] = []
    for entitlement in listed:
        if size_changed and entitlement.round_id not in served and entitlement.members != household.size:
            entitlement.members = household.size
            entitlement.save(update_fields=["members"])
            updated.append(entitlement.round.code)
        # Named only where it was not served: a round where it received (some of) its package keeps
        # it on the list, and no manager of rounds can take it off there.
        if (
            entitlement.round_id not in served
            and not eligible_households(entitlement.round).filter(pk=household.pk).exists()
        ):
            ineligible.append(entitlement.round.code)
    return updated, ineligible


def _rounds(codes: list[str]) -> str:
    """ "round WR-1" or "rounds WR-1, CAMP-2006"."""
    return f"round{'' if len(codes) == 1 else 's'} {', '.join(codes)}"
