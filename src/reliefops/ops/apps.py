from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "reliefops.ops"
    label = "ops"
    verbose_name = "Operations: backups, restores, health"
