from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "reliefops.partners"
    label = "partners"
    verbose_name = "Partners: organisations and grants"
