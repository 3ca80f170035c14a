"""Inventory pages."""

app_name = "inventory"

urlpatterns: list = []
