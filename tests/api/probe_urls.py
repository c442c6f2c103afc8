"""A URLconf with one unsafe endpoint behind the real API's authentication, to test CSRF rules.

The reference-data API has only GET endpoints; this probe lets the tests send a POST through the
very same authentication handlers (`api.auth`) that every endpoint of the API uses.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from reliefops.api import api

probe = NinjaAPI(auth=api.auth, urls_namespace="probe", docs_url=None, openapi_url=None)


@probe.post("/echo")
def echo(request: HttpRequest) -> dict[str, str]:
    return {"username": request.user.get_username()}


urlpatterns = [path("probe/", probe.urls)]
