from django.urls import path

from tinhso.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("procedures/", views.procedure_list, name="procedure_list"),
    path("procedures/<str:code>/", views.procedure_detail, name="procedure_detail"),
    path("procedures/<str:code>/submit/", views.procedure_submit, name="procedure_submit"),
    path("track/", views.track, name="track"),
    path("track/<str:code>", views.track, name="track_code"),
    path("my/", views.my_list, name="my_list"),
    path("my/<str:code>/", views.my_detail, name="my_detail"),
]
