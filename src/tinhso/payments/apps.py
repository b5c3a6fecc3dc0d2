from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Online payment")

    def ready(self) -> None:
        from django.conf import settings

        from tinhso.payments import hooks, tasks  # noqa: F401  (registers hooks and jobs)

        if settings.TINHSO_SIMULATORS:  # its "notify late" job, even when no URLconf loads
            from tinhso.payments import simulator  # noqa: F401
