"""Web pages of households and distributions, under /households/."""

from django.urls import path

from reliefops.households.views import duplicates, handovers, imports, registration, registry, rounds

app_name = "households"

urlpatterns = [
    path("", registry.overview, name="overview"),
    path("registry/", registry.registry, name="registry"),
    path("registry/export.csv", registry.registry_export, name="registry-export"),
    path("register/", registration.register, name="register"),
    path("<int:household_id>/", registry.household_detail, name="detail"),
    path("<int:household_id>/correct/", registration.household_correct, name="correct"),
    path("import/", imports.import_upload, name="import"),
    path("import/<int:import_id>/", imports.import_detail, name="import-detail"),
    path("duplicates/", duplicates.duplicates, name="duplicates"),
    path("rounds/", rounds.round_list, name="round-list"),
    path("rounds/new/", rounds.round_new, name="round-new"),
    path("rounds/<int:round_id>/", rounds.round_detail, name="round-detail"),
    path("rounds/<int:round_id>/list/", rounds.distribution_list, name="distribution-list"),
    path("rounds/<int:round_id>/cards/", rounds.cards_print, name="cards"),
    path("rounds/<int:round_id>/handover/", handovers.handover, name="handover"),
    path("rounds/<int:round_id>/handover/find/", handovers.handover_find, name="handover-find"),
]
