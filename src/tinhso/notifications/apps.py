from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tinhso.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Each dossier event the applicant cares about enqueues its email and SMS in the
        # transition's transaction; the outbox delivers them (adapters "email" and "sms").
        from tinhso.notifications import notify

        notify.register()
