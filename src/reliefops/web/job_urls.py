"""Pages of the background jobs, under /jobs/."""

from django.urls import path

from reliefops.web import job_views

app_name = "jobs"

urlpatterns = [
    path("", job_views.job_list, name="job-list"),
    path("<int:job_id>/", job_views.job_detail, name="job-detail"),
]
