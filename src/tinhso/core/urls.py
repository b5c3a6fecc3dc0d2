from django.contrib.auth import views as auth_views
from django.urls import path

from tinhso.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", auth_views.LogoutView.as_view(), name="signout"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
    path("officials/", views.official_list, name="official_list"),
    path("officials/<int:pk>/", views.official_detail, name="official_detail"),
    path("audit/", views.audit_list, name="audit_list"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/overrides/", views.calendar_override_add, name="calendar_override_add"),
    path(
        "calendar/overrides/<str:day>/remove/",
        views.calendar_override_remove,
        name="calendar_override_remove",
    ),
]
