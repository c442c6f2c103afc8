"""Request and response shapes of the households API (django-ninja, Pydantic v2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from reliefops.core.api import BodyIn, Day, ErrorOut
from reliefops.households.cards import TYPED_MAX, printed
from reliefops.households.identity import format_document
from reliefops.households.models import (
    CARD_REASON_MAX,
    MEMBER_NAMES,
    OTHER_VULNERABILITY_MAX,
    Household,
)
from reliefops.households.services import HouseholdInput


class HouseholdMembersIn(BodyIn):
    females_0_5: int = Field(0, description="Girls aged 0 to 5.")
    males_0_5: int = Field(0, description="Boys aged 0 to 5.")
    females_6_17: int = Field(0, description="Girls aged 6 to 17.")
    males_6_17: int = Field(0, description="Boys aged 6 to 17.")
    females_18_59: int = Field(0, description="Women aged 18 to 59.")
    males_18_59: int = Field(0, description="Men aged 18 to 59.")
    females_60_plus: int = Field(0, description="Women aged 60 or more.")
    males_60_plus: int = Field(0, description="Men aged 60 or more.")


class HouseholdIn(BodyIn):
    head_name: str = Field(description="The head's name as the head gives it.")
    father_or_husband_name: str = Field("", description="The head's father's or husband's name.")
    head_sex: str = Field(description="`female` or `male`.")
    document_type: str = Field("none", description="`cnic`, `old_nic`, `other` or `none`.")
    document_number: str = Field("", description="A CNIC as `12345-1234567-1` or 13 digits.")
    phone: str = Field("", description="`0300-1234567` or `+92 300 1234567`.")
    members: HouseholdMembersIn = Field(description="Members by sex and age band, the head included.")
    elderly_headed: bool = Field(False, description="The head is elderly.")
    disabled_member: bool = Field(False, description="A member lives with a disability.")
    landless: bool = Field(False, description="The household owns no land.")
    other_vulnerability: str = Field(
        "", max_length=OTHER_VULNERABILITY_MAX, description="Another vulnerability, in a few words."
    )
    origin: str = Field(description="The lowest admin area of origin known: a P-code or a gazetteer name.")
    origin_village: str = Field("", description="The village of origin, as people name it.")
    current_site: str = Field("", description="The code of the camp it lives in; empty when at home.")
    house_damage: str = Field(description="`destroyed`, `damaged` or `none`.")
    elevation_band: str = Field("", description="`below_5000`, `5000_to_7000`, `above_7000` or empty.")
    consent: bool = Field(description="The head agreed to the use of the data; required to register.")
    registered_on: Day | None = Field(
        None,
        description="The day of registration (today when left out), from the operation's first day "
        "(RELIEFOPS_OPERATION_START) to today; another is refused (422).",
    )

    def to_input(self) -> HouseholdInput:
        data = self.model_dump(exclude={"duplicates_seen"})
        return HouseholdInput(**data)


class RegisterIn(HouseholdIn):
    duplicates_seen: list[int] = Field(
        default_factory=list,
        description="Ids of the likely duplicates shown (409) and judged to be other households.",
    )


class LikelyDuplicateOut(Schema):
    household_id: int = Field(description="The registered household it may be.")
    score: int = Field(description="0-100; 80 and above is a likely duplicate.")
    reasons: list[str] = Field(description="The evidence: same CNIC, same village, ...")
    head_name: str = Field("", description="That household's head.")
    father_or_husband_name: str = Field("", description="That household's father's or husband's name.")
    origin_village: str = Field("", description="That household's village of origin.")


class LikelyDuplicatesFoundOut(Schema):
    detail: str = Field(description="What went wrong, in one sentence.")
    duplicates: list[LikelyDuplicateOut] = Field(
        default_factory=list, description="The likely duplicates to look at; empty for other conflicts."
    )


class HouseholdCheckOut(Schema):
    problems: list[dict[str, Any]] = Field(description="Every refused value: `{row, field, reason}`.")
    duplicates: list[LikelyDuplicateOut] = Field(
        description="Likely duplicates already registered, best first."
    )


class HouseholdOut(Schema):
    """A household with its personal data (for roles that may see it)."""

    id: int = Field(description="The household's id.")
    head_name: str = Field(description="The head's name.")
    father_or_husband_name: str = Field(description="The head's father's or husband's name.")
    head_sex: str = Field(description="`female` or `male`.")
    document_type: str = Field(description="`cnic`, `old_nic`, `other` or `none`.")
    document_number: str = Field(description="As written on the card: `12345-1234567-1`.")
    phone: str = Field(description="In international form.")
    size: int = Field(description="Members in all.")
    members: dict[str, int] = Field(description="Members by sex and age band.")
    vulnerabilities: list[str] = Field(
        description="Female-headed, elderly-headed, disabled member, landless, other."
    )
    origin_pcode: str = Field(description="P-code of the lowest admin area of origin known.")
    origin_name: str = Field(description="Name of that area.")
    origin_village: str = Field(description="Village of origin.")
    current_site: str | None = Field(description="Code of the camp, or null when at home.")
    house_damage: str = Field(description="`destroyed`, `damaged` or `none`.")
    elevation_band: str = Field(
        description="`below_5000`, `5000_to_7000`, `above_7000` or empty when not known."
    )
    status: str = Field(description="`active`, or `merged` into another household.")
    merged_into: int | None = Field(description="The household it was merged into.")
    registered_on: dt.date = Field(description="The day it was registered.")
    anonymised: bool = Field(description="Its personal data was removed after the retention period.")

    @staticmethod
    def of(household: Household) -> HouseholdOut:
        return HouseholdOut(
            id=household.pk,
            head_name=household.head_name,
            father_or_husband_name=household.father_or_husband_name,
            head_sex=household.head_sex,
            document_type=household.document_type,
            document_number=format_document(household.document_type, household.document_number),
            phone=household.phone,
            size=household.size,
            members=dict(zip(MEMBER_NAMES, household.members, strict=True)),
            vulnerabilities=household.vulnerabilities,
            origin_pcode=household.origin_area.pcode,
            origin_name=household.origin_area.name,
            origin_village=household.origin_village,
            current_site=household.current_site.code if household.current_site else None,
            house_damage=household.house_damage,
            elevation_band=household.elevation_band,
            status=household.status,
            merged_into=household.merged_into_id,
            registered_on=household.registered_on,
            anonymised=household.anonymised_at is not None,
        )


class HouseholdPageOut(Schema):
    items: list[HouseholdOut] = Field(description="This page of households.")
    count: int = Field(description="How many households match, across all pages.")


class RegisteredOut(Schema):
    household: HouseholdOut = Field(description="The household as registered.")
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was registered now."
    )
    message: str = Field(description="What happened, in a sentence.")
    duplicates_queued: list[int] = Field(
        description="Households queued for review as likely duplicates of this one."
    )


class HouseholdMembersPatchIn(BodyIn):
    """The age bands to correct; a band left out keeps its count."""

    females_0_5: int | None = Field(None, description="Girls aged 0 to 5.")
    males_0_5: int | None = Field(None, description="Boys aged 0 to 5.")
    females_6_17: int | None = Field(None, description="Girls aged 6 to 17.")
    males_6_17: int | None = Field(None, description="Boys aged 6 to 17.")
    females_18_59: int | None = Field(None, description="Women aged 18 to 59.")
    males_18_59: int | None = Field(None, description="Men aged 18 to 59.")
    females_60_plus: int | None = Field(None, description="Women aged 60 or more.")
    males_60_plus: int | None = Field(None, description="Men aged 60 or more.")


class HouseholdCorrectionIn(BodyIn):
    """What to correct: only the fields given change; each is checked as at registration."""

    reason: str = Field(description="Why the registration is corrected (kept, and in the audit trail).")
    head_name: str | None = Field(None, description="The head's name.")
    father_or_husband_name: str | None = Field(None, description="The head's father's or husband's name.")
    head_sex: str | None = Field(None, description="`female` or `male`.")
    document_type: str | None = Field(
        None, description="`cnic`, `old_nic`, `other` or `none` (`none` clears the number)."
    )
    document_number: str | None = Field(None, description="A CNIC as `12345-1234567-1` or 13 digits.")
    phone: str | None = Field(None, description="`0300-1234567` or `+92 300 1234567`; empty clears it.")
    members: HouseholdMembersPatchIn | None = Field(None, description="The age bands to correct.")
    elderly_headed: bool | None = Field(None, description="The head is elderly.")
    disabled_member: bool | None = Field(None, description="A member lives with a disability.")
    landless: bool | None = Field(None, description="The household owns no land.")
    other_vulnerability: str | None = Field(
        None, max_length=OTHER_VULNERABILITY_MAX, description="Another vulnerability, in a few words."
    )
    origin: str | None = Field(None, description="The lowest admin area of origin known: P-code or name.")
    origin_village: str | None = Field(None, description="The village of origin.")
    current_site: str | None = Field(None, description="The code of the camp it lives in; empty: at home.")
    house_damage: str | None = Field(None, description="`destroyed`, `damaged` or `none`.")
    elevation_band: str | None = Field(
        None, description="`below_5000`, `5000_to_7000`, `above_7000` or empty."
    )
    duplicates_seen: list[int] = Field(
        default_factory=list,
        description="Ids of the likely duplicates shown (409) and judged to be other households.",
    )

    def changes(self) -> dict[str, Any]:
        """The fields given; null leaves a field as it is (an empty text clears it)."""
        given = self.model_dump(exclude_unset=True, exclude={"reason", "duplicates_seen"})
        if isinstance(given.get("members"), dict):
            given["members"] = {band: n for band, n in given["members"].items() if n is not None}
        return {name: value for name, value in given.items() if value is not None}


class HouseholdCorrectedOut(Schema):
    household: HouseholdOut = Field(description="The household as it now reads.")
    fields: list[str] = Field(description="The fields that changed (empty: it read so already).")
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was changed now."
    )
    message: str = Field(description="What happened, in a sentence.")
    duplicates_queued: list[int] = Field(
        description="Households queued for review as likely duplicates of the corrected one."
    )
    entitlements_updated: list[str] = Field(
        description="Rounds (codes) where its corrected members now count: listed, not yet served."
    )
    no_longer_eligible: list[str] = Field(
        description="Rounds (codes) whose conditions it no longer meets; it stays on their lists."
    )


class HouseholdCardIn(BodyIn):
    reason: str = Field(
        max_length=CARD_REASON_MAX, description="Why the card is replaced: lost, damaged, ..."
    )


class HouseholdCardOut(Schema):
    household_id: int = Field(description="The household's id.")
    token: str = Field(description="As printed: `K7M2-9QXD-A3`.")
    issued_at: dt.datetime = Field(description="When the card was issued.")
    replayed: bool = Field(
        False,
        description="True when the Idempotency-Key was used before: the card issued then, nothing changed.",
    )
    message: str = Field(description="What happened, in a sentence.")


class HouseholdImportIn(BodyIn):
    filename: str = Field(description="`households.csv` or `households.xlsx`: the suffix tells the format.")
    content_base64: str = Field(description="The file's bytes, base64-encoded.")


class HouseholdImportOut(Schema):
    id: int = Field(description="The import's id (commit it with this).")
    filename: str = Field(description="The uploaded file's name.")
    status: str = Field(description="`previewed` (ready), `refused` (problems) or `committed` (imported).")
    rows: int = Field(description="Households ready to import.")
    problems: list[dict[str, Any]] = Field(
        description="The file's problems, `{row, field, reason}`, by line; one refuses the file. At most the "
        "first 1,000, then one `{row: null, field: file, reason: '… and N more problems'}`."
    )
    problem_count: int = Field(0, description="How many problems the file has in all.")
    duplicates: list[dict[str, Any]] = Field(
        description="Likely duplicates by line: of a registered `household` or another line (`other_line`)."
    )
    same_file_as: int | None = Field(
        None,
        description="The id of an earlier import of the same file (the same content), imported already: "
        "this one is not imported again, and committing it changes nothing.",
    )
    created: int = Field(description="Households registered by the commit.")
    message: str = Field(description="What happened, in a sentence.")


class HouseholdImportRefusedOut(ErrorOut):
    import_id: int | None = Field(
        None,
        description="For a refused file, the id of its check, kept with its problems: "
        "`GET /api/households/imports/{id}` shows it again. It cannot be committed; correct the file and "
        "upload it again. Null when the request itself was refused (a missing field, not base64).",
    )
    problem_count: int | None = Field(
        None,
        description="For a refused file, how many problems it has in all (`problems` holds the first 1,000).",
    )


class DuplicatePairSide(Schema):
    id: int = Field(description="The household's id.")
    head_name: str = Field(description="The head's name.")
    father_or_husband_name: str = Field(description="The father's or husband's name.")
    document_number: str = Field(description="The identity number as written on the card.")
    phone: str = Field(description="In international form.")
    origin_pcode: str = Field(description="P-code of the area of origin.")
    origin_village: str = Field(description="Village of origin.")
    size: int = Field(description="Members in all.")


class DuplicatePairOut(Schema):
    id: int = Field(description="The pair's id (decide it with this).")
    score: int = Field(description="0-100; 80 and above is a likely duplicate.")
    reasons: list[str] = Field(description="The evidence for the pair.")
    status: str = Field(description="`pending`, `same` or `different`.")
    first: DuplicatePairSide = Field(description="The household with the lower id.")
    second: DuplicatePairSide = Field(description="The other household.")


class DuplicatePairPageOut(Schema):
    items: list[DuplicatePairOut] = Field(description="This page of the queue.")
    count: int = Field(description="Pairs waiting, across all pages.")


class PairDecisionIn(BodyIn):
    same: bool = Field(description="true: one household (give `survivor`); false: two different households.")
    survivor: int | None = Field(None, description="The household that stays when `same` is true.")


class PairDecisionOut(Schema):
    pair_id: int = Field(description="The pair decided.")
    status: str = Field(description="`same` or `different`.")
    replayed: bool = Field(description="True when it was decided so before: nothing changed.")
    message: str = Field(description="What happened, in a sentence.")


class RoundPointIn(BodyIn):
    site: str = Field(description="Code (or id) of a site that holds stock.")
    serves: str = Field("", description="P-code of the area it serves; the site's own area when empty.")


class RoundPackageLineIn(BodyIn):
    item: str = Field(description="Item code.")
    per_household: int = Field(0, description="Given to every household.")
    per_member: int = Field(0, description="Given for each member.")
    at_most: int | None = Field(None, description="A household's cap of this item.")


class RoundIn(BodyIn):
    code: str = Field(description="A short unique code, `WR-2005-1`.")
    name: str = Field(description="What the round is.")
    starts_on: Day = Field(description="First day of handovers.")
    ends_on: Day = Field(description="Last day of handovers.")
    points: list[RoundPointIn] = Field(description="The distribution points, each serving an area.")
    package: list[RoundPackageLineIn] = Field(description="What each household receives.")
    areas: list[str] = Field(default_factory=list, description="P-codes; households from any area below.")
    sites: list[str] = Field(default_factory=list, description="Camp codes; households living there.")
    living: str = Field("any", description="`any`, `home` or `camp`.")
    elevation_bands: list[str] = Field(
        default_factory=list, description="Only these bands (Winter Race: `5000_to_7000`, `above_7000`)."
    )
    vulnerabilities: list[str] = Field(default_factory=list, description="Any one of them.")
    house_damage: list[str] = Field(
        default_factory=list, description="Only households whose house is `destroyed`, `damaged` (or `none`)."
    )
    not_served_in: list[str] = Field(default_factory=list, description="Codes of earlier rounds.")
    note: str = Field("", description="Free-text note.")


class RoundPackageLineOut(Schema):
    item: str = Field(description="Item code.")
    per_household: int = Field(description="Given to every household.")
    per_member: int = Field(description="Given for each member.")
    at_most: int | None = Field(description="A household's cap of this item (null: none).")


class RoundPointOut(Schema):
    site: str = Field(description="The point's site code.")
    site_name: str = Field(description="The point's name.")
    serves: str = Field(description="P-code of the area it serves.")


class RoundOut(Schema):
    id: int = Field(description="The round's id.")
    code: str = Field(description="The round's code.")
    name: str = Field(description="What the round is.")
    starts_on: Day = Field(description="First day of handovers.")
    ends_on: Day = Field(description="Last day of handovers.")
    status: str = Field(description="`planned`, `open` or `closed`.")
    listed_at: dt.datetime | None = Field(description="When its distribution list was last made.")
    package: list[RoundPackageLineOut] = Field(description="What each household receives.")
    points: list[RoundPointOut] = Field(description="Its distribution points.")
    eligibility: dict[str, Any] = Field(description="Who is eligible: every condition given holds.")

    @staticmethod
    def of(round_obj: Any) -> RoundOut:
        return RoundOut(
            id=round_obj.pk,
            code=round_obj.code,
            name=round_obj.name,
            starts_on=round_obj.starts_on,
            ends_on=round_obj.ends_on,
            status=round_obj.status,
            listed_at=round_obj.listed_at,
            package=[
                RoundPackageLineOut(
                    item=line.item.code,
                    per_household=line.per_household,
                    per_member=line.per_member,
                    at_most=line.at_most,
                )
                for line in round_obj.package.select_related("item")
            ],
            points=[
                RoundPointOut(site=p.site.code, site_name=p.site.name, serves=p.serves_area.pcode)
                for p in round_obj.points.select_related("site", "serves_area")
            ],
            eligibility={
                "areas": sorted(round_obj.areas.values_list("pcode", flat=True)),
                "sites": sorted(round_obj.sites.values_list("code", flat=True)),
                "living": round_obj.living,
                "elevation_bands": round_obj.elevation_bands,
                "vulnerabilities": round_obj.vulnerabilities,
                "house_damage": round_obj.house_damage,
                "not_served_in": sorted(round_obj.not_served_in.values_list("code", flat=True)),
            },
        )


class RoundChangedOut(RoundOut):
    replayed: bool = Field(
        description="True when nothing changed now: the Idempotency-Key planned this round before, or "
        "the round had that status already."
    )
    message: str = Field(description="What happened, in a sentence.")

    @staticmethod
    def changed(round_obj: Any, *, replayed: bool, message: str) -> RoundChangedOut:
        return RoundChangedOut(**RoundOut.of(round_obj).model_dump(), replayed=replayed, message=message)


class RoundUnlistIn(BodyIn):
    household: int = Field(description="The household's id.")
    reason: str = Field(description="Why it is taken off the list (kept, and in the audit trail).")


class RoundUnlistedOut(Schema):
    round: str = Field(description="The round's code.")
    household_id: int = Field(description="The household taken off the list.")
    replayed: bool = Field(description="True when it was taken off before: nothing changed now.")
    message: str = Field(description="What happened, in a sentence.")


class RoundStatusIn(BodyIn):
    status: str = Field(description="`open` (after the list is made) or `closed` (final).")


class RoundListOut(Schema):
    added: int = Field(description="Households added to the list now.")
    already_listed: int = Field(description="Households listed before.")
    without_point: int = Field(description="Eligible households that no point of the round serves.")
    message: str = Field(description="What happened, in a sentence.")


class RoundCardsOut(Schema):
    issued: int = Field(description="Cards issued now.")
    message: str = Field(description="What happened, in a sentence.")


class DistributionListRowOut(Schema):
    """One listed household: names and card token only (no identity number, no phone)."""

    household_id: int = Field(description="The household's id.")
    head_name: str = Field(description="The head's name.")
    father_or_husband_name: str = Field(description="The father's or husband's name.")
    origin_village: str = Field(description="Village of origin.")
    card_token: str = Field(description="The household's valid card, as printed (empty: none issued).")
    point: str = Field(description="The point where it collects.")
    members: int = Field(description="Members counted for per-member items.")
    entitled: dict[str, int] = Field(description="What it is due, by item code.")
    delivered: dict[str, int] = Field(description="What it has received in this round, by item code.")
    status: str = Field(description="`to serve`, `partly served` or `served`.")


class DistributionListPageOut(Schema):
    items: list[DistributionListRowOut] = Field(description="This page of the list.")
    count: int = Field(description="Households on the list at your points.")


class HouseholdHandoverIn(BodyIn):
    point: str = Field(description="Code (or id) of the distribution point where it happens.")
    card: str = Field(
        "",
        max_length=TYPED_MAX,
        description="The card token as printed or scanned (`K7M2-9QXD-A3`); or give `household`.",
    )
    household: int | None = Field(None, description="The household's id, found by a search.")
    collected_by: str = Field(description="Who collected: the head, or a named relative.")
    handed_on: Day | None = Field(None, description="The day (today when left out).")
    partial: bool = Field(False, description="Give what the point holds when it holds less than is owed.")


class HouseholdHandoverOut(Schema):
    handover_id: int = Field(description="The household's handover of this round.")
    household_id: int = Field(description="The household served.")
    movement_id: int = Field(description="The ledger movement posted (point to beneficiaries).")
    given: dict[str, int] = Field(description="What was handed over now, by item code.")
    shortfall: dict[str, int] = Field(description="What is still owed, by item code.")
    complete: bool = Field(description="The household has received its whole package.")
    replayed: bool = Field(
        description="True when the Idempotency-Key was used before: nothing was posted now."
    )
    message: str = Field(description="What happened, in a sentence.")


class RoundItemFiguresOut(Schema):
    item: str = Field(description="Item code.")
    entitled: int = Field(description="Due to the listed households.")
    handed_over: int = Field(description="Handed over, as the handovers record it.")
    stock_moved: int = Field(
        description="Moved to beneficiaries by the handovers' ledger movements (net of reversals)."
    )
    shortfall: int = Field(description="Still owed to partly served households.")


class DoubleReceiptOut(Schema):
    handover_id: int = Field(description="The handover flagged.")
    household_id: int = Field(description="The household it now counts for.")
    received_by_household_id: int = Field(description="The household registration that received it.")
    point: str = Field(description="Where it was handed over.")
    note: str = Field(description="Why it is a double receipt.")


class RoundReconciliationOut(Schema):
    round: str = Field(description="The round's code.")
    entitled_households: int = Field(description="Households on the list.")
    served_households: int = Field(description="Served in full (each counts once).")
    partly_served_households: int = Field(description="Served in part: a shortfall is owed.")
    unserved_households: int = Field(description="Not served yet.")
    agrees_with_ledger: bool = Field(description="Handed over equals stock moved for every item.")
    items: list[RoundItemFiguresOut] = Field(description="Figures by item.")
    by_point: list[dict[str, Any]] = Field(
        description="Households entitled, served and partly served at each point."
    )
    double_receipts: list[DoubleReceiptOut] = Field(
        description="Handovers to one household registered twice, for follow-up."
    )


class DistrictCountOut(Schema):
    pcode: str | None = Field(description="The district's P-code; null for households of no known district.")
    name: str | None = Field(description="The district's name; null with the P-code.")
    households: int = Field(description="Active households from the district.")
    people: int = Field(description="People in them.")


class CampCountOut(Schema):
    site_id: int = Field(description="The camp's site id.")
    name: str = Field(description="The camp's name.")
    households: int = Field(description="Active households living in the camp.")
    people: int = Field(description="People in them.")


class HouseholdCountsOut(Schema):
    active: int = Field(description="Households registered and active.")
    merged: int = Field(description="Registrations merged into another.")
    anonymised: int = Field(description="Households whose personal data was removed.")
    members: int = Field(description="People in active households.")
    female_headed: int = Field(description="Active households headed by a woman.")
    in_camps: int = Field(description="Active households living in a camp.")
    pending_pairs: int = Field(description="Likely duplicate pairs waiting for a decision.")
    by_district: list[DistrictCountOut] = Field(description="Households and people by district of origin.")
    by_camp: list[CampCountOut] = Field(description="Households and people by camp.")

    @staticmethod
    def resolve_by_district(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "pcode": row["origin_district__pcode"],
                "name": row["origin_district__name"],
                "households": row["households"],
                "people": row["people"] or 0,
            }
            for row in obj.by_district
        ]

    @staticmethod
    def resolve_by_camp(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "site_id": row["current_site_id"],
                "name": row["current_site__name"],
                "households": row["households"],
                "people": row["people"] or 0,
            }
            for row in obj.by_camp
        ]


def printed_token(token: str) -> str:
    return printed(token) if token else ""
