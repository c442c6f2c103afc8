from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "reliefops.catalog"
    label = "catalog"
    verbose_name = "Catalogue: items and kits"
