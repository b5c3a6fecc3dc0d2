"""One hierarchy of business-rule failures. The API maps them to HTTP status codes and
`{"code", "message"}`; the UI shows `message` (Vietnamese by default, through gettext)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    status = 400
    default_message = _("The request breaks a business rule.")

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = str(message) if message is not None else str(self.default_message)
        self.details = details
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422
    default_message = _("The data is not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class OutOfScope(DomainError):
    """The actor's administrative scope does not reach the object (or the action)."""

    code = "out_of_scope"
    status = 403
    default_message = _("You are not allowed to do this.")


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409
    default_message = _("This action is not allowed in the current state.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("Someone else changed this record first. Reload and try again.")


class ImmutableRecord(DomainError):
    code = "immutable_record"
    status = 405
    default_message = _("Audit records cannot be changed or deleted.")
