"""A simulator of the national payment platform (placeholder until it is written)."""

from django.urls import path  # noqa: F401

app_name = "paygov"
urlpatterns: list = []
