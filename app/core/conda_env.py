"""Step 5: create the conda env with ``conda create --yes --json -n NAME python=X.Y PACKAGES``.

Facts this relies on, recorded from real conda 26.7 (tests/data/real-conda, source
in its README):

* through a pipe, ``create --json`` prints ONE final JSON document and no progress
  records; on a terminal it prints NUL-separated progress records first;
* errors are a JSON object on stdout (``exception_name``, ``message``, ``error``)
  with exit code 1 and an empty stderr;
* ``create -n NAME`` over an existing env replaces it.

Because a pipe gives no progress, live progress comes from watching the package
cache (``<root>/pkgs``, bytes downloaded) and the new env's ``conda-meta``
(packages linked) twice a second.

The Anaconda Terms of Service gate (conda-anaconda-tos plugin) fails a
non-interactive ``conda create`` on repo.anaconda.com channels with
``CondaToSNonInteractiveError``; when the user accepted the ToS we pass
``CONDA_PLUGINS_AUTO_ACCEPT_TOS=yes`` (the plugin's documented switch), which
writes nothing to disk.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import Cancelled, EnvCreateError, Stage, TermsOfServiceError
from app.core.events import CancelToken, Progress, Reporter
from app.core.plan import InstallPlan
from app.core.system import child_env, run_streaming

TOS_FIX = (
    "Accept the Anaconda Terms of Service for the defaults channels (the checkbox in the wizard, "
    "--accept-tos in silent mode), or use only the conda-forge channel (--channels conda-forge)."
)


@dataclass(frozen=True)
class EnvResult:
    """A created env: its ``name``, ``prefix`` (folder) and ``python`` executable."""

    name: str
    prefix: Path
    python: Path


def env_python(env_prefix: Path, os_name: str) -> Path:
    """The Python executable of an env: ``bin/python``, or ``python.exe`` on Windows."""
    return env_prefix / "python.exe" if os_name == "Windows" else env_prefix / "bin" / "python"


def parse_conda_json(stdout: str) -> dict[str, Any] | None:
    """The final JSON document of ``conda ... --json`` output, or ``None`` when there is none.

    Handles the pipe form (one document) and the terminal form (progress records
    separated by ``\\n\\0`` before the final document).
    """
    chunks = [c.strip() for c in stdout.split("\0")]
    for chunk in reversed(chunks):
        if not chunk:
            continue
        try:
            doc = json.loads(chunk)
        except json.JSONDecodeError:
            # Text before the document (a warning line): try from the last line that opens an object.
            lines = chunk.splitlines()
            for i in range(len(lines) - 1, -1, -1):
                if lines[i].startswith("{"):
                    try:
                        doc = json.loads("\n".join(lines[i:]))
                        break
                    except json.JSONDecodeError:
                        continue
            else:
                continue
        if isinstance(doc, dict) and not {"fetch", "progress"} <= doc.keys():
            return doc
    return None


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


class _Watcher(threading.Thread):
    """Reports package-cache growth and linked-package count while conda runs."""

    def __init__(self, pkgs_dir: Path, env_prefix: Path, reporter: Reporter) -> None:
        super().__init__(daemon=True)
        self.pkgs_dir, self.env_prefix, self.reporter = pkgs_dir, env_prefix, reporter
        self.stop = threading.Event()
        self.start_bytes = _dir_bytes(pkgs_dir) if pkgs_dir.is_dir() else 0

    def run(self) -> None:
        elapsed = 0.0
        while not self.stop.wait(0.5):
            elapsed += 0.5
            got = max(0, (_dir_bytes(self.pkgs_dir) if self.pkgs_dir.is_dir() else 0) - self.start_bytes)
            meta = self.env_prefix / "conda-meta"
            linked = len(list(meta.glob("*.json"))) if meta.is_dir() else 0
            text = f"{got / 1024**2:.1f} MiB of packages fetched, {linked} linked, {elapsed:.0f} s"
            self.reporter.progress(Progress(Stage.ENV, linked, None, rate=got / elapsed if elapsed else None, text=text))


def _error_from(doc: dict[str, Any] | None, res_text: str, returncode: int) -> EnvCreateError:
    if doc is None:
        if "CondaToSNonInteractiveError" in res_text:
            return TermsOfServiceError("conda refused: the Anaconda Terms of Service have not been accepted.",
                                       fix=TOS_FIX, detail=res_text[-4000:])
        return EnvCreateError(
            f"conda create failed (exit code {returncode}) without a JSON answer.",
            fix="Read conda's output in the log.",
            detail=res_text[-4000:],
        )
    name = str(doc.get("exception_name", ""))
    message = str(doc.get("message") or doc.get("error") or "conda create failed.").strip()
    detail = str(doc.get("error", ""))
    if "ToS" in name or "TermsOfService" in name:
        return TermsOfServiceError(message, fix=TOS_FIX, detail=detail)
    if name.startswith("PackagesNotFound"):
        fix = "Check the package names and versions, or add a channel that has them (for example conda-forge)."
    elif "Unsatisfiable" in name:
        fix = "Loosen the version pins, or choose another Python version."
    elif "HTTP" in name or "Connection" in name:
        fix = "Check the network and proxy, or choose a channel mirror."
    else:
        fix = "Read conda's message above and the log."
    return EnvCreateError(f"{name}: {message}" if name else message, fix=fix, detail=detail)


def create(plan: InstallPlan, conda_exe: Path, reporter: Reporter, cancel: CancelToken) -> EnvResult:
    """Create the env of ``plan`` with the conda of the new installation.

    Args:
        plan: ``env_name``, ``env_python``, ``packages``, ``channels``, ``accept_tos``.
        conda_exe: the root prefix's conda (:func:`app.core.installer.conda_executable`).

    Returns:
        :class:`EnvResult` with the env's Python, checked to exist.

    Raises:
        TermsOfServiceError: the defaults channels need the ToS accepted.
        EnvCreateError: conda's own message (packages not found, unsatisfiable, HTTP ...).
        Cancelled: the conda process tree was ended.
    """
    argv = [str(conda_exe), *plan.conda_create_args()]
    extra = {"CONDA_PLUGINS_AUTO_ACCEPT_TOS": "yes"} if plan.accept_tos else {}
    env = child_env(extra)
    for key in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "CONDA_EXE", "CONDA_PYTHON_EXE"):
        env.pop(key, None)  # an activated env of another installation must not leak in
    root = conda_exe.parent.parent
    guess = root / "envs" / plan.env_name
    if guess.exists():
        reporter.log(Stage.ENV, f"An env named {plan.env_name} exists in {guess}; conda will replace it.", "warning")
    reporter.log(Stage.ENV, "Running: " + " ".join(argv))
    existed = guess.exists()
    watcher = _Watcher(root / "pkgs", guess, reporter)
    watcher.start()
    try:
        res = run_streaming(
            argv,
            cancel=cancel,
            on_stdout=lambda line: reporter.log(Stage.ENV, line, "debug"),
            on_stderr=lambda line: reporter.log(Stage.ENV, line, "warning"),
            env=env,
        )
    except OSError as exc:
        raise EnvCreateError(f"conda could not be started: {exc}",
                             fix="Install Miniconda first, or check the install location.") from exc
    except Cancelled:
        if not existed and guess.exists():
            reporter.log(Stage.ENV, f"Removing the half-made env {guess}.", "warning")
            shutil.rmtree(guess, ignore_errors=True)
        elif existed:
            reporter.log(Stage.ENV, f"The env {guess} may be incomplete; create it again before use.", "warning")
        raise
    finally:
        watcher.stop.set()
        watcher.join(timeout=2)
    doc = parse_conda_json(res.stdout)
    if res.returncode != 0 or doc is None or not doc.get("success", False):
        raise _error_from(doc, res.stdout + res.stderr, res.returncode)
    prefix = Path(str(doc.get("prefix") or doc.get("actions", {}).get("PREFIX") or guess))
    python = env_python(prefix, plan.platform.os)
    if not python.exists():
        raise EnvCreateError(
            f"conda reported success, but the env {prefix} has no Python at {python}.",
            fix="Keep python in the env spec (python=X.Y), then create it again.",
        )
    linked = len(doc.get("actions", {}).get("LINK", []))
    reporter.log(Stage.ENV, f"Created env {plan.env_name} in {prefix} ({linked} packages linked).")
    reporter.info(Stage.ENV, "env_prefix", str(prefix))
    return EnvResult(plan.env_name, prefix, python)


# GUI helper: provisional. The engine's own existing_env (issue 10, section 1) replaces this one at
# merge time; the GUI (app/gui/pages/env_page.py) only relies on this signature.
def existing_env(root_prefix: Path, name: str, os_name: str) -> Path | None:
    """The folder of the env ``name`` of the installation at ``root_prefix`` when it exists, else ``None``.

    ``conda create -n NAME --yes`` replaces whatever is at ``<root>/envs/NAME`` (recorded:
    real-conda ``errors-2026-11-30/exists.*``), so any file or folder there counts. ``os_name``
    (``"Windows"``, ``"Linux"``, ``"MacOSX"``) is accepted for the engine's version.
    """
    path = Path(root_prefix) / "envs" / name
    return path if (path.exists() or path.is_symlink()) else None
