"""The review queue of likely duplicate pairs: decide each (the same household, or different),
and search the whole registry again in the background."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from reliefops.core.access import access_duplicate_pair_by_id, access_duplicate_pairs
from reliefops.core.errors import InvalidInput, ServiceError
from reliefops.core.security import whole_id
from reliefops.households import jobs, selectors
from reliefops.households.identity import format_document
from reliefops.households.matching import LIKELY_DUPLICATE
from reliefops.households.models import DuplicateRun
from reliefops.households.services import pair_decide
from reliefops.households.views.section import render_page, viewed
from reliefops.web.pages import page


@page
def duplicates(request: HttpRequest) -> HttpResponse:
    access_duplicate_pairs(request.user)
    if request.method == "POST" and request.POST.get("search") == "registry":
        started = jobs.duplicates_run_start(owner=request.user, threshold=LIKELY_DUPLICATE)
        if started.replayed:
            messages.info(request, "Your search of the registry is running already: here it is.")
        return redirect("jobs:job-detail", started.job.pk)
    if request.method == "POST":
        pair_id = request.POST.get("pair", "")
        decision = request.POST.get("decision", "")
        pair = access_duplicate_pair_by_id(request.user, whole_id(pair_id) or 0)
        try:
            if decision == "different":
                result = pair_decide(actor=request.user, pair_id=pair.pk, same=False)
            else:
                survivor = whole_id(decision)
                result = pair_decide(actor=request.user, pair_id=pair.pk, same=True, survivor_id=survivor)
        except InvalidInput as exc:
            # The reasons alone, as a sentence: not the problems' list the command line prints.
            messages.error(request, "; ".join(problem.reason for problem in exc.problems))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            # A decision sent twice (a double click, a second tab) changed nothing: say so as such.
            (messages.info if result.replayed else messages.success)(request, result.message)
        return redirect(request.get_full_path())
    queue = selectors.duplicate_queue()
    shown = Paginator(queue, 20).get_page(request.GET.get("page"))
    ids = [h for p in shown.object_list for h in (p.first, p.second)]
    viewed(request, ids, "duplicate queue")
    rows = [
        {
            "pair": p,
            "sides": [(h, format_document(h.document_type, h.document_number)) for h in (p.first, p.second)],
        }
        for p in shown.object_list
    ]
    runs = DuplicateRun.objects.order_by("-started_at")[:5]
    return render_page(request, "households/duplicates.html", {"rows": rows, "page_obj": shown, "runs": runs})
