from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "tinhso.payments"
    label = "payments"
    verbose_name = _("Online payment")

    def ready(self) -> None:
        from django.conf import settings

        from tinhso.core.audit_display import EXTRA_FIELD_CHOICES, EXTRA_FIELD_LABELS
        from tinhso.payments import hooks, tasks  # noqa: F401  (registers hooks and jobs)
        from tinhso.payments.models import PaymentMethod

        # A bill's audit records carry the money event's details beside the bill's fields
        # (`services._core._audit`).
        for name, label in {
            "method": _("payment method"),
            "receipt": _("receipt number"),
            "order": _("payment order"),
            "transaction": _("transaction"),
            "via": _("confirmed by"),
            "fee_case": _("fee case"),
            "new_bill": _("new bill"),
            "claimed_amount": _("amount claimed (VND)"),
        }.items():
            EXTRA_FIELD_LABELS.setdefault(f"payments.bill.{name}", label)
        EXTRA_FIELD_CHOICES.setdefault("payments.bill.method", dict(PaymentMethod.choices))
        EXTRA_FIELD_CHOICES.setdefault(
            "payments.bill.via",
            {
                "notification": _("the payment platform's notification"),
                "query": _("a query to the payment platform"),
            },
        )

        if settings.TINHSO_SIMULATORS:  # its "notify late" job, even when no URLconf loads
            from tinhso.payments import simulator  # noqa: F401
