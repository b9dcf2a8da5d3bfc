"""Errors raised by services; every door (page, API, import, command) turns them into messages."""

from dataclasses import dataclass, field


@dataclass
class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    message: str
    code: str = "rule_violation"
    details: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    """The user's role or relation to the record does not permit the action."""


class RuleViolation(DomainError):
    """The action conflicts with the current state or a configured rule."""
