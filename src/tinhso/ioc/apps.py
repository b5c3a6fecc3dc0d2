from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IocConfig(AppConfig):
    name = "tinhso.ioc"
    label = "ioc"
    verbose_name = _("Operations centre")

    def ready(self) -> None:
        from tinhso.dossiers import hooks
        from tinhso.ioc import alerts, rollups, tasks  # noqa: F401  (tasks: the alerts job)

        # Counters move in the same transaction as the dossier event that causes them.
        hooks.register_in_transaction(rollups.on_dossier_event)
        # Alerts are re-evaluated after the event commits (throttled, never failing the desk).
        hooks.register(alerts.on_dossier_event)
