"""Every change to a dossier: one function per transition. Each locks the dossier row,
checks the expected version (two officials acting at once: one wins, the other gets a
`Conflict`), applies the state-machine rule with the actor's role and scope, moves the
deadline clock, appends the event, and fires the notification hooks after commit.

The functions live in `_core` (what every transition shares), `reception` and `processing`;
callers import them from here."""

from __future__ import annotations

from collections.abc import Callable

from tinhso.dossiers.models import Dossier
from tinhso.dossiers.services._core import (
    EID_SIGN_IN,
    Applicant,
    SubmittedDocument,
    _processing_steps,
    bundle_is_done,
    calendar_for_agency,
    mark_identity_verified,
    signed_in_with_eid,
)
from tinhso.dossiers.services.processing import (
    dossier_apologize,
    dossier_approve,
    dossier_assign,
    dossier_forward,
    dossier_reject,
    dossier_resume,
    dossier_return_result,
    dossier_send_back,
    dossier_suspend,
    dossier_transfer,
    dossier_transfer_return,
    dossier_withdraw,
)
from tinhso.dossiers.services.reception import (
    bundle_submit,
    dossier_receive,
    dossier_receive_at_desk,
    dossier_refuse,
    dossier_request_supplement,
    dossier_submit,
    dossier_supplement,
)

TransitionService = Callable[..., Dossier]

__all__ = [
    "EID_SIGN_IN",
    "Applicant",
    "SubmittedDocument",
    "_processing_steps",  # the GovStack workflow reads the steps
    "bundle_is_done",
    "bundle_submit",
    "calendar_for_agency",
    "dossier_apologize",
    "dossier_approve",
    "dossier_assign",
    "dossier_forward",
    "dossier_receive",
    "dossier_receive_at_desk",
    "dossier_refuse",
    "dossier_reject",
    "dossier_request_supplement",
    "dossier_resume",
    "dossier_return_result",
    "dossier_send_back",
    "dossier_submit",
    "dossier_supplement",
    "dossier_suspend",
    "dossier_transfer",
    "dossier_transfer_return",
    "dossier_withdraw",
    "mark_identity_verified",
    "signed_in_with_eid",
]
