"""The built-in simulators, mounted at /sim/ only when `TINHSO_SIMULATORS` is on. One
namespaced include per simulator."""

from django.urls import include, path

app_name = "sim"

urlpatterns = [
    path("national-portal/", include("tinhso.integration.simulators.national_portal")),
    path("population/", include("tinhso.integration.simulators.population")),
    path("eid/", include("tinhso.eid.simulator")),
    path("paygov/", include("tinhso.payments.simulator")),
]
