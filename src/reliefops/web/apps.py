from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "reliefops.web"
    label = "web"
    verbose_name = "Web shell"
