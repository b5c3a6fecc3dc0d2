"""The building block's refusals, in the one `DomainError` hierarchy (mapped to status codes
and `{"code", "message"}` by the API's handler)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tinhso.core.errors import DomainError, OutOfScope


class BadRequest(DomainError):
    code = "bad_request"
    status = 400
    default_message = _("The request is not valid.")


class InvalidHeader(BadRequest):
    code = "invalid_information_mediator_client"
    default_message = _(
        "Send the Information-Mediator-Client header as INSTANCE/CLASS/MEMBER/SUBSYSTEM."
    )


class InvalidFormData(BadRequest):
    code = "invalid_form_data"
    default_message = _("The form data does not match the eForm's schema.")


class UnknownClient(OutOfScope):
    code = "unknown_client"
    default_message = _("The Information Mediator client is not registered for this API.")


class ClientMismatch(OutOfScope):
    code = "client_mismatch"
    default_message = _("The Information-Mediator-Client header names another API client.")


class NotYourTask(OutOfScope):
    code = "not_your_task"
    default_message = _("The task is assigned to another operator.")
