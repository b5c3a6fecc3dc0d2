from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "tinhso.integration"
    label = "integration"
    verbose_name = _("Integration platform (LGSP)")

    def ready(self) -> None:
        # Every dossier event enqueues its national-portal message in the same transaction.
        from tinhso.integration.adapters import national_portal

        national_portal.register()
