"""Households API: the review queue of likely duplicate pairs, its decisions, and a search of the
whole registry in the background."""

# No `from __future__ import annotations`: django-ninja reads the handlers' annotations at import.
from typing import Any

from django.http import HttpRequest
from ninja import Query, Status

from reliefops.core.access import access_duplicate_pair_by_id, access_duplicate_pairs
from reliefops.core.api import ERRORS, JobOut, PageInput
from reliefops.core.roles import Right
from reliefops.households import jobs, selectors
from reliefops.households.api.routing import WRITE_ERRORS, router
from reliefops.households.identity import format_document
from reliefops.households.matching import LIKELY_DUPLICATE
from reliefops.households.models import DuplicatePair, Household
from reliefops.households.schemas import (
    DuplicatePairOut,
    DuplicatePairPageOut,
    DuplicatePairSide,
    PairDecisionIn,
    PairDecisionOut,
)
from reliefops.households.services import pair_decide, personal_data_viewed


@router.post(
    "/duplicates/search",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: JobOut, 202: JobOut, **WRITE_ERRORS},
    summary="Search the whole registry for likely duplicates, in the background; poll the job",
    description="New pairs join the review queue. While the caller's own search waits or runs, asking "
    "again returns it (200).",
)
def duplicates_search(request: HttpRequest) -> Any:
    access_duplicate_pairs(request.user)
    started = jobs.duplicates_run_start(owner=request.user, threshold=LIKELY_DUPLICATE)
    return Status(200 if started.replayed else 202, started.job)


def _side(household: Household) -> DuplicatePairSide:
    return DuplicatePairSide(
        id=household.pk,
        head_name=household.head_name,
        father_or_husband_name=household.father_or_husband_name,
        document_number=format_document(household.document_type, household.document_number),
        phone=household.phone,
        origin_pcode=household.origin_area.pcode,
        origin_village=household.origin_village,
        size=household.size,
    )


@router.get(
    "/duplicates",
    response={200: DuplicatePairPageOut, **ERRORS},
    summary="The review queue: likely duplicate pairs, best first, with both households (audited)",
)
def duplicate_queue(request: HttpRequest, page: Query[PageInput]) -> Any:
    access_duplicate_pairs(request.user)
    queue = selectors.duplicate_queue()
    pairs: list[DuplicatePair] = list(queue[page.offset : page.offset + page.limit])
    ids = [h for p in pairs for h in (p.first_id, p.second_id)]
    personal_data_viewed(actor=request.user, household_ids=ids, where="API duplicate queue")
    return DuplicatePairPageOut(
        items=[
            DuplicatePairOut(
                id=p.pk,
                score=p.score,
                reasons=p.reasons,
                status=p.status,
                first=_side(p.first),
                second=_side(p.second),
            )
            for p in pairs
        ],
        count=queue.count(),
    )


@router.post(
    "/duplicates/{pair_id}/decision",
    right=Right.REGISTER_HOUSEHOLDS,
    response={200: PairDecisionOut, **WRITE_ERRORS},
    summary="Decide a pair: the same household (merge, keeping `survivor`) or different (remembered)",
)
def duplicate_decide(request: HttpRequest, pair_id: int, payload: PairDecisionIn) -> Any:
    pair = access_duplicate_pair_by_id(request.user, pair_id)
    result = pair_decide(actor=request.user, pair_id=pair.pk, same=payload.same, survivor_id=payload.survivor)
    return PairDecisionOut(
        pair_id=pair.pk, status=result.pair.status, replayed=result.replayed, message=result.message
    )
