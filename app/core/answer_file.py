"""Which of a plan's settings go into a TOML answer file for other machines (the wizard's
"Save these choices for silent install"; the file is read by ``--config``).

The file holds the *choices*: the settings whose value differs from what this machine would use by default,
so that every other machine keeps its own defaults for the rest (its detected platform and shells, its own
home for the prefix), exactly as ``--write-config`` writes only the settings given on the command line. The
writing itself is ``--write-config``'s writer (:func:`app.cli.write_config`: the plan is validated first, and an
existing file is never overwritten).

Left out on purpose:

* ``log_file`` when it is the run's own file in the platform log folder (a new one is made per run);
* the answers about what this machine already had (:data:`MACHINE_ANSWERS`: an existing installation or env);
  a silent run meeting such a thing stops (exit 6 / exit 9) unless the admin adds the key by hand, so an env or
  an installation on another machine is never replaced unasked;
* ``installer`` when it is the ``Miniconda3-latest`` installer of the plan's platform: the file then says
  "the latest", which other architectures resolve to their own installer.

Paths under the home folder are written with ``~`` (``~/miniconda3``), so each machine's user gets its own.
Qt-free.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

import platformdirs

from app import APP_NAME
from app.core import mirrors
from app.core.plan import InstallPlan, default_prefix
from app.core.platform_info import EXTENSIONS

#: Settings that answer a question about this machine (what was found there), never saved.
MACHINE_ANSWERS = ("if_exists", "update_existing", "if_env_exists")
#: Settings that hold a path (``~`` is put back in front of the home folder).
PATH_SETTINGS = ("prefix", "installer_file", "download_dir", "env_file", "log_file")


def choices(plan: InstallPlan, home: Path | None = None, log_dir: Path | None = None) -> dict[str, Any]:
    """The answer-file keys and TOML values of ``plan`` that differ from this machine's defaults.

    Args:
        plan: the plan as the wizard's pages left it.
        home: the home folder whose paths are written with ``~`` (default: this user's).
        log_dir: the platform log folder (default ``platformdirs.user_log_dir``); a ``log_file`` in it is left out.

    Returns:
        ``{key: value}`` in the plan's field order; values are TOML types (strings, booleans, numbers,
        lists of strings). Empty when every setting is this machine's default.
    """
    defaults = InstallPlan(platform=plan.platform)
    defaults.prefix = default_prefix(plan.platform)
    base = defaults.to_mapping()
    if plan.platform.tag != InstallPlan().platform.tag:  # not this machine's own platform: say so in the file
        base.pop("platform", None)
    home = Path(home) if home is not None else _home()
    log_dir = Path(log_dir) if log_dir is not None else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    out: dict[str, Any] = {}
    for key, value in plan.to_mapping().items():
        if key in MACHINE_ANSWERS or base.get(key, None) == value:
            continue
        if key == "installer" and _is_latest(str(value), plan):
            continue
        if key == "log_file" and _same_dir(Path(value).parent, log_dir):
            continue
        if key == "prefix" and _same_path(Path(value), defaults.resolved_prefix):
            continue
        if key in PATH_SETTINGS and home is not None:
            value = tilde(value, home)
        out[key] = value
    return _without_conflicts(out, plan)


#: Settings that only matter for the env (and its GPU check): left out when no env is created.
ENV_SETTINGS = ("preset", "env_name", "env_python", "packages", "channels", "accept_tos", "torch_variant",
                "env_file", "gpu_steps", "require_gpu")


def _without_conflicts(out: dict[str, Any], plan: InstallPlan) -> dict[str, Any]:
    """``out`` without the keys that the wizard's other choices made meaningless, which ``--config`` refuses as a
    contradicting pair (``app.cli._CONFLICTS``): the env settings with ``create_env = false``, ``gpu_steps`` with
    ``gpu_check = false``, what an ``env_file`` lists, and the index settings with a local ``installer_file``
    (a named mirror then still gives conda's channels and pip's index, as in the wizard: written as
    ``condarc_mirror`` and ``pip_index``)."""
    if plan.create_env is False:
        for key in ENV_SETTINGS:
            out.pop(key, None)
        out["gpu_check"] = False  # --no-env means no GPU check (the GPU check runs in the new env)
    if out.get("gpu_check") is False:
        out.pop("gpu_steps", None)
    if "env_file" in out:
        for key in ("packages", "env_python", "channels"):
            out.pop(key, None)
    if "installer_file" in out:
        out.pop("installer", None)
        out.pop("download_only", None)
        mirror = out.pop("mirror", None)
        named = mirrors.find(mirror) if mirror else None
        if named is not None and named.name != "official":
            if plan.condarc_mirror is None and named.conda is not None:
                out["condarc_mirror"] = named.name
            if plan.pip_index is None and named.pip_index:
                out["pip_index"] = named.pip_index
    return out


def skipped_answers(plan: InstallPlan) -> list[str]:
    """The keys of :data:`MACHINE_ANSWERS` that ``plan`` sets to something other than the default
    (those answers are not saved; the wizard says so)."""
    fresh = InstallPlan(platform=plan.platform)
    return [k for k in MACHINE_ANSWERS if getattr(plan, k) != getattr(fresh, k)]


def tilde(path: str, home: Path) -> str:
    """``path`` with a leading ``home`` written as ``~`` (``/home/alice/miniconda3`` -> ``~/miniconda3``);
    other paths unchanged. Uses ``/`` after ``~`` on every OS (the plan expands either)."""
    p, h = PurePath(path), PurePath(home)
    if p == h:
        return "~"
    try:
        rest = p.relative_to(h)
    except ValueError:
        return str(path)
    return "~/" + rest.as_posix()


def _is_latest(name: str, plan: InstallPlan) -> bool:
    """Whether ``name`` is the installer that "latest" picks for the plan's platform (the first extension)."""
    exts = EXTENSIONS.get(plan.platform.os, ())
    return bool(exts) and name == f"Miniconda3-latest-{plan.platform.tag}{exts[0]}"


def _home() -> Path | None:
    home = os.path.expanduser("~")
    return None if home == "~" else Path(home)


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _same_path(a: Path, b: Path) -> bool:
    return _same_dir(Path(os.path.expanduser(str(a))), b)
