"""The dossier state machine as data: statuses, actions, and the table of which action moves
which status to which, and who may do it (design §3.3). Plain Python; the services apply it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from tinhso.core.models import Role


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    DESK = "desk", _("At the desk")
    POST = "post", _("By post")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for reception")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Waiting for the applicant's supplement")
    REFUSED = "refused", _("Refused at reception")
    RECEIVED = "received", _("Received")
    IN_PROCESSING = "in_processing", _("In processing")
    TRANSFERRED = "transferred", _("Transferred to another agency")
    SUSPENDED = "suspended", _("Suspended")
    APPROVED = "approved", _("Approved, result waiting to be returned")
    REJECTED = "rejected", _("Rejected, answer waiting to be returned")
    DONE = "done", _("Done, result returned")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    RECEIVE = "receive", _("Receive")
    REFUSE = "refuse", _("Refuse at reception")
    REQUEST_SUPPLEMENT = "request_supplement", _("Request a supplement")
    SUPPLEMENT = "supplement", _("Supplement")
    ASSIGN = "assign", _("Assign")
    FORWARD = "forward", _("Forward to the next step")
    SEND_BACK = "send_back", _("Send back to the previous step")
    TRANSFER = "transfer", _("Transfer to another agency")
    TRANSFER_RETURN = "transfer_return", _("Return from the other agency")
    SUSPEND = "suspend", _("Suspend")
    RESUME = "resume", _("Resume")
    APOLOGIZE = "apologize", _("Apologise and set a new appointment")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    RETURN_RESULT = "return_result", _("Return the result")
    WITHDRAW = "withdraw", _("Withdraw")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Timeliness(models.TextChoices):
    EARLY = "early", _("Early")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


class OpenTimeliness(models.TextChoices):
    WITHIN_DEADLINE = "within", _("Within deadline")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    PAUSED = "paused", _("Clock stopped")
    NOT_STARTED = "not_started", _("Not received yet")


S = Status
OPEN_STATUSES = frozenset(
    {
        S.SUBMITTED,
        S.SUPPLEMENT_REQUESTED,
        S.RECEIVED,
        S.IN_PROCESSING,
        S.TRANSFERRED,
        S.SUSPENDED,
        S.APPROVED,
        S.REJECTED,
    }
)
#: The transitions that send a dossier back to a step (the "returned" inbox).
SENT_BACK_ACTIONS = frozenset({Action.SEND_BACK, Action.TRANSFER_RETURN})
#: Statuses whose deadline clock runs.
CLOCK_RUNNING_STATUSES = frozenset({S.RECEIVED, S.IN_PROCESSING, S.TRANSFERRED})
#: Statuses from which the applicant may still withdraw (before any result).
BEFORE_RESULT = frozenset(
    {S.SUBMITTED, S.SUPPLEMENT_REQUESTED, S.RECEIVED, S.IN_PROCESSING, S.TRANSFERRED, S.SUSPENDED}
)

DESK = frozenset({Role.DESK_OFFICER})
HANDLERS = frozenset({Role.SPECIALIST, Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER})
LEADERS = frozenset({Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER})
DISPATCHERS = frozenset({Role.DESK_OFFICER, Role.DEPARTMENT_LEADER, Role.AGENCY_LEADER})
#: The applicant acts on their own dossier; a desk officer may act on their behalf.
APPLICANT = "applicant"


@dataclass(frozen=True)
class Rule:
    """`action` moves a dossier from any of `sources` to `target` (None: a status the
    service decides, e.g. back to where it was) and may be taken by `roles`."""

    action: str
    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    needs_reason: bool = False


RULES: dict[str, Rule] = {
    rule.action: rule
    for rule in (
        Rule(Action.RECEIVE, frozenset({S.SUBMITTED}), S.RECEIVED, DESK),
        Rule(Action.REFUSE, frozenset({S.SUBMITTED}), S.REFUSED, DESK, needs_reason=True),
        Rule(
            Action.REQUEST_SUPPLEMENT,
            frozenset({S.SUBMITTED, S.RECEIVED, S.IN_PROCESSING}),
            S.SUPPLEMENT_REQUESTED,
            DESK | HANDLERS,
            needs_reason=True,
        ),
        Rule(
            Action.SUPPLEMENT,
            frozenset({S.SUPPLEMENT_REQUESTED}),
            None,
            frozenset({APPLICANT, Role.DESK_OFFICER}),
        ),
        Rule(Action.ASSIGN, frozenset({S.RECEIVED, S.IN_PROCESSING}), S.IN_PROCESSING, DISPATCHERS),
        Rule(Action.FORWARD, frozenset({S.IN_PROCESSING}), S.IN_PROCESSING, HANDLERS),
        Rule(
            Action.SEND_BACK,
            frozenset({S.IN_PROCESSING}),
            S.IN_PROCESSING,
            HANDLERS,
            needs_reason=True,
        ),
        Rule(
            Action.TRANSFER,
            frozenset({S.IN_PROCESSING}),
            S.TRANSFERRED,
            HANDLERS,
            needs_reason=True,
        ),
        Rule(Action.TRANSFER_RETURN, frozenset({S.TRANSFERRED}), S.IN_PROCESSING, HANDLERS),
        Rule(
            Action.SUSPEND,
            frozenset({S.RECEIVED, S.IN_PROCESSING}),
            S.SUSPENDED,
            LEADERS,
            needs_reason=True,
        ),
        Rule(Action.RESUME, frozenset({S.SUSPENDED}), None, LEADERS),
        Rule(
            Action.APOLOGIZE,
            frozenset(
                {S.RECEIVED, S.IN_PROCESSING, S.TRANSFERRED, S.SUSPENDED, S.SUPPLEMENT_REQUESTED}
            ),
            None,
            LEADERS | DESK,
            needs_reason=True,
        ),
        Rule(Action.APPROVE, frozenset({S.IN_PROCESSING}), S.APPROVED, LEADERS),
        Rule(
            Action.REJECT,
            frozenset({S.RECEIVED, S.IN_PROCESSING}),
            S.REJECTED,
            LEADERS,
            needs_reason=True,
        ),
        Rule(Action.RETURN_RESULT, frozenset({S.APPROVED, S.REJECTED}), S.DONE, DESK),
        Rule(
            Action.WITHDRAW,
            BEFORE_RESULT,
            S.WITHDRAWN,
            frozenset({APPLICANT, Role.DESK_OFFICER}),
            needs_reason=True,
        ),
    )
}


def allowed_actions(status: str, roles: frozenset[str] | set[str]) -> list[str]:
    """The actions a person holding `roles` may take on a dossier in `status`."""
    return [
        action
        for action, rule in RULES.items()
        if status in rule.sources and rule.roles & set(roles)
    ]
