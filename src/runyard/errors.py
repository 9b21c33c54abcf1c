"""The one error tree of Runyard.

Every error that Runyard raises on purpose is a :class:`RunyardError`::

    RunyardError                  code            HTTP
    ├── UserError                 (what was asked is wrong; SDK v1's UserErrorException)
    │   ├── NotFound              not_found       404
    │   │   └── ComputeTargetException (runyard.core.compute_target, SDK v1 name)
    │   ├── AlreadyExists         already_exists  409
    │   └── InvalidArgument       invalid_argument 400
    ├── InvalidState              invalid_state   409
    │   ├── RunFailed             run_failed      409 (wait_for_completion on a failed run)
    │   ├── RunTimeout            run_timeout     409 (wait_for_completion ran out of time)
    │   └── WebserviceException   invalid_state   409 (runyard.core.webservice, SDK v1 name)
    ├── Unauthorized              unauthorized    401
    ├── Forbidden                 forbidden       403
    ├── RateLimited               rate_limited    429 (one token wrote too fast; retry later)
    └── BackendError              backend_error   502
        ├── EnvironmentBuildError (an environment could not be built)
        └── MissingDependency     (an optional extra is not installed)

Third-party exceptions are translated at the adapter boundary with ``raise ... from exc``;
messages say what was wrong and what to do about it.
"""

from __future__ import annotations


class RunyardError(Exception):
    """Base class of every error Runyard raises on purpose."""

    code = "runyard_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UserError(RunyardError):
    """What was asked for is wrong (a name that does not exist or exists already, a bad
    argument): fix the call. SDK v1 code catches it as ``UserErrorException``."""

    code = "user_error"


class NotFound(UserError):
    """A named thing (workspace, run, model, target...) does not exist."""

    code = "not_found"


class AlreadyExists(UserError):
    """Something with that name exists already."""

    code = "already_exists"


class InvalidArgument(UserError):
    """An argument is malformed, out of range or unsafe (e.g. a path that escapes)."""

    code = "invalid_argument"


class InvalidState(RunyardError):
    """The operation is not allowed in the object's current state."""

    code = "invalid_state"


class RunFailed(InvalidState):
    """A run that was waited for ended Failed; the message carries its error and the tail
    of its log, ``run_id`` and ``error`` the details."""

    code = "run_failed"

    def __init__(
        self, message: str, run_id: str = "", error: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.error = dict(error or {})


class RunTimeout(InvalidState):
    """``wait_for_completion(timeout_seconds=...)`` ran out of time; the run goes on."""

    code = "run_timeout"


class Unauthorized(RunyardError):
    """No valid credentials were given."""

    code = "unauthorized"


class Forbidden(RunyardError):
    """Credentials are valid but do not allow this operation."""

    code = "forbidden"


class RateLimited(RunyardError):
    """One token sent more writes than the server allows per second; ``retry_after_s``
    says when the next one will be accepted."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BackendError(RunyardError):
    """A backend (database, file system, cluster, package index) failed."""

    code = "backend_error"


class EnvironmentBuildError(BackendError):
    """An environment could not be built; the message carries the installer's error."""

    code = "environment_build_error"


class MissingDependency(BackendError):
    """An optional dependency is not installed; the message says which extra to install."""

    code = "missing_dependency"


#: Error code -> HTTP status, the one table both the server and the REST client use.
HTTP_STATUS: dict[str, int] = {
    RunyardError.code: 500,
    UserError.code: 400,
    NotFound.code: 404,
    AlreadyExists.code: 409,
    InvalidArgument.code: 400,
    InvalidState.code: 409,
    RunFailed.code: 409,
    RunTimeout.code: 409,
    Unauthorized.code: 401,
    Forbidden.code: 403,
    RateLimited.code: 429,
    BackendError.code: 502,
    EnvironmentBuildError.code: 502,
    MissingDependency.code: 502,
}


def error_for_code(code: str) -> type[RunyardError]:
    """The error class for a code (the REST client's way back to the same classes)."""
    for cls in (
        NotFound,
        AlreadyExists,
        InvalidArgument,
        InvalidState,
        Unauthorized,
        Forbidden,
        RateLimited,
        RunFailed,
        RunTimeout,
        EnvironmentBuildError,
        MissingDependency,
        BackendError,
        UserError,
    ):
        if cls.code == code:
            return cls
    return RunyardError


def missing_extra(module: str, extra: str) -> MissingDependency:
    """The error for an optional import that failed, with the install hint."""
    return MissingDependency(
        f"This feature needs the '{module}' package, which is not installed. "
        f"Install it with: pip install 'runyard[{extra}]'"
    )
