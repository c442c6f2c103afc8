"""Web pages of the cluster (4W): gaps and map, matrix, totals, needs, rows, upload, batches, periods."""

from django.urls import path, re_path

from reliefops.cluster import views

app_name = "cluster"

urlpatterns = [
    path("", views.gaps, name="cluster-gaps"),
    path("matrix/", views.matrix, name="cluster-matrix"),
    path("totals/", views.totals, name="cluster-totals"),
    path("needs/", views.needs, name="cluster-needs"),
    path("rows/", views.rows, name="cluster-rows"),
    path("upload/", views.upload, name="cluster-upload"),
    path("upload/commit/", views.upload_commit, name="cluster-upload-commit"),
    re_path(r"^template\.(?P<fmt>xlsx|csv)$", views.template_download, name="cluster-template"),
    path("batches/", views.batches, name="cluster-batches"),
    path("batches/<int:batch_id>/", views.batch_detail, name="cluster-batch"),
    path("batches/<int:batch_id>/revert/", views.batch_revert, name="cluster-batch-revert"),
    path("periods/", views.periods, name="cluster-periods"),
]
