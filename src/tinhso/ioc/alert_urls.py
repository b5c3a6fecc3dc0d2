"""Alert rules and alerts (mounted at /ioc/alerts/)."""

from django.urls import path  # noqa: F401

app_name = "ioc_alerts"

urlpatterns: list = []
