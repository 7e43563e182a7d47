"""Step 5: create the conda env with ``conda create --yes --json -n NAME python=X.Y PACKAGES``.

Facts this relies on, recorded from real conda 26.7 (tests/data/real-conda, source
in its README):

* through a pipe, ``create --json`` prints ONE final JSON document and no progress
  records; on a terminal it prints NUL-separated progress records first;
* errors are a JSON object on stdout (``exception_name``, ``message``, ``error``)
  with exit code 1 and an empty stderr;
* ``create -n NAME`` over an existing env replaces it, with ``--yes`` and no word about it
  (recorded: ``errors-2026-11-30/exists.*``); over an existing folder that is not an env
  (no ``conda-meta/history``) it installs into that folder;
* ``-n NAME`` means the first ``DIR/NAME`` that is a folder, for DIR in ``envs_dirs``
  (``conda info --json``) and then the *current directory* (conda's
  ``locate_prefix_by_name``: "always search cwd in addition to envs dirs"), else NAME in
  the first writable envs dir. So this module runs conda in ``<root>/envs`` and checks
  every one of those places before it creates anything.

An env is never replaced unasked: :func:`check_existing` applies ``plan.if_env_exists``
(``fail``: :class:`EnvExistsError`; ``reuse``: the env is used as it is; ``replace``:
conda replaces it, with a warning). :func:`app.core.pipeline.preflight` calls it before
anything is downloaded; :func:`create` calls it again. Cleanup after a failed or
cancelled ``conda create`` removes only what this run created
(:class:`app.core.snapshot.Snapshot` of each possible env folder).

Because a pipe gives no progress, live progress comes from watching the package
cache (``<root>/pkgs``) and the new env's ``conda-meta`` twice a second, which also names
the stage (solving, downloading, extracting, linking, pip): :class:`app.core.env_progress.CondaWatcher`.

With ``plan.env_file`` the command is ``conda env create --yes --json -f FILE -n NAME``
(:func:`app.core.env_file.conda_args`); everything else here (existing env, cleanup, errors) is the same.
Its success document is ``{"success": true, "actions": {... "PIP": ["name-ver", ...]}, "prefix": ...}``
(conda 26.x ``conda/env/env.py`` ``print_result``, read from the source, not recorded); a failed ``pip:``
section is ``CondaEnvException: Pip failed`` with pip's stderr after ``Pip subprocess error:`` on stderr,
and conda leaves the env behind, which the cleanup here removes when this run made it.

The Terms of Service gate (the conda-anaconda-tos plugin) fails a non-interactive ``conda create`` on ANY
channel that serves a ``terms.json`` (repo.anaconda.com's, and any other server's: recorded,
``errors-2026-11-30/tos-gate.*``) with ``CondaToSNonInteractiveError``. After the user's explicit acceptance,
:func:`app.core.tos.accept` runs conda's own ``conda tos accept`` for each channel first, so the acceptance is
kept for the user's own later conda commands; ``create`` also passes ``CONDA_PLUGINS_AUTO_ACCEPT_TOS=yes`` (the
plugin's documented switch). That switch is not silent either: the plugin writes an acceptance record under
``~/.conda/tos/`` for each channel it accepts this way (recorded: ``errors-2026-11-30/tos-auto.*``).

Failures are explained by :mod:`app.core.conda_errors` (a table of real conda outputs in
``resources/conda_errors.toml``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.i18n import _, join_sentences
from app.core import conda_cmd, conda_errors, env_file, env_progress, mirrors
from app.core.errors import Cancelled, EnvCreateError, Stage
from app.core.events import CancelToken, Reporter
from app.core.plan import InstallPlan
from app.core.snapshot import Snapshot
from app.core.system import child_env, home, run_streaming

TOS_FIX = (
    "Accept the Terms of Service of these channels (the checkbox in the wizard, --accept-tos in silent mode), "
    "or use only channels without terms (for example --channels conda-forge)."
)


class EnvExistsError(EnvCreateError):
    """The env already exists and the plan does not say to reuse or replace it (exit code 9, stage env)."""


@dataclass(frozen=True)
class EnvResult:
    """A created (or, with ``if_env_exists = "reuse"``, reused) env: ``name``, ``prefix`` (folder), ``python``."""

    name: str
    prefix: Path
    python: Path
    reused: bool = False
    #: True when the env folder did not exist (or was empty) before this run: only then may a cancel of a
    #: later env step (pip, verify) remove it (:func:`discard_created`).
    created: bool = False
    #: What was at :attr:`prefix` before this run's conda (``None`` when conda did not run): lets
    #: :func:`discard_created` remove exactly what this run added.
    before: Snapshot | None = field(default=None, compare=False, repr=False)


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


def _conda_child_env(accept_tos: bool = False) -> dict[str, str]:
    env = child_env({"CONDA_PLUGINS_AUTO_ACCEPT_TOS": "yes"} if accept_tos else {})
    for key in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "CONDA_EXE", "CONDA_PYTHON_EXE"):
        env.pop(key, None)  # an activated env of another installation must not leak in
    return env


def pip_child_vars(plan: InstallPlan) -> dict[str, str]:
    """The pip settings for the pip that ``conda env create -f`` runs for a file's ``pip:`` section.

    That pip runs before the env's own ``pip.conf`` exists (:mod:`app.core.pip_config` writes it after conda),
    and conda's pip child inherits conda's environment (conda ``env/installers/pip.py``), so the mirror's index
    is passed as pip's documented environment settings: ``PIP_INDEX_URL`` and, for an ``http://`` index,
    ``PIP_TRUSTED_HOST`` (pip refuses a plain-http index that is not trusted; source: pip's "Configuration"
    docs, every option as ``PIP_<NAME>``).

    Returns:
        ``{}`` when pip uses PyPI (no mirror index), else the variables to add.
    """
    index = mirrors.sources(plan).pip_index
    if not index:
        return {}
    out = {"PIP_INDEX_URL": index}
    parts = urlsplit(index)
    if parts.scheme.lower() == "http" and parts.hostname:
        out["PIP_TRUSTED_HOST"] = parts.hostname
    return out


def conda_cwd(root: Path) -> Path:
    """The working directory conda runs in: ``<root>/envs`` (so conda's search of the current directory
    for ``-n NAME`` finds nothing but what ``envs_dirs`` finds), else ``root`` when only that exists.
    Before the install (neither exists) it is ``<root>/envs``, which holds nothing yet."""
    envs = Path(root) / "envs"
    return Path(root) if not envs.is_dir() and Path(root).is_dir() else envs


def default_envs_dirs(root: Path, os_name: str) -> list[Path]:
    """conda's default ``envs_dirs`` without asking conda: ``<root>/envs`` first when the root is writable,
    then ``~/.conda/envs`` (and ``%LOCALAPPDATA%\\conda\\conda\\envs`` on Windows); source: conda's
    ``context.envs_dirs`` (``conda info --json`` of 26.7 lists ``[<root>/envs, ~/.conda/envs]``). Folders in
    ``CONDA_ENVS_DIRS`` / ``CONDA_ENVS_PATH`` (``os.pathsep``-separated, conda's settings) come first; .condarc
    ``envs_dirs`` is only seen by asking conda (:func:`envs_dirs`)."""
    root = Path(root)
    configured = [Path(os.path.expanduser(p)) for var in ("CONDA_ENVS_DIRS", "CONDA_ENVS_PATH")
                  for p in os.environ.get(var, "").split(os.pathsep) if p.strip()]
    user = [home() / ".conda" / "envs"]
    if os_name == "Windows" and os.environ.get("LOCALAPPDATA"):
        user.append(Path(os.environ["LOCALAPPDATA"]) / "conda" / "conda" / "envs")
    anchor = root if root.exists() else next((p for p in root.parents if p.exists()), root)
    writable = os.access(anchor, os.W_OK)
    ordered = [root / "envs", *user] if writable else [*user, root / "envs"]
    return list(dict.fromkeys([*configured, *ordered]))


def envs_dirs(root: Path, os_name: str, conda_exe: Path | None = None,
              cancel: CancelToken | None = None) -> list[Path]:
    """Where conda looks for ``-n NAME``: ``envs_dirs`` of ``conda info --json`` when ``conda_exe`` runs
    (it honours .condarc ``envs_dirs`` and ``CONDA_ENVS_PATH``), else :func:`default_envs_dirs`.

    Raises:
        Cancelled: ``cancel`` was set while conda ran.
    """
    if conda_exe is not None and Path(conda_exe).exists():
        try:
            res = run_streaming([*conda_cmd.argv_for(conda_exe), "info", "--json"], cancel=cancel, env=_conda_child_env(),
                                cwd=conda_cwd(root), timeout=120)
            doc = parse_conda_json(res.stdout) if res.returncode == 0 else None
            dirs = doc.get("envs_dirs") if doc else None
            if isinstance(dirs, list) and dirs and all(isinstance(d, str) for d in dirs):
                return [Path(d) for d in dirs]
        except (OSError, ValueError):
            pass
    return default_envs_dirs(root, os_name)


def env_locations(root: Path, name: str, os_name: str, conda_exe: Path | None = None,
                  cancel: CancelToken | None = None, dirs: list[Path] | None = None) -> list[Path]:
    """Every folder ``conda create -n NAME`` run by this module could use, in conda's order: ``DIR/NAME`` for
    each of :func:`envs_dirs` (or ``dirs``, when the caller already asked conda), then ``NAME`` in
    :func:`conda_cwd`."""
    out: list[Path] = []
    if dirs is None:
        dirs = envs_dirs(root, os_name, conda_exe, cancel)
    for d in [*dirs, conda_cwd(root)]:
        p = Path(d) / name
        if p not in out:
            out.append(p)
    return out


def _occupied(path: Path) -> bool:
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError:
        return path.is_dir()  # cannot look inside: assume it holds something


def existing_env(prefix: Path, name: str, os_name: str, conda_exe: Path | None = None,
                 cancel: CancelToken | None = None, locations: list[Path] | None = None) -> Path | None:
    """Whether ``conda create -n NAME`` with the Miniconda in ``prefix`` would land on an existing folder.

    Args:
        prefix: the Miniconda root prefix (it may not exist yet).
        name: the env name.
        os_name: ``"Linux"``, ``"MacOSX"`` or ``"Windows"``.
        conda_exe: its conda; default: :func:`app.core.installer.conda_executable` of ``prefix`` when it
            exists. When conda is there it is asked (``conda info --json``, about a second with real
            conda: call this from a worker thread in the GUI).
        locations: :func:`env_locations` already found (then conda is not asked again).

    Returns:
        The folder (a conda env or any non-empty folder conda would install into), or ``None``.
    """
    from app.core.installer import conda_executable  # installer does not import this module

    if locations is None:
        exe = conda_exe if conda_exe is not None else conda_executable(Path(prefix), os_name)
        locations = env_locations(Path(prefix), name, os_name, exe if Path(exe).exists() else None, cancel)
    for p in locations:
        if _occupied(p):
            return p
    return None


def is_conda_env(path: Path) -> bool:
    """conda's own test (``is_conda_environment``): ``conda-meta/history`` exists."""
    return (Path(path) / "conda-meta" / "history").is_file()


def check_existing(plan: InstallPlan, conda_exe: Path | None = None, cancel: CancelToken | None = None,
                   locations: list[Path] | None = None) -> Path | None:
    """Apply ``plan.if_env_exists`` to an env that already exists; call it before anything is downloaded.

    Returns:
        The existing env folder (to be reused or replaced as the plan says), or ``None`` when there is
        none (or the plan creates no env).

    Raises:
        EnvExistsError (exit code 9): it exists and ``if_env_exists`` is ``"fail"``; or ``"reuse"`` of a
            folder without a Python; or ``"replace"`` of a folder that is not a conda env (conda would
            install into it, mixing its files with the env).
    """
    if not plan.create_env:
        return None
    name, os_name = plan.env_name, plan.platform.os
    found = existing_env(plan.resolved_prefix, name, os_name, conda_exe, cancel, locations)
    if found is None:
        return None
    choose = ("Choose another env name (--env-name in silent mode), use the env as it is "
              "(--if-env-exists reuse), or replace it, which deletes everything in it (--if-env-exists replace).")
    if plan.if_env_exists == "reuse":
        python = env_python(found, os_name)
        if not python.exists():
            raise EnvExistsError(_('The env {name} in {found} cannot be reused: it has no Python ({python}).').format(name=name, found=found, python=python),
                                 fix=_('Choose another env name (--env-name in silent mode), or replace it (--if-env-exists replace).'))
        return found
    if plan.if_env_exists == "replace":
        if not is_conda_env(found):
            raise EnvExistsError(_('{found} is not a conda env (no conda-meta/history), so it is not replaced: conda would install into it and mix its files with the env.').format(found=found),
                                 fix=_('Move or delete that folder yourself, or choose another env name (--env-name in silent mode).'))
        return found
    what = "An env" if is_conda_env(found) else "A folder that is not a conda env"
    raise EnvExistsError(_('{what} named {name} already exists in {found}; it was left untouched.').format(what=what, name=name, found=found), fix=choose)


def _error_from(doc: dict[str, Any] | None, stdout: str, stderr: str, returncode: int,
                where: str = "the env folder") -> EnvCreateError:
    """conda's failure, explained by the table of real outputs (:func:`app.core.conda_errors.explain`)."""
    return conda_errors.explain(doc, stdout, stderr, returncode, where=where)


def create_argv(plan: InstallPlan, conda_exe: Path | str) -> list[str]:
    """The whole ``conda create`` (or ``conda env create -f``) command line for ``plan``, as an argument list:
    :func:`app.core.conda_cmd.argv_for` of ``conda_exe`` (on Windows ``python.exe -m conda``, never cmd.exe),
    then the plan's arguments unchanged (``numpy>=1.26``, ``numpy<2``, a channel URL with ``&``)."""
    return [*conda_cmd.argv_for(conda_exe),
            *(env_file.conda_args(plan) if plan.env_file is not None else plan.conda_create_args())]


def create(plan: InstallPlan, conda_exe: Path, reporter: Reporter, cancel: CancelToken) -> EnvResult:
    """Create the env of ``plan`` with the conda of the new installation (or reuse/replace an existing one).

    Args:
        plan: ``env_name``, ``env_python``, ``packages``, ``channels``, ``accept_tos``, ``if_env_exists``; or
            ``env_file`` (then ``conda env create -f``, see :func:`app.core.env_file.conda_args`).
        conda_exe: the root prefix's conda (:func:`app.core.installer.conda_executable`).

    Returns:
        :class:`EnvResult` with the env's Python, checked to exist (``reused=True`` when an existing env
        was kept as it is: ``if_env_exists = "reuse"``; conda is then not run).

    Raises:
        EnvExistsError: the env exists and the plan does not say to reuse or replace it (nothing changed).
        TermsOfServiceError: a channel's Terms of Service are not accepted (the message names the channels
            conda named).
        EnvCreateError: explained by :func:`app.core.conda_errors.explain` (packages not found, unsatisfiable,
            bad channel, HTTP, TLS, disk full or quota, ...), or the env has no working Python
            (:func:`app.core.conda_errors.env_without_python`). What this run created is removed.
        Cancelled: the conda process tree was ended; what this run created is removed.
    """
    root = conda_cmd.root_of(conda_exe)
    os_name = plan.platform.os
    locations = env_locations(root, plan.env_name, os_name, conda_exe, cancel)
    found = check_existing(plan, conda_exe, cancel, locations)
    if found is not None and plan.if_env_exists == "reuse":
        python = env_python(found, os_name)
        reporter.log(Stage.ENV, _('Reusing the existing env {env_name} in {found} as it is (--if-env-exists reuse); conda create is not run, so no package was added.').format(env_name=plan.env_name, found=found))
        reporter.info(Stage.ENV, "env_prefix", str(found))
        reporter.info(Stage.ENV, "env_reused", True)
        return EnvResult(plan.env_name, found, python, reused=True)
    if found is not None:
        reporter.log(Stage.ENV, _('Replacing the existing env {env_name} in {found} as asked (--if-env-exists replace): conda deletes everything in it.').format(env_name=plan.env_name, found=found), "warning")
    argv = create_argv(plan, conda_exe)
    env = _conda_child_env(plan.accept_tos)
    if plan.env_file is not None:
        pip_vars = pip_child_vars(plan)  # the file's pip: section runs before the env's pip.conf exists
        env.update(pip_vars)
        if pip_vars:
            reporter.log(Stage.ENV, _("The file's pip: section uses the pip index {pip_index_url} (PIP_INDEX_URL for conda's pip).").format(pip_index_url=pip_vars['PIP_INDEX_URL']))
    cwd = conda_cwd(root)
    before = [Snapshot.take(p) for p in locations]  # what existed before this run's conda create
    # conda env create writes the pip: section to condaenv.<random>.requirements.txt next to the file and removes it
    # itself only when pip returns; on a cancel it stays beside the user's file: remove what this run's conda made
    req_dir = Path(plan.env_file).expanduser().absolute().parent if plan.env_file is not None else None
    req_before = set(_conda_temp_files(req_dir))
    target = found or next((p for p in locations if p.is_dir()), locations[0])
    reporter.log(Stage.ENV, _("Running: {command}").format(command=" ".join(argv)))
    watcher = env_progress.CondaWatcher(root / "pkgs", target, reporter)
    watcher.start()

    def cleanup(reason: str) -> list[Path]:
        """Remove what this run's conda made; returns the env folders removed."""
        removed: list[Path] = []
        for snap in before:
            if snap.was_new_or_empty:
                if snap.created():
                    reporter.log(Stage.ENV, _('Removing the half-made env {path} ({reason}).').format(path=snap.path, reason=reason), "warning")
                    result = snap.remove_created()
                    if result.failed:
                        reporter.log(Stage.ENV, _('Cleanup of {path}: {describe}.').format(path=snap.path, describe=result.describe()), "warning")
                    else:
                        removed.append(snap.path)
            elif found is not None and snap.path == found:
                reporter.log(Stage.ENV, _('The env {found} was being replaced and may be incomplete ({reason}); create it again before use.').format(found=found, reason=reason), "warning")
        return removed

    def remove_conda_temp() -> None:
        for extra in sorted(set(_conda_temp_files(req_dir)) - req_before):
            try:
                extra.unlink()
                reporter.log(Stage.ENV, _("Removed conda's temporary file {extra} (left by the stopped conda).").format(extra=extra))
            except OSError as exc:
                reporter.log(Stage.ENV, _("Could not remove conda's temporary file {extra}: {exc}.").format(extra=extra, exc=exc), "warning")

    try:
        res = run_streaming(
            argv,
            cancel=cancel,
            on_stdout=lambda line: reporter.log(Stage.ENV, line, "debug"),
            on_stderr=lambda line: reporter.log(Stage.ENV, line, "warning"),
            env=env,
            cwd=cwd,
        )
    except OSError as exc:
        raise EnvCreateError(_('conda could not be started: {exc}').format(exc=exc),
                             fix=_('Install Miniconda first, or check the install location.')) from exc
    except Cancelled:
        cleanup(_("cancelled"))
        raise
    finally:
        watcher.stop.set()
        watcher.join(timeout=2)
        remove_conda_temp()
    doc = parse_conda_json(res.stdout)
    if res.returncode != 0 or doc is None or not doc.get("success", False):
        removed = cleanup(_("conda create failed"))
        err = _error_from(doc, res.stdout, res.stderr, res.returncode, str(target))
        if removed:  # say what became of the half-made env (conda leaves it; this run made it, so it is gone)
            err.message = join_sentences(err.message, _(
                "The half-made env {path} was removed (this run had created it), so nothing is left behind.").format(
                path=", ".join(map(str, removed))))
        raise err
    prefix = Path(str(doc.get("prefix") or doc.get("actions", {}).get("PREFIX") or target))
    python = env_python(prefix, os_name)
    if not python.exists():
        raise conda_errors.env_without_python(doc, python, str(prefix))
    linked = len(doc.get("actions", {}).get("LINK", []))
    pip = doc.get("actions", {}).get("PIP") or []
    reporter.log(Stage.ENV, (_("Created env {name} in {prefix} ({linked} packages linked, {pip} installed by pip).")
                             if pip else _("Created env {name} in {prefix} ({linked} packages linked).")).format(
                                 name=plan.env_name, prefix=prefix, linked=linked, pip=len(pip)))
    reporter.info(Stage.ENV, "env_prefix", str(prefix))
    snap = next((b for b in before if b.path == prefix), None)
    return EnvResult(plan.env_name, prefix, python, created=bool(snap and snap.was_new_or_empty), before=snap)


def _conda_temp_files(folder: Path | None) -> list[Path]:
    """conda's ``condaenv.*.requirements.txt`` files in ``folder`` (the environment file's folder): conda
    ``env/installers/pip.py`` writes the ``pip:`` section there with ``tempfile.NamedTemporaryFile(prefix="condaenv.",
    suffix=".requirements.txt", dir=...)``."""
    if folder is None:
        return []
    try:
        return [p for p in folder.glob("condaenv.*.requirements.txt") if p.is_file()]
    except OSError:
        return []


def discard_created(env: EnvResult | None, reporter: Reporter, reason: str) -> bool:
    """Remove ``env`` when this run created it (:attr:`EnvResult.created`): for a cancel or failure of a later
    env step (the pip installs, the verification). A reused or replaced env is left alone (with a warning).

    Returns:
        Whether the env folder was removed.
    """
    if env is None:
        return False
    if not env.created:
        reporter.log(Stage.ENV, _('The env {prefix} was not created by this run, so it is left as it is ({reason}).').format(prefix=env.prefix, reason=reason), "warning")
        return False
    reporter.log(Stage.ENV, _('Removing the env {prefix} that this run created ({reason}).').format(prefix=env.prefix, reason=reason), "warning")
    if env.before is not None:
        result = env.before.remove_created()  # an empty folder that was there before stays
        if result.failed:
            reporter.log(Stage.ENV, _('Cleanup of {prefix}: {describe}.').format(prefix=env.prefix, describe=result.describe()), "warning")
        return not result.failed
    import shutil

    shutil.rmtree(env.prefix, ignore_errors=True)
    return not env.prefix.exists()
