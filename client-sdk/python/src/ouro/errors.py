"""Everything the client raises is an OuroError.

- OuroApiError: the server answered and refused. It has the server's `code`, a message for a
  person and the `request_id` to quote in a bug report. Each code has its own subclass
  (NotFoundError, ForbiddenError, ...), so `except ouro.NotFoundError:` reads naturally.
- OuroNetworkError: no usable answer (connection refused, timeout, a proxy's HTML page, a
  WebSocket that closed).
- OuroJobError: a job you waited for failed or was cancelled; `job` holds its final state.
"""

from __future__ import annotations

from typing import Any

# Codes worth retrying for an idempotent request: the same request may succeed later.
TRANSIENT_CODES = frozenset({"UNAVAILABLE", "RATE_LIMITED", "INTERNAL"})


class OuroError(Exception):
    """Base of every error the client raises."""

    retryable: bool = False


class OuroApiError(OuroError):
    """The server refused the request; `code` says why."""

    code: str = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        path: list[str | int] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.request_id = request_id
        self.status = status
        self.details = details
        self.path = path
        self.errors = errors or []

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.code in TRANSIENT_CODES

    def __str__(self) -> str:
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{rid}"


class UnauthenticatedError(OuroApiError):
    """No token, or a wrong, expired or revoked one."""

    code = "UNAUTHENTICATED"


class ForbiddenError(OuroApiError):
    """The token's user lacks the role this needs."""

    code = "FORBIDDEN"


class NotFoundError(OuroApiError):
    """No such object, or one in a project you are not a member of."""

    code = "NOT_FOUND"


class BadUserInputError(OuroApiError):
    """The request's input was refused; the message says which part and why."""

    code = "BAD_USER_INPUT"


class ConflictError(OuroApiError):
    """The object's state does not allow this (e.g. a finished run, a param set to another value)."""

    code = "CONFLICT"


class PayloadTooLargeError(OuroApiError):
    code = "PAYLOAD_TOO_LARGE"


class RateLimitedError(OuroApiError):
    code = "RATE_LIMITED"


class UnavailableError(OuroApiError):
    code = "UNAVAILABLE"


class InternalServerError(OuroApiError):
    """The server failed; it logged the details under `request_id`."""

    code = "INTERNAL"


class GraphQLValidationError(OuroApiError):
    """The operation does not match the server's schema (a client older or newer than the server?)."""

    code = "GRAPHQL_VALIDATION_FAILED"


_BY_CODE: dict[str, type[OuroApiError]] = {
    cls.code: cls
    for cls in (
        UnauthenticatedError,
        ForbiddenError,
        NotFoundError,
        BadUserInputError,
        ConflictError,
        PayloadTooLargeError,
        RateLimitedError,
        UnavailableError,
        InternalServerError,
        GraphQLValidationError,
    )
}
_BY_CODE["GRAPHQL_PARSE_FAILED"] = GraphQLValidationError

_STATUS_CODES = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED", 503: "UNAVAILABLE"}


def code_for_status(status: int | None) -> str:
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]  # type: ignore[index]
    return "INTERNAL" if status and status >= 500 else "BAD_USER_INPUT"


def api_error(
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    status: int | None = None,
    details: dict[str, Any] | None = None,
    path: list[str | int] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> OuroApiError:
    """The OuroApiError subclass for `code` (the base class for codes without one)."""
    cls = _BY_CODE.get(code, OuroApiError)
    return cls(message, code=code, request_id=request_id, status=status, details=details, path=path, errors=errors)


def error_from_graphql(errors: list[dict[str, Any]], *, status: int | None = None, request_id: str | None = None) -> OuroApiError:
    """The first entry of a GraphQL `errors` list, typed."""
    first: dict[str, Any] = errors[0] if errors and isinstance(errors[0], dict) else {"message": "unknown error"}
    ext: dict[str, Any] = first.get("extensions") or {}
    code = ext["code"] if isinstance(ext.get("code"), str) else code_for_status(status)
    rid = ext.get("requestId") if isinstance(ext.get("requestId"), str) else request_id
    details = ext.get("details") if isinstance(ext.get("details"), dict) else None
    message = str(first.get("message", "unknown error"))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return api_error(code, message, request_id=rid, status=status, details=details, path=first.get("path"), errors=errors)


class OuroNetworkError(OuroError):
    """No usable answer from the server."""

    def __init__(self, message: str, *, status: int | None = None, close_code: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.close_code = close_code
        self.retryable = retryable


class OuroJobError(OuroError):
    """A job (or pipeline run) you waited for ended as failed or cancelled. `job` is its final state."""

    retryable = False

    def __init__(self, job: Any) -> None:
        error = f": {job.error}" if getattr(job, "error", None) else ""
        what = f"job {job.id} ({job.kind})" if getattr(job, "kind", None) else f"pipeline run {job.id}"
        super().__init__(f"{what} {getattr(job.status, 'value', job.status)}{error}")
        self.job = job


def is_retryable(err: BaseException) -> bool:
    return isinstance(err, OuroError) and bool(err.retryable)
