from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "reliefops.core"
    label = "core"
    verbose_name = "Core: users, roles, audit"
