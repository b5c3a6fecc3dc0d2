"""The payments side of a dossier's life, as an in-transaction dossier hook: the bill is
created when a dossier with fees is submitted (or, for a dossier that came in without one, at
reception), and an unpaid bill is cancelled when the dossier is refused or withdrawn."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tinhso.dossiers import hooks
from tinhso.dossiers.models import DossierEvent
from tinhso.dossiers.states import Action
from tinhso.payments import services
from tinhso.payments.models import BillStatus

CREATE_ON = frozenset({Action.SUBMIT, Action.RECEIVE})
CANCEL_ON = frozenset({Action.REFUSE, Action.WITHDRAW})


def on_dossier_event(event: DossierEvent) -> None:
    if event.action in CREATE_ON:
        services.bill_create_for_dossier(
            actor=event.actor,
            dossier=event.dossier,
            at=event.at,
            source="system",
            new_dossier=event.action == Action.SUBMIT,
        )
    elif event.action in CANCEL_ON:
        reason = (
            _("The dossier was refused at reception.")
            if event.action == Action.REFUSE
            else _("The applicant withdrew the dossier.")
        )
        for bill in event.dossier.bills.filter(status=BillStatus.UNPAID):
            services.bill_cancel(actor=event.actor, bill=bill, reason=reason, at=event.at)


hooks.register_in_transaction(on_dossier_event)
