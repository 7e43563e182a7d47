"""Save a PNG of every wizard page, driven through a real run against a local mirror.

Usage (from the repository root; a display is needed for the native xcb look, e.g. Xvfb)::

    xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python build_scripts/screenshots.py [--out docs/screenshots]

Without a display, ``QT_QPA_PLATFORM=offscreen`` works too (fonts may differ).

Like the end-to-end test, it uses the test stand-ins (``tests/support``): the stand-in
Miniconda installer served by a local HTTP server in the repo.anaconda.com layout, its
``conda`` (which creates a real venv seeing this interpreter's torch), and a temporary
HOME, so nothing on this machine is changed and nothing is fetched from the internet.
The GPU check trains for real on whatever torch finds (the CPU here).

Writes ``01-package.png`` ... ``07-finish.png`` (window size ``--size``, default 1024x768), and on
the way ``02a-download-paused.png`` (the download paused), ``03a-install-empty-folder.png`` (an existing empty folder as the location), ``03b-install-existing-other.png``
(a conda the wizard did not make: reuse or update), ``03c-install-existing-ours.png`` (one it made: repair or uninstall),
``05-env.png`` (the env page before Create: preset and reason, where each part comes from, the
commands that will run), ``05d-env-file-problems.png`` (a malformed environment.yml imported: its
problems), ``05a-env-exists.png`` (an env of that name exists), ``05b-env-exists-question.png`` (what
Create asks then) and ``05c-env-created.png`` (after Create: the verification lines).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _isolate(home: Path) -> None:
    """A throw-away HOME (rc files, caches, logs) and no conda settings from this machine."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"), "XDG_DATA_HOME": str(home / ".local" / "share"),
        "SHELL": "/bin/bash",
    })
    for name in list(os.environ):
        if name.startswith("CONDA_") or name in ("CONDARC", "MAMBARC", "ZDOTDIR", "CI"):
            os.environ.pop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1024x768", help="window size WIDTHxHEIGHT")
    parser.add_argument("--steps", type=int, default=60, help="GPU-check training steps")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--lang", default="en", help="language of the pages: en or zh_CN (app.i18n)")
    args = parser.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))

    work = Path(tempfile.mkdtemp(prefix="wizard-shots-"))
    _isolate(work / "home")

    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtWidgets import QMessageBox, QPushButton
    from PySide6.QtWidgets import QApplication, QWizard

    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo
    from app import i18n
    from app.gui.wizard import InstallerWizard, PageId
    from tests.support.http_server import LocalServer
    from tests.support.mirror import build_mirror
    from tests.support.standin import DEFAULT_FILENAME, build_standin_installer, run_installer

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    i18n.set_language(args.lang)
    i18n.install_qt_translators(app, args.lang)

    def wait_until(cond, timeout: float = 180.0, what: str = "") -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError(f"timed out waiting for {what}")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.02)

    def settle(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def next_button():
        for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CommitButton):
            b = wizard.button(which)
            if b.isVisible():
                return b
        raise RuntimeError("no Next button")

    def shot(name: str) -> None:
        settle()
        path = args.out / name
        wizard.grab().save(str(path))
        print(f"wrote {path}")

    def go_next() -> None:
        wait_until(lambda: next_button().isEnabled(), what=f"Next on page {wizard.currentId()}")
        next_button().click()
        settle(0.2)

    args.out.mkdir(parents=True, exist_ok=True)
    standin = build_standin_installer(work / "standin", DEFAULT_FILENAME)
    root = build_mirror(work / "mirror", [standin], layout="official")
    with LocalServer(root) as server:
        plan = InstallPlan(platform=PlatformInfo("Linux", "x86_64"))
        plan.mirror = server.base_url
        plan.prefix = work / "home" / "miniconda3"
        plan.download_dir = work / "downloads"
        plan.log_file = work / "home" / ".local" / "state" / "miniconda-wizard" / "log" / "install.log"
        plan.init_shells = ("bash", "zsh", "fish")
        plan.gpu_steps = args.steps
        wizard = InstallerWizard(plan, confirm_close=False)
        wizard.resize(width, height)
        wizard.show()
        state = wizard.state

        wait_until(lambda: next_button().isEnabled(), what="the installer list")
        shot("01-package.png")
        from tests.support.http_server import Fault

        server.fault("/" + DEFAULT_FILENAME, Fault(delay_per_chunk=2.0, times=1))  # slow, so it can be paused
        go_next()

        dl = wizard.page(PageId.DOWNLOAD)
        wait_until(lambda: dl.progress.bar.value() > 0, what="the first bytes")
        dl.pause_button.click()
        wait_until(dl.is_paused, what="the pause")
        shot("02a-download-paused.png")
        dl.pause_button.click()  # resume
        wait_until(lambda: next_button().isEnabled(), what="the download")
        shot("02-download.png")
        go_next()

        install = wizard.page(PageId.INSTALL)
        empty, prefix = work / "home" / "miniconda3-new", plan.prefix
        empty.mkdir()
        install.prefix_edit.setText(str(empty))
        shot("03a-install-empty-folder.png")
        other = work / "home" / "anaconda3"  # issue 11: a conda the wizard did not make, then one it made
        run_installer(standin, "-b", "-p", str(other))
        install.prefix_edit.setText(str(other))
        shot("03b-install-existing-other.png")
        from app.core import manifest
        manifest.save(manifest.Manifest(str(other), made_by_us=True))
        install.prefix_edit.setText(str(empty))
        install.prefix_edit.setText(str(other))
        shot("03c-install-existing-ours.png")
        install.prefix_edit.setText(str(prefix))
        empty.rmdir()
        shot("03-install.png")  # the wizard's own button reads Install (issue 9)
        go_next()  # Install: runs the installer; the page moves on by itself when it is verified
        wait_until(lambda: wizard.currentId() == PageId.PATH, what="the installation")

        shot("04-path.png")
        go_next()
        wait_until(lambda: wizard.currentId() == PageId.ENV, what="the shell step")
        wizard.back()  # the PATH page again: each shell's `type conda` proof next to it (issue 11)
        shot("04a-path-verified.png")
        go_next()

        env = wizard.page(PageId.ENV)
        wait_until(lambda: not env.gpu_pending(), what="the GPU probe")
        env.tos_check.setChecked(True)
        shot("05-env.png")
        env.import_env_file(ROOT / "tests" / "data" / "environment_yml" / "h2oai_h2ogpt__environment.yml")
        shot("05d-env-file-problems.png")
        env.import_env_file(None)  # back to the preset (and the name "llm")
        existing = plan.prefix / "envs" / plan.env_name
        (existing / "conda-meta").mkdir(parents=True)
        env.refresh()
        shot("05a-env-exists.png")

        def answer_question() -> None:
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(50, answer_question)
                return
            settle()
            box.grab().save(str(args.out / "05b-env-exists-question.png"))
            print(f"wrote {args.out / '05b-env-exists-question.png'}")
            box.findChild(QPushButton, "rename_button").click()

        QTimer.singleShot(0, answer_question)
        next_button().click()  # the wizard's Create env: asks; "Choose another name" starts nothing
        shutil.rmtree(existing)
        env.refresh()
        next_button().click()  # Create env: the page moves on by itself once the env checks out (issue 9)
        wait_until(lambda: wizard.currentId() == PageId.GPU_CHECK, what="conda create")

        wait_until(lambda: state.gpu is not None or not wizard.page(PageId.GPU_CHECK).is_busy(),
                   timeout=600, what="the GPU check")
        wait_until(lambda: next_button().isEnabled(), what="the GPU check")
        shot("06-gpu-check.png")
        wizard.back()  # the env page again: after Create, the verification lines
        shot("05c-env-created.png")
        go_next()
        wait_until(lambda: next_button().isEnabled() and not wizard.page(PageId.GPU_CHECK).is_busy(), timeout=600,
                   what="the GPU check")
        about = wizard.show_about()  # issue 9: version, licences, Anaconda's terms
        settle()
        about.grab().save(str(args.out / "08-about.png"))
        print(f"wrote {args.out / '08-about.png'}")
        about.close()
        go_next()

        shot("07-finish.png")
        wizard.accept()
    QCoreApplication.processEvents()
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
