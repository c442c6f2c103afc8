"""Web pages of households and distributions, under /households/."""

from django.urls import path

from reliefops.households import views

app_name = "households"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("registry/", views.registry, name="registry"),
    path("registry/export.csv", views.registry_export, name="registry-export"),
    path("register/", views.register, name="register"),
    path("<int:household_id>/", views.household_detail, name="detail"),
    path("<int:household_id>/correct/", views.household_correct, name="correct"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:import_id>/", views.import_detail, name="import-detail"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("rounds/", views.round_list, name="round-list"),
    path("rounds/new/", views.round_new, name="round-new"),
    path("rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/list/", views.distribution_list, name="distribution-list"),
    path("rounds/<int:round_id>/cards/", views.cards_print, name="cards"),
    path("rounds/<int:round_id>/handover/", views.handover, name="handover"),
]
