from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "reliefops.scenarios"
    label = "scenarios"
    verbose_name = "Scenarios"
