from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Online payment")

    def ready(self) -> None:
        from tinhso.payments import hooks, tasks  # noqa: F401  (registers hooks and jobs)
