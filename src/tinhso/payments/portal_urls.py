"""The citizen's side of paying a fee (mounted at /portal/payments/)."""

from django.urls import path  # noqa: F401

app_name = "portal_payments"

urlpatterns: list = []
