"""Save PNGs of the package page (issue 5): the default choice, an old glibc, and ``--mirror auto``.

Usage (from the repository root)::

    xvfb-run -a -s "-screen 0 1024x768x24" .venv/bin/python build_scripts/screenshots_package.py [--out docs/screenshots]

Writes ``01-package.png`` (the stand-in mirror, Linux x86_64), ``01a-package-old-glibc.png`` (the same kind
of mirror seen from a glibc 2.17 machine: only installers that run are listed, with why and the hidden ones
unfolded) and ``01b-package-mirror-auto.png`` (six local mirrors stand in for the named ones through
``MINICONDA_WIZARD_MIRRORS``: one fast, one slow, one without the file, one down, one stale, one answering
HTTP 500). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1024x768")
    args = parser.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wizard-pkg-shots-"))

    from PySide6.QtWidgets import QApplication, QWizard

    from app.core.plan import InstallPlan
    from app.core.platform_info import PlatformInfo
    from app.gui import install_translators
    from app.gui.wizard import InstallerWizard
    from tests.support.http_server import Fault, LocalServer
    from tests.support.mirror import build_mirror
    from tests.support.standin import DEFAULT_FILENAME, build_standin_installer

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setStyle("Fusion")
    install_translators(app)

    def wait_until(cond, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("timed out")
            app.processEvents()
            time.sleep(0.02)

    def shoot(plan: InstallPlan, name: str, before=None) -> None:
        plan.prefix = work / "home" / "miniconda3"
        plan.download_dir = work / "downloads"
        wizard = InstallerWizard(plan, confirm_close=False)
        wizard.resize(width, height)
        wizard.show()
        wait_until(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
        page = wizard.currentPage()
        if before:
            before(page)
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
        wizard.grab().save(str(args.out / name))
        print(f"wrote {args.out / name}")
        wizard.close()

    standin = build_standin_installer(work / "standin", DEFAULT_FILENAME)
    with LocalServer(build_mirror(work / "mirror", [standin])) as server:
        shoot(InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror=server.base_url), "01-package.png")

    files = []
    for fname in ("Miniconda3-latest-Linux-x86_64.sh", "Miniconda3-py313_25.9.1-3-Linux-x86_64.sh",
                  "Miniconda3-py312_24.1.2-0-Linux-x86_64.sh", "Miniconda3-py311_23.11.0-2-Linux-x86_64.sh"):
        f = work / "glibc" / fname
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(fname.encode() * 1000)
        files.append(f)
    with LocalServer(build_mirror(work / "glibc-mirror", files)) as server:
        shoot(InstallPlan(platform=PlatformInfo("Linux", "x86_64", glibc="2.17"), mirror=server.base_url),
              "01a-package-old-glibc.png", before=lambda page: page.hidden_button.setChecked(True))

    name = DEFAULT_FILENAME
    good = work / "good" / name  # the stand-in is tiny; a probe wants more than 1 MiB (MIN_INSTALLER_BYTES)
    good.parent.mkdir()
    good.write_bytes(standin.read_bytes() + b"\0" * (1200 << 10))
    stale = work / "stale" / name
    stale.parent.mkdir()
    stale.write_bytes(good.read_bytes() + b"\0" * 4096)
    other = work / "other" / "Miniconda3-latest-Linux-aarch64.sh"
    other.parent.mkdir()
    other.write_bytes(good.read_bytes())
    servers = {n: LocalServer(build_mirror(work / n, [f])).start()
               for n, f in (("official", good), ("tuna", good), ("bfsu", other), ("aliyun", stale), ("nju", good))}
    servers["official"].fault("/" + name, Fault(delay_before=0.6))
    servers["nju"].fault("/" + name, Fault(status=500))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    urls = {n: srv.base_url for n, srv in servers.items()}
    urls["ustc"] = f"http://127.0.0.1:{closed}/anaconda/miniconda/"
    table = work / "mirrors.toml"
    table.write_text("schema = 1\n" + "".join(f'[mirrors.{n}]\ntitle = "{n.upper()}"\ninstaller = "{urls[n]}"\n'
                                              for n in ("official", "tuna", "bfsu", "ustc", "aliyun", "nju")))
    os.environ["MINICONDA_WIZARD_MIRRORS"] = str(table)
    try:
        shoot(InstallPlan(platform=PlatformInfo("Linux", "x86_64"), mirror="auto"), "01b-package-mirror-auto.png")
    finally:
        for srv in servers.values():
            srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
