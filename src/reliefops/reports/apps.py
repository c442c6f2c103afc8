from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reliefops.reports"
    label = "reports"
    verbose_name = "Dashboard, sitrep and donor reports"
