"""What every page of the web UI shares: sign-in, the mapping of access errors, lists with pages.

Views of any app use these, so that every page answers alike: anonymous users go to the sign-in
page, AccessDenied becomes 403 and NotFound becomes 404 (both rendered in the layout), and a
list keeps its filters across pages and answers htmx requests with its results alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from reliefops.core.errors import AccessDenied, NotFound
from reliefops.core.exports import Table
from reliefops.web.exports import DOWNLOADS, download, export_links

PAGE_SIZE = 50

View = TypeVar("View", bound=Callable[..., HttpResponse])


def page(view: View) -> View:
    """A signed-in page: AccessDenied from a fetcher answers 403, NotFound answers 404, and a
    download the page does not make (`?format=pdf`, `?format=csv` where the page has no CSV, a
    format given twice) 400, rather than the page in its place (which a script saving the
    download would take for the file)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        asked = request.GET.getlist("format")
        if len(asked) > 1:
            return refuse_download("The address gives the parameter format more than once; give it once.")
        if asked and asked[0] and asked[0].lower() not in DOWNLOADS:
            shown = asked[0] if len(asked[0]) <= 20 else f"{asked[0][:20]}…"
            return refuse_download(
                f"The parameter format of the address is '{shown}', which is not a file the pages "
                "download: write csv or xlsx (or hxl, on the cluster's pages), or leave it out for the page."
            )
        try:
            response = view(request, *args, **kwargs)
        except AccessDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFound as exc:
            raise Http404(exc.message) from exc
        if (
            asked
            and asked[0]
            and response.status_code == 200
            and not response.has_header("Content-Disposition")
        ):
            return refuse_download(
                f"This page has no {asked[0].lower()} download; leave the parameter format out for the page, "
                "or use the download links the page offers."
            )
        return response

    return cast(View, login_required(wrapped))


def refuse_download(reason: str) -> HttpResponse:
    """400, in the site's own page, for a download that cannot be made: `reason` says why."""
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": reason}))


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a boosted link or a history restore wants the page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def filters_refused(form: Any) -> bool:
    """Whether a list's filters were given a value they cannot read: the list then shows nothing
    (see render_list), and a view downloads nothing and records no view of what it did not show."""
    return bool(form.is_bound and not form.is_valid())


def render_list(
    request: HttpRequest,
    *,
    template: str,
    results_template: str,
    queryset: QuerySet[Any],
    form: Any,
    context: dict[str, Any] | None = None,
    export: Table | None = None,
    export_rows: Callable[[QuerySet[Any]], Any] | None = None,
) -> HttpResponse:
    """A list page: the filter form and one page of results, or the results alone for htmx; with an
    `export` table, `?format=csv|xlsx` downloads every row the filters select (or the rows that
    `export_rows` makes of them: a kit's components, one a line).

    A filter that cannot be read (a value that is not one of its choices, a text too long) is not
    ignored: nothing is listed or downloaded, the page answers 422 and the form says which filter
    and why, so that a mistyped link never passes for the whole list."""
    refused = filters_refused(form)
    if refused:
        queryset = queryset.none() if isinstance(queryset, QuerySet) else cast(Any, [])
        context = {**(context or {}), "refused": True}
    elif export is not None:
        file = download(request, export, export_rows(queryset) if export_rows else queryset)
        if file is not None:
            return cast(HttpResponse, file)
    if export is not None:
        context = {"export_links": export_links(request), **(context or {})}
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    full_context = {
        "form": form,
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "results_template": results_template,
        "fragment": is_htmx(request),
        **(context or {}),
    }
    response = render(request, "web/_results.html" if is_htmx(request) else template, full_context)
    patch_vary_headers(response, ["HX-Request"])
    # A search typed into the page gets its refusal as 200: htmx shows only what succeeds.
    if refused and not is_htmx(request):
        response.status_code = 422
    return response
