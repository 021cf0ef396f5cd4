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


def local_checkpoint(path, backend: str, needs: str, how: str, inside: str | None = None):
    """The Path of an optional backend's local checkpoint, or a one-line UserError: none given (`needs`:
    what it must be, `how`: how to pass it) or not there (a file; with `inside`, a folder holding that
    file). Weights are never downloaded, so a missing one is the user's to supply."""
    from pathlib import Path

    if path is None:
        raise UserError(f"{backend} needs a local checkpoint {needs}; pass {how}")
    p = Path(path)
    if inside is None and not p.is_file():
        raise UserError(f"{backend}: checkpoint not found: {p}")
    if inside is not None and not (p / inside).is_file():
        raise UserError(f"{backend}: checkpoint not found: {p} holds no {inside} (give the folder {needs})")
    return p
