from django.urls import path

from tinhso.dossiers import reception_views, views

app_name = "dossiers"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/", reception_views.dossier_new, name="new"),
    path("new/procedures/", reception_views.procedure_options, name="procedure_options"),
    path("new/documents/", reception_views.procedure_documents, name="procedure_documents"),
    path("<int:pk>/", views.dossier_detail, name="detail"),
    path("<int:pk>/actions/<str:action>/", views.dossier_act, name="act"),
    path(
        "<int:pk>/documents/<int:document_pk>/",
        views.document_download,
        name="document",
    ),
    # The slips' PDFs come from `slip_views`; `views.slip` imports it when first asked.
    path("<int:pk>/slips/<str:kind>.pdf", views.slip, name="slip"),
]
