"""Pages of the background jobs, under /jobs/: the list of one's jobs (every user's for an admin)
and a job's page, whose status part htmx asks for again every second until the job ends.

A job's result is shown only to a user who holds the right it was started under; the pages the
result links to check access again and record their own audit events.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from reliefops.core.access import access_job_by_id, access_jobs, job_result_visible, user_role
from reliefops.core.jobs import job_sequel, jobs_mark_stale
from reliefops.core.models import JobStatus
from reliefops.core.roles import Role
from reliefops.web.pages import PAGE_SIZE, is_htmx, page

POLL_SECONDS = 1
# What `?who=` may say: nothing (one's own jobs) or `all` (every user's, for an admin).
WHO_ALL = "all"


@page
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = access_jobs(request.user)
    is_admin = user_role(request.user) == Role.ADMIN
    who = request.GET.get("who", "").strip()
    if who not in ("", WHO_ALL) or (who == WHO_ALL and not is_admin):
        # a filter the page cannot read lists nothing and says why, as every list's filters do
        reason = (
            f"'{who}' is not a choice: leave it out for your own jobs, or write who=all for every user's"
            if who != WHO_ALL
            else "every user's jobs are listed for an admin only: leave who out for your own"
        )
        return render(
            request,
            "web/jobs/list.html",
            {"rows": [], "is_admin": is_admin, "everyone": False, "refused": reason},
            status=422,
        )
    everyone = is_admin and who == WHO_ALL
    if not everyone:
        jobs = jobs.filter(owner_id=request.user.pk)
    if jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
        jobs_mark_stale()
    page_obj = Paginator(jobs.defer("input", "result", "problems", "params"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/jobs/list.html",
        {"page_obj": page_obj, "rows": page_obj.object_list, "is_admin": is_admin, "everyone": everyone},
    )


@page
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    if not job.finished and jobs_mark_stale():
        job = access_job_by_id(request.user, job_id)
    result_visible = job_result_visible(request.user, job)
    context = {
        "job": job,
        "result_visible": result_visible,
        # what became of its work since (a preview applied, a batch reverted), in place of its action
        "sequel": job_sequel(job) if result_visible else None,
        "poll_seconds": POLL_SECONDS,
        "mine": job.owner_id == request.user.pk,
    }
    template = "web/jobs/_status.html" if is_htmx(request) else "web/jobs/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    return response
