"""Top-level URLs: the web UI, the API and the (read-only) Django admin."""

from django.contrib import admin
from django.urls import include, path

from reliefops.api import api
from reliefops.ops.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("stock/", include("reliefops.stock.urls")),
    path("households/", include("reliefops.households.urls")),
    path("cluster/", include("reliefops.cluster.urls")),
    path("reports/", include("reliefops.reports.urls")),
    path("jobs/", include("reliefops.web.job_urls")),
    path("", include("reliefops.web.urls")),
]
