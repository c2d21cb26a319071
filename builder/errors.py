"""Domain errors, raised by services and mapped to HTTP in one place.

The mapping lives in ``builder.runtime.api.errors``.

Every error carries a machine code, a human message in the caller's language and, for
validation, a list of problems, each naming where it is (a JSON path such as
``entities[2].fields[0].type`` or a field key such as ``budget``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong, and where: ``path`` is a JSON path or a field key; ``record`` the
    id of an existing record the problem is about (the one already holding a unique
    value), so a client can open it."""

    path: str
    message: str
    code: str = "invalid"
    record: int | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"path": self.path, "message": self.message, "code": self.code}
        if self.record is not None:
            found["record"] = self.record
        return found


@dataclass
class AppError(Exception):
    """Base of every error a user or API client may see."""

    message: str
    details: list[Problem] = field(default_factory=list)
    code: str = "error"
    status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        lines = "; ".join(f"{p.path}: {p.message}" for p in self.details)
        return f"{self.message} ({lines})"


class ValidationFailed(AppError):
    def __init__(self, message: str, details: list[Problem] | None = None, **extra: Any) -> None:
        super().__init__(message, details or [], "validation_failed", 422, extra)


class NotFound(AppError):
    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message, [], "not_found", 404, extra)


class Conflict(AppError):
    def __init__(self, message: str, details: list[Problem] | None = None, **extra: Any) -> None:
        super().__init__(message, details or [], "conflict", 409, extra)


class Forbidden(AppError):
    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message, [], "forbidden", 403, extra)


class Unauthorized(AppError):
    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message, [], "unauthorized", 401, extra)


class BadRequest(AppError):
    def __init__(self, message: str, details: list[Problem] | None = None, **extra: Any) -> None:
        super().__init__(message, details or [], "bad_request", 400, extra)
