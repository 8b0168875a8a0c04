"""Domain errors. Adapters map them: the API to 4xx JSON, chat to a reply, voice to TwiML."""
from __future__ import annotations


class DomainError(Exception):
    """Base class; `code` is a stable machine-readable name."""

    code = "domain_error"

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class OrderNotFound(DomainError):
    code = "order_not_found"


class InvalidInput(DomainError):
    """Input failed validation; `fields` maps each bad field to a reason."""

    code = "validation_error"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("invalid input: " + ", ".join(sorted(fields)), fields=fields)
        self.fields = fields


class RuleViolation(DomainError):
    """The rules forbid this change now; `reason` says why in plain words."""

    code = "not_allowed"

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason, reason=reason, **details)
        self.reason = reason


class AddressChangeNotAllowed(RuleViolation):
    code = "address_change_not_allowed"


class RescheduleNotAllowed(RuleViolation):
    code = "reschedule_not_allowed"


class CancelNotAllowed(RuleViolation):
    code = "cancel_not_allowed"


class ReturnNotAllowed(RuleViolation):
    code = "return_not_allowed"


class NdrNotAllowed(RuleViolation):
    code = "ndr_not_allowed"


class EscalationNotFound(DomainError):
    code = "escalation_not_found"


class ClaimConflict(RuleViolation):
    """Another agent holds the conversation; taking it over must be explicit."""

    code = "claimed_by_another_agent"


class SeveralProofs(DomainError):
    """An ownership check was sent a list of candidate answers: only one per attempt is taken (400)."""

    code = "one_proof_only"
