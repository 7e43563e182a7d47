"""The desktop front end: a PySide6 QWizard over :mod:`app.core` (the only package that imports Qt).

:func:`run` is called by :func:`app.cli.main` when ``--silent`` is not given.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app import i18n
from app.core.plan import InstallPlan

ORGANIZATION = "miniconda-wizard"


def icon_files() -> list[Path]:
    """The window icon's files (``resources/icons/miniconda-wizard-<N>.png``, :mod:`app.gui.icon`) that exist."""
    from app.gui.icon import SIZES
    from app.resources import resources_dir

    folder = resources_dir() / "icons"
    return [p for p in (folder / f"miniconda-wizard-{n}.png" for n in SIZES) if p.is_file()]


def window_icon():
    """The wizard's window icon (a ``QIcon``; empty when no icon file is found): :func:`app.gui.icon.app_icon`."""
    from app.gui.icon import app_icon

    return app_icon()


def _qapplication_exists() -> bool:
    """True when a QApplication already runs in this process (then Qt has its display already)."""
    qtwidgets = sys.modules.get("PySide6.QtWidgets")
    return bool(qtwidgets is not None and qtwidgets.QApplication.instance() is not None)


def run(plan: InstallPlan, argv: list[str] | None = None, state=None, start_gpu_check: bool = False) -> int:
    """Show the wizard for ``plan`` and run the event loop.

    Returns the exit code: 0 finished, 1 cancelled, 2 when the window cannot open here (no
    display, a display that does not answer, or a missing library; see :mod:`app.gui.preflight`,
    which says so on stderr, as a JSON ``failed`` event with ``--json``, and in the log).
    """
    from app.gui.preflight import DisplayUnavailable, check_display, report

    if not _qapplication_exists():
        try:
            if check_display() is not None:  # Linux/BSD: fonts too (a bare system shows empty boxes)
                from app.gui.preflight import check_fonts

                font_warning = check_fonts(argv=argv or [])
                if font_warning:
                    print(f"warning: {font_warning}", file=sys.stderr, flush=True)
        except DisplayUnavailable as exc:
            report(exc, json_events="--json" in (argv or []), log_file=plan.log_file)
            return exc.exit_code

    from PySide6.QtWidgets import QApplication, QStyleFactory

    from app import APP_NAME, __version__
    from app.gui.wizard import InstallerWizard, PageId

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("Miniconda Setup Wizard")
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(__version__)
    from app.gui.icon import DESKTOP_FILE_NAME, app_icon

    app.setWindowIcon(app_icon())  # every window; _NET_WM_ICON on X11
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    # Linux desktops without a native Qt style (no KDE/GNOME theme plugin) fall back to an old look.
    if sys.platform.startswith("linux") and "Fusion" in QStyleFactory.keys():
        app.setStyle("Fusion")
    translators = i18n.install_qt_translators(app)  # noqa: F841 - kept alive while the wizard runs  # noqa: F841 - the language of app.i18n (--lang / locale)
    from app.gui.gc_guard import GarbageCollectorGuard

    gc_guard = GarbageCollectorGuard(app)  # cycles are collected on the GUI thread only
    wizard = InstallerWizard(plan, state=state, start_id=PageId.GPU_CHECK if start_gpu_check else None)
    # Quit when the wizard is done, exactly once: also with other top-level windows open, and
    # without a second Quit event (last window closed) left queued behind exec().
    quit_on_last = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    wizard.finished.connect(app.quit)
    wizard.show()
    try:
        app.exec()
    finally:
        app.setQuitOnLastWindowClosed(quit_on_last)
        gc_guard.stop()
    return 0 if wizard.result() == 1 else 1


def run_uninstall(plan: InstallPlan, argv: list[str] | None = None) -> int:
    """``--uninstall`` without ``--silent``: ask in a dialog, listing what will be done, then uninstall
    ``plan.resolved_prefix`` off the GUI thread (:mod:`app.core.uninstall`) and show the result.

    Returns the exit code: 0 uninstalled, 1 the user said no, 14 nothing to uninstall or something was kept
    (:class:`~app.core.errors.UninstallError`), 2 no window can open here.
    """
    from app.gui.preflight import DisplayUnavailable, check_display, report

    if not _qapplication_exists():
        try:
            check_display()
        except DisplayUnavailable as exc:
            report(exc, json_events="--json" in (argv or []), log_file=plan.log_file)
            return exc.exit_code
    from PySide6.QtWidgets import QApplication

    from app import APP_NAME
    from app.gui.widgets.existing_install import UninstallRunner, confirm_uninstall

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    app.setApplicationDisplayName("Miniconda Setup Wizard")
    from app.gui.icon import app_icon

    app.setWindowIcon(app_icon())
    answer = confirm_uninstall(None, plan.resolved_prefix, plan.platform.os)
    if answer is None:
        return 14
    if not answer:
        return 1
    return UninstallRunner(plan.resolved_prefix, plan.platform.os).exec()
