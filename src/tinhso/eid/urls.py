from django.urls import path

from tinhso.eid import views

app_name = "eid"

urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("callback", views.callback, name="callback"),
    path("signout/", views.signout, name="signout"),
]
