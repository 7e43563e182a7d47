"""The Linux half of "CI that installs for real": the FROZEN console program does a full silent install against
the local test mirror, then undoes it. Run by ``.ci/run`` after the tests and the build.

Usage: ``.venv/bin/python build_scripts/frozen_check.py [dist/miniconda-wizard]``. Steps (each failure exits 1
with what differed):

1. Bundle checks: ``miniconda-wizard-cli --version`` exits 0 and never loads Qt (``LD_DEBUG=libs`` lists no
   ``libQt6``/``PySide6`` file); the console program's folder holds no PySide6; the GUI program, started with no
   display, exits 2 with the "needs a display" message (the start-up check works frozen, no Qt abort).
2. A full silent install with the frozen ``miniconda-wizard-cli``: the stand-in Miniconda installer
   (tests/support/standin.py) from a local mirror (tests/support/mirror.py, tests/support/http_server.py) on
   127.0.0.1, ``--accept-tos``, the GPU check on the CPU (a few steps), ``--json``: exit 0 and a ``finished``
   event; conda was started with the user's environment (the stand-in logs each call's environment: no
   ``_PYI_*``, no ``QT_PLUGIN_PATH``, nothing pointing into the bundle).
3. ``--uninstall --yes``: exit 0, the prefix is gone and ``~/.bashrc`` is byte-identical to before.

Everything happens in a temporary home; nothing outside it is touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.http_server import LocalServer  # noqa: E402
from tests.support.mirror import build_mirror  # noqa: E402
from tests.support.standin import DEFAULT_FILENAME, build_standin_installer, read_calls  # noqa: E402


class CheckFailed(Exception):
    """One check did not hold; the message says what was seen."""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONDA_", "PYTHON", "QT_", "VIRTUAL_ENV")) and k not in ("CI", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
                "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
                "SHELL": "/bin/bash", "LANG": "C.UTF-8"})
    env["LD_LIBRARY_PATH"] = "/opt/user-lib-marker"  # must come back to the children as it was
    return env


def _run(argv: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def _expect(cond: bool, what: str, res: subprocess.CompletedProcess[str] | None = None) -> None:
    if not cond:
        detail = "" if res is None else f"\nexit {res.returncode}\nstdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-3000:]}"
        raise CheckFailed(what + detail)
    print(f"ok: {what}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "(missing)"


def check_bundle(bundle: Path, home: Path) -> None:
    cli, gui = bundle / "miniconda-wizard-cli", bundle / "miniconda-wizard"
    env = _env(home)
    res = _run([str(cli), "--version"], env)
    _expect(res.returncode == 0 and res.stdout.startswith("miniconda-wizard "), "miniconda-wizard-cli --version", res)
    res = _run([str(cli), "--version"], {**env, "LD_DEBUG": "libs"})
    qt = [line for line in res.stderr.splitlines() if "calling init" in line and ("libQt6" in line or "PySide6" in line)]
    _expect(res.returncode == 0 and not qt, "the console program loads no Qt library" + (f": {qt[:3]}" if qt else ""))
    _expect(not list((bundle / "_cli").rglob("*PySide6*")) and not list((bundle / "_cli").rglob("libQt6*")),
            "the console program's folder holds no PySide6 / Qt")
    res = _run([str(gui)], env, timeout=120)
    _expect(res.returncode == 2 and "needs a display" in res.stderr and "--silent" in res.stderr,
            "the GUI program without a display exits 2 and says why", res)


def check_install(bundle: Path, work: Path, home: Path) -> None:
    cli = bundle / "miniconda-wizard-cli"
    standin = build_standin_installer(work / "standin", DEFAULT_FILENAME)
    root = build_mirror(work / "mirror", [standin], layout="official")
    bashrc = home / ".bashrc"
    bashrc.write_text("# the user's own .bashrc\nexport EDITOR=vi\n", encoding="utf-8")
    before = _sha(bashrc)
    prefix = work / "miniconda3"
    env = _env(home)
    # Every non-interactive bash the wizard starts (the installer, shell checks) first runs $BASH_ENV, which
    # records the environment it got.
    record = work / "record-env.sh"
    record.write_text(f'{{ echo "----"; env; }} >> "{work / "child-envs.txt"}"\n')
    env["BASH_ENV"] = str(record)
    with LocalServer(root) as server:
        res = _run([str(cli), "--json", "--mirror", server.base_url, "--prefix", str(prefix), "--accept-tos",
                    "--gpu-steps", "5", "--download-dir", str(work / "dl"), "--log-file", str(work / "install.log")],
                   env)
    events = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    _expect(res.returncode == 0 and events and events[-1]["event"] == "finished",
            "frozen silent install (--silent implied) exits 0 with a finished event", res)
    _expect((prefix / "bin" / "conda").exists() and (prefix / "envs" / "llm").is_dir(), "Miniconda and the env exist")
    _expect(_sha(bashrc) != before and str(prefix) in bashrc.read_text(), "~/.bashrc got the conda block")
    _expect(bool(read_calls(prefix)), "the stand-in conda logged its calls")
    children = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
                for block in (work / "child-envs.txt").read_text(errors="replace").split("----\n") if block.strip()]
    _expect(len(children) >= 1, f"bash children recorded their environment ({len(children)})")
    leaks = sorted({k for c in children for k, v in c.items()
                    if k.startswith("_PYI_") or k in ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "LD_LIBRARY_PATH_ORIG")
                    or str(bundle) in v})
    _expect(not leaks, "children ran with the user's environment (no bundle variables)" + (f": {leaks}" if leaks else ""))
    _expect(all(c.get("LD_LIBRARY_PATH") == "/opt/user-lib-marker" for c in children),
            "children got the user's LD_LIBRARY_PATH back")
    res = _run([str(cli), "--uninstall", "--yes", "--prefix", str(prefix)], env)
    _expect(res.returncode == 0, "frozen --uninstall --yes exits 0", res)
    _expect(not prefix.exists(), "the prefix is gone")
    _expect(_sha(bashrc) == before, "~/.bashrc is byte-identical to before the install")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    bundle = Path(args[0] if args else ROOT / "dist" / "miniconda-wizard").resolve()
    if not (bundle / "miniconda-wizard-cli").exists():
        print(f"no bundle at {bundle}: run build_scripts/build_linux.sh first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mcw-frozen-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        try:
            check_bundle(bundle, home)
            check_install(bundle, work, home)
        except CheckFailed as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
    print("frozen checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
