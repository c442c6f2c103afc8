from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "reliefops.households"
    label = "households"
    verbose_name = "Households and distributions"
