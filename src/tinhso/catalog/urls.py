from django.urls import path

from tinhso.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.procedure_list, name="procedure_list"),
    path("import/", views.catalog_import, name="import"),
    path("export/", views.catalog_export, name="export"),
    path("procedures/<str:code>/", views.procedure_detail, name="procedure_detail"),
]
