"""Domain errors. They carry no HTTP: `api.errors` maps each type to a problem+json response.

Every error has a stable machine-readable `code` that clients may switch on.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


@dataclass
class FieldProblem:
    """One invalid field: where it is (a JSON pointer-ish dotted path) and why."""

    field: str
    code: str
    message: str


@dataclass
class ValidationFailed(DomainError):
    """The request is well-formed but breaks a rule about its values."""

    code: str = "validation_failed"
    problems: list[FieldProblem] = field(default_factory=list)

    @classmethod
    def on(cls, field_name: str, code: str, message: str) -> ValidationFailed:
        return cls(detail=message, problems=[FieldProblem(field_name, code, message)])


@dataclass
class NotFound(DomainError):
    """The thing does not exist for this user (also what another user's thing looks like)."""

    code: str = "not_found"


@dataclass
class Conflict(DomainError):
    """The request is valid but the current state of the resource forbids it."""

    code: str = "conflict"


@dataclass
class PreconditionFailed(DomainError):
    """The client's `If-Match` names a version that is no longer current."""

    code: str = "precondition_failed"
    current_version: int | None = None


@dataclass
class LimitExceeded(DomainError):
    """A per-user cap (counts, sizes) would be exceeded."""

    code: str = "limit_exceeded"


@dataclass
class Unauthenticated(DomainError):
    """The bearer token is missing, malformed, expired, revoked, foreign or its user disabled."""

    code: str = "unauthenticated"


@dataclass
class AccountErased(Unauthenticated):
    """The account was deleted (or is being erased): nothing of it is read or written again."""

    code: str = "account_erased"
    detail: str = "this account was deleted"


@dataclass
class Forbidden(DomainError):
    """The caller is who they say, but not someone allowed here."""

    code: str = "forbidden"


@dataclass
class AuthUnavailable(DomainError):
    """Tokens cannot be checked right now (e.g. signing certificates cannot be fetched).

    Never a reason to let a request through: the API answers 503.
    """

    code: str = "auth_unavailable"
