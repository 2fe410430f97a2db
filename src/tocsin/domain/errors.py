"""Domain error types, translated once at each edge (API, UI, CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base of every error a use case may raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Forbidden(DomainError):
    pass


class Unauthorized(DomainError):
    pass


class InvalidTransition(Conflict):
    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ValidationFailed(DomainError):
    errors: list[FieldError] = field(default_factory=list)
    summary: str = "validation failed"

    def __post_init__(self) -> None:
        detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(f"{self.summary}: {detail}" if detail else self.summary)
