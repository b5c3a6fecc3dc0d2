"""The operations centre's pages (mounted at /ioc/)."""

from django.urls import path

from tinhso.ioc import views

app_name = "ioc"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("targets/", views.targets, name="targets"),
    path("chart/<slug:chart>/", views.chart_data, name="chart"),
    path("export/<slug:chart>.xlsx", views.export, name="export"),
    path("<slug:kind>/<int:pk>/", views.scope_page, name="scope"),
]
