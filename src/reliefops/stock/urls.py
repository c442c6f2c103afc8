"""Web pages of the stock ledger (filled in by stock/views.py)."""

from django.urls import URLPattern

app_name = "stock"

urlpatterns: list[URLPattern] = []
