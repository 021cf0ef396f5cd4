"""Errors caused by the user's input, reported by the CLI as one line and exit status 2."""


class UserError(Exception):
    """Bad input, bad configuration or an impossible request: the message names the problem and the fix.

    The CLI prints it as a single line with no traceback and exits with status 2. Raise it only for
    problems the user can act on; programming errors should stay ordinary exceptions.
    """


class BackendUnavailable(UserError):
    """An optional backend was requested but its package (or hardware) is missing."""

    def __init__(self, backend: str, package: str, install: str, reason: str = ""):
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"backend '{backend}' needs the package '{package}'{detail}; install it with: {install}"
        )
        self.backend = backend
        self.package = package
