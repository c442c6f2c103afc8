"""Top-level URLs: the web UI, the API and the (read-only) Django admin."""

from django.contrib import admin
from django.urls import include, path

from reliefops.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("stock/", include("reliefops.stock.urls")),
    path("households/", include("reliefops.households.urls")),
    path("cluster/", include("reliefops.cluster.urls")),
    path("jobs/", include("reliefops.web.job_urls")),
    path("reports/", include("reliefops.reports.urls")),
    path("", include("reliefops.web.urls")),
]
