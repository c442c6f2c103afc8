"""Registration files: upload one to check it, read its check, and import its households."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from reliefops.core.access import access_household_import_by_id, require
from reliefops.core.errors import InvalidInput
from reliefops.core.roles import Right
from reliefops.households import forms, jobs, selectors
from reliefops.households.models import HouseholdImport
from reliefops.households.services.imports import same_file_message
from reliefops.households.views.section import render_page
from reliefops.web.pages import page


@page
def import_upload(request: HttpRequest) -> HttpResponse:
    require(request.user, Right.REGISTER_HOUSEHOLDS)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Checking a large file takes a while: the worker does it, the job's page shows how far it is.
        try:
            content = upload.read()
            started = jobs.import_preview_start(owner=request.user, filename=upload.name, content=content)
        except InvalidInput as exc:
            form.add_error("file", "; ".join(p.reason for p in exc.problems))
        else:
            return redirect("jobs:job-detail", started.job.pk)
    recent = list(HouseholdImport.objects.defer("content").order_by("-created_at")[:10])
    states = selectors.import_states(recent)
    status = 422 if form.is_bound and form.errors else 200
    return render_page(
        request,
        "households/import_upload.html",
        {"form": form, "recent": [{"batch": b, "state": states[b.pk]} for b in recent]},
        status,
    )


@page
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    batch = access_household_import_by_id(request.user, import_id)
    if request.method == "POST":
        started = jobs.import_commit_start(owner=request.user, import_id=batch.pk, filename=batch.filename)
        if started.replayed:
            messages.info(request, "This file's import was asked for already: here is that job.")
        return redirect("jobs:job-detail", started.job.pk)
    state = selectors.import_states([batch])[batch.pk]
    earlier = state.same_file_as
    return render_page(
        request,
        "households/import_detail.html",
        {
            "batch": batch,
            "state": state,
            "can_commit": state.importable,
            "same_file": same_file_message(batch, earlier) if earlier is not None else "",
            "earlier": earlier,
        },
    )
