from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "reliefops.stock"
    label = "stock"
    verbose_name = "Stock ledger"
