"""Web pages of the reports, under /reports/ (the dashboard itself is the site's home page, `/`)."""

from django.urls import path, re_path

from reliefops.reports import views

app_name = "reports"

urlpatterns = [
    path("map.geojson", views.map_data, name="map-data"),
    path("distributed/", views.distributed, name="distributed"),
    path("sitrep/", views.sitrep, name="sitrep"),
    re_path(r"^sitrep\.(?P<fmt>md|html)$", views.sitrep_download, name="sitrep-download"),
    path("donors/", views.donor_list, name="donor-list"),
    path("donors/<int:grant_id>/", views.donor_report, name="donor-report"),
]
