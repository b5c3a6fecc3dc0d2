"""The operations centre's pages (mounted at /ioc/)."""

from django.urls import path  # noqa: F401

app_name = "ioc"

urlpatterns: list = []
