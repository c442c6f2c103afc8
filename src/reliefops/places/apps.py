from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "reliefops.places"
    label = "places"
    verbose_name = "Places: admin areas and sites"
