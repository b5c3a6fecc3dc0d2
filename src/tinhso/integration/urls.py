from django.urls import path

from tinhso.integration import views

app_name = "integration"

urlpatterns = [
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/messages/<int:pk>/retry/", views.message_retry, name="message_retry"),
    path("monitor/messages/<int:pk>/discard/", views.message_discard, name="message_discard"),
    path("access-log/", views.access_log, name="access_log"),
    path("access-log/export.xlsx", views.access_log_export, name="access_log_export"),
]
