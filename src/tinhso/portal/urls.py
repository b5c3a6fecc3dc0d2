from django.urls import path

import tinhso.portal.aftercare_views as aftercare_views
from tinhso.portal import submit_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("procedures/", views.procedure_list, name="procedure_list"),
    path("procedures/<str:code>/", views.procedure_detail, name="procedure_detail"),
    path("procedures/<str:code>/submit/", submit_views.submit_form, name="procedure_submit"),
    path("drafts/<int:draft_id>/save", submit_views.draft_save, name="draft_save"),
    path("drafts/<int:draft_id>/submit", submit_views.draft_submit, name="draft_submit"),
    path("submitted/<str:code>/", submit_views.submitted, name="submitted"),
    path("my/drafts/", submit_views.drafts, name="drafts"),
    path("my/documents/", submit_views.my_documents, name="my_documents"),
    path(
        "my/documents/<int:document_id>/download",
        submit_views.document_download,
        name="document_download",
    ),
    path("track/", views.track, name="track"),
    path("track/<str:code>", views.track, name="track_code"),
    path("my/", views.my_list, name="my_list"),
    path("my/<str:code>/", views.my_detail, name="my_detail"),
    path("my/<str:code>/supplement/", aftercare_views.supplement, name="my_supplement"),
    path(
        "my/<str:code>/result/<int:doc_id>",
        aftercare_views.result_download,
        name="my_result",
    ),
    path("my/<str:code>/rate/", aftercare_views.rate, name="my_rate"),
]
