from django.apps import AppConfig


class ClusterConfig(AppConfig):
    name = "reliefops.cluster"
    label = "cluster"
    verbose_name = "Cluster coordination (4W)"
