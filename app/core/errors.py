"""Error hierarchy of the engine.

Every failure a user can meet is a :class:`WizardError` subclass that carries the
stage it happened in, a message saying what went wrong and a ``fix`` naming what
to do about it. Silent mode maps the class to a documented exit code
(:data:`EXIT_CODES`); the GUI shows ``message`` and ``fix`` on the page.

:class:`Cancelled` is deliberately *not* a ``WizardError``: a user stopping the
work is not a failure.
"""

from __future__ import annotations

import enum


class Stage(str, enum.Enum):
    """The steps of the pipeline, in order. The value is the name used in logs and JSON events."""

    PLAN = "plan"
    CATALOG = "catalog"
    DOWNLOAD = "download"
    INSTALL = "install"
    SHELL = "shell"
    ENV = "env"
    GPU_CHECK = "gpu_check"
    UNINSTALL = "uninstall"  # --uninstall (not a pipeline step)


class Cancelled(Exception):
    """The user (or SIGINT) cancelled the work. Not a failure; exit code 130 in silent mode."""


class WizardError(Exception):
    """A failure the user can act on.

    Attributes:
        stage: the :class:`Stage` it belongs to.
        message: what went wrong, one or more sentences.
        fix: what the user should do about it (may be empty when nothing helps).
        detail: optional raw text (a tool's own output) for the log.
    """

    stage: Stage = Stage.PLAN
    exit_code: int = 1

    def __init__(self, message: str, fix: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message}\n{self.fix}" if self.fix else self.message


class UsageError(WizardError):
    """Bad flags, a bad answer file or an invalid plan."""

    stage = Stage.PLAN
    exit_code = 2


class CatalogError(WizardError):
    """The installer index could not be read, or has no installer for this platform."""

    stage = Stage.CATALOG
    exit_code = 3


class DownloadError(WizardError):
    """The installer could not be downloaded (network, HTTP status, disk)."""

    stage = Stage.DOWNLOAD
    exit_code = 4


class HashMismatchError(DownloadError):
    """The downloaded or local installer's SHA-256 is not the published one."""

    exit_code = 5


class UnverifiedInstallerError(DownloadError):
    """No SHA-256 is known for the installer and the plan does not allow unverified files."""

    exit_code = 5


class PrefixError(WizardError):
    """The install location is unusable (exists, not writable, bad characters, no space)."""

    stage = Stage.INSTALL
    exit_code = 6


class ElevationError(PrefixError):
    """An ``AllUsers`` install on Windows without administrator rights: the NSIS installer would show a message
    box even under ``/S`` and exit 2, or hang on a machine with no desktop (see :mod:`app.core.elevation`)."""

    exit_code = 12


class InstallError(WizardError):
    """The installer failed, or the prefix it left does not answer ``conda --version``."""

    stage = Stage.INSTALL
    exit_code = 7


class ShellSetupError(WizardError):
    """PATH or shell-init changes could not be applied (nothing was left half-written)."""

    stage = Stage.SHELL
    exit_code = 8


class EnvCreateError(WizardError):
    """``conda create`` failed; ``message`` is conda's own message."""

    stage = Stage.ENV
    exit_code = 9


class TermsOfServiceError(EnvCreateError):
    """conda refused to use Anaconda's channels because their Terms of Service were not accepted."""

    exit_code = 10


class GpuCheckError(WizardError):
    """The training probe could not run, or its loss did not fall."""

    stage = Stage.GPU_CHECK
    exit_code = 11


class NoWorkingGpuError(GpuCheckError):
    """``--require-gpu`` was given and the GPU check's verdict is not "GPU works" (CPU only, or a GPU present
    but broken); ``message`` is the verdict, ``fix`` its fix."""

    exit_code = 13


class UninstallError(WizardError):
    """``--uninstall`` could not reverse everything (a file edited since is kept, a folder not removed), or
    there is no record that the wizard installed or set up the prefix."""

    stage = Stage.UNINSTALL
    exit_code = 14


#: Exit codes of silent mode, documented in README.md. Order matters for the table only.
EXIT_CODES: dict[str, int] = {
    "success": 0,
    "failure not otherwise listed": 1,
    UsageError.__name__: UsageError.exit_code,
    CatalogError.__name__: CatalogError.exit_code,
    DownloadError.__name__: DownloadError.exit_code,
    HashMismatchError.__name__: HashMismatchError.exit_code,
    PrefixError.__name__: PrefixError.exit_code,
    ElevationError.__name__: ElevationError.exit_code,
    InstallError.__name__: InstallError.exit_code,
    ShellSetupError.__name__: ShellSetupError.exit_code,
    EnvCreateError.__name__: EnvCreateError.exit_code,
    TermsOfServiceError.__name__: TermsOfServiceError.exit_code,
    GpuCheckError.__name__: GpuCheckError.exit_code,
    NoWorkingGpuError.__name__: NoWorkingGpuError.exit_code,
    UninstallError.__name__: UninstallError.exit_code,
    Cancelled.__name__: 130,
}
EXIT_CANCELLED = 130
