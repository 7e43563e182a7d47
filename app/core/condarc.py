"""The new install's own ``<root prefix>/.condarc``: the mirror's channels and the OS trust store, written by conda.

:func:`configure` runs before ``conda create`` (step 1 of :func:`app.core.pipeline._env`):

1. writes the chosen mirror's ``channels`` / ``default_channels`` / ``custom_channels`` (and
   ``show_channel_urls``) into ``<root>/.condarc`` with ``conda config --file <root>/.condarc --json ...``,
   so conda itself validates every key (real conda 26.7: an unknown key is ``CondaKeyError``, exit 1;
   a ``--file`` that does not exist yet starts from ``<root>/.condarc``; recorded in
   tests/data/real-conda/conda-config--file-*). The user's own ``~/.condarc`` is never written;
2. sets ``ssl_verify: truststore`` where the installed conda supports it, so conda trusts the same
   certificates as the wizard's own downloads (:mod:`app.core.net` uses truststore). Source: conda's
   configuration docs (``docs/source/user-guide/configuration/use-condarc.rst``, ``ssl_verify``):
   "versionadded:: 23.9.0 - The ``ssl_verify: truststore`` setting is only available with conda 23.9.0
   or later and using Python 3.10 or later" (and conda's ``ssl_verify_validation`` refuses it on
   Python < 3.10). An ``ssl_verify`` already in the file (a company CA bundle path) is kept;
3. reads ``conda config --show-sources --json`` and reports what else is in force (another ``.condarc``
   with channels, a ``proxy_servers`` entry where nothing answers, old mirror paths such as ``pkgs/free``
   or ``cloud/pytorch``, ``ssl_verify: false``) as log lines, so a failure can be traced to it.

An existing ``.condarc`` is backed up (``.condarc.miniconda-wizard-<time>.bak``) before it is changed.
"""

from __future__ import annotations

import re
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from app.core import conda_cmd, mirrors
from app.core.errors import EnvCreateError, Stage
from app.core.events import CancelToken, Reporter
from app.core.file_edit import BACKUP_TAG, timestamp, unique_path
from app.core.system import child_env, run_streaming
from app.i18n import N_, _

#: First conda with ``ssl_verify: truststore`` (conda docs, use-condarc.rst ``versionadded:: 23.9.0``).
TRUSTSTORE_MIN_CONDA = Version("23.9.0")
#: truststore needs Python 3.10 (same docs; conda ``ssl_verify_validation``).
TRUSTSTORE_MIN_PYTHON = (3, 10)
#: Old channel paths that no longer serve current packages: Anaconda's ``free`` channel (taken out of
#: ``defaults`` in conda 4.7) and the ``pytorch`` conda channel (last release 2.5; PyTorch now ships
#: wheels only), also under mirrors' ``cloud/pytorch``.
#: The descriptions are gettext ids, translated at use (:func:`other_config`).
OLD_PATHS = (("pkgs/free", N_("Anaconda's old 'free' channel, out of defaults since conda 4.7")),
             ("cloud/pytorch", N_("the pytorch conda channel, which stopped at PyTorch 2.5")),
             ("conda.anaconda.org/pytorch", N_("the pytorch conda channel, which stopped at PyTorch 2.5")))
_PROXY_PROBE_TIMEOUT = 3.0


@dataclass
class CondarcResult:
    """What :func:`configure` did.

    path: the ``.condarc`` it wrote (or would have); commands: each ``conda config`` argument list run
    (after the executable); backup: the copy made first, or ``None``; truststore: whether
    ``ssl_verify: truststore`` is in force from this file; notes: info lines; warnings: other config in force
    that may break the run; sources: the ``--show-sources`` document (file -> settings).
    """

    path: Path
    commands: list[list[str]] = field(default_factory=list)
    backup: Path | None = None
    truststore: bool = False
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)


def truststore_supported(conda_version: str, python_version: tuple[int, int] | None) -> tuple[bool, str]:
    """Whether ``ssl_verify: truststore`` works with this conda (``"26.7.2.dev56"``) and base Python
    (``(3, 13)``; ``None``: unknown, taken as new enough), and why not."""
    try:
        v = Version(conda_version)
    except InvalidVersion:
        return False, _("conda {conda_version} is not a version the wizard can compare").format(
            conda_version=conda_version)
    if v.release < TRUSTSTORE_MIN_CONDA.release:
        return False, _("conda {conda_version} is older than 23.9.0, the first with ssl_verify: truststore").format(
            conda_version=conda_version)
    if python_version is not None and python_version < TRUSTSTORE_MIN_PYTHON:
        return False, (_("the install's Python {value}.{value2} is older than 3.10, "
                         "which truststore needs").format(value=python_version[0], value2=python_version[1]))
    return True, ""


def _conda_json(conda_exe: Path, args: list[str], cancel: CancelToken) -> tuple[int, dict | None, str]:
    from app.core.conda_env import parse_conda_json  # noqa: PLC0415 - conda_env is heavier

    res = run_streaming([*conda_cmd.argv_for(conda_exe), *args], cancel=cancel, env=child_env(), timeout=300)
    return res.returncode, parse_conda_json(res.stdout), res.stdout + res.stderr


def _fail(args: list[str], doc: dict | None, text: str, rc: int) -> EnvCreateError:
    reason = (doc or {}).get("message") or (doc or {}).get("error") or text.strip()[-500:] or \
        _("exit code {code}").format(code=rc)
    return EnvCreateError(
        _("conda could not write the install's channel settings (conda {value}): {reason}").format(
            value=' '.join(args), reason=reason),
        fix=_("Check that the install folder is writable and its .condarc is valid YAML; or run again with "
              "--condarc-mirror none to leave conda's channels as they are."),
        detail=text[-4000:],
    )


def _python_version(root: Path, os_name: str, cancel: CancelToken) -> tuple[int, int] | None:
    python = root / "python.exe" if os_name == "Windows" else root / "bin" / "python"
    try:
        res = run_streaming([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            cancel=cancel, env=child_env(), timeout=60)
    except OSError:
        return None
    m = re.search(r"(\d+)\.(\d+)", res.stdout)
    return (int(m.group(1)), int(m.group(2))) if res.returncode == 0 and m else None


def plan_commands(rc: Path, current: dict[str, Any], channels: mirrors.CondaChannels | None,
                  truststore: bool) -> list[list[str]]:
    """The ``conda config --file RC ... --json`` argument lists that turn ``current`` (the file's settings)
    into the mirror's: list keys replaced (``--remove-key`` when present, then ``--append`` in order),
    ``custom_channels.NAME`` set one by one (other names kept), plain settings set, ``ssl_verify`` set to
    ``truststore`` when wanted and not already set.

    conda's config modifiers (``--set``, ``--append``, ``--remove-key``, ...) are one mutually exclusive
    argparse group, each repeatable (``action="append"``; conda/cli/main_config.py), so this is at most three
    commands: all ``--remove-key``, then all ``--append``, then all ``--set``.
    """
    removes: list[str] = []
    appends: list[str] = []
    sets: list[str] = []
    if channels is not None:
        for key, items in (("channels", channels.channels), ("default_channels", channels.default_channels)):
            if not items or list(current.get(key) or []) == list(items):
                continue
            if key in current:
                removes += ["--remove-key", key]
            for item in items:
                appends += ["--append", key, item]
        have = current.get("custom_channels") or {}
        for name, url in channels.custom_channels:
            if have.get(name) != url:
                sets += ["--set", f"custom_channels.{name}", url]
        for key, value in channels.settings:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if current.get(key) != value:
                sets += ["--set", key, text]
    if truststore and "ssl_verify" not in current:
        sets += ["--set", "ssl_verify", "truststore"]
    base = ["config", "--file", str(rc)]
    return [[*base, *ops, "--json"] for ops in (removes, appends, sets) if ops]


def replaced_settings(current: dict[str, Any], channels: mirrors.CondaChannels | None) -> list[tuple[str, str, str]]:
    """``(key, old, new)`` for each setting of ``current`` (a ``.condarc``'s) that :func:`plan_commands` changes:
    ``channels`` / ``default_channels`` lists and ``custom_channels.NAME`` entries that had another value."""
    out: list[tuple[str, str, str]] = []
    if channels is None:
        return out
    for key, items in (("channels", channels.channels), ("default_channels", channels.default_channels)):
        old = current.get(key)
        if items and old and list(old) != list(items):
            out.append((key, "[" + ", ".join(map(str, old)) + "]", "[" + ", ".join(items) + "]"))
    have = current.get("custom_channels") or {}
    for name, url in channels.custom_channels:
        if have.get(name) not in (None, url):
            out.append((f"custom_channels.{name}", str(have[name]), url))
    return out


def configure(plan: Any, root_prefix: Path, conda_exe: Path, reporter: Reporter, cancel: CancelToken,
              conda_version: str | None = None, new_install: bool = True) -> CondarcResult:
    """Write the mirror's channels and ``ssl_verify: truststore`` into ``<root_prefix>/.condarc`` with
    ``conda config --file``, then report the other config in force (see the module docstring).

    Args:
        plan: the :class:`~app.core.plan.InstallPlan` (``mirror``, ``condarc_mirror``).
        root_prefix: the Miniconda root prefix.
        conda_exe: its conda.
        conda_version: ``conda --version``'s number when already known (else asked).
        new_install: this run installed ``root_prefix`` (its ``.condarc`` is the installer's). For an existing
            installation (``--update-existing``, no install step) the user's ``.condarc`` gets only what the plan
            asks for (a mirror's channels), not ``ssl_verify``: no user setting is changed unasked.

    Returns:
        :class:`CondarcResult`.

    Raises:
        EnvCreateError: a ``conda config`` command failed (conda's message; nothing else changed after it).
        Cancelled: the token was cancelled.
    """
    from app.core import installer  # noqa: PLC0415 - installer imports plan, plan imports mirrors

    rc = Path(root_prefix) / ".condarc"
    result = CondarcResult(rc)
    src = mirrors.sources(plan)
    version = conda_version or installer.conda_version(conda_exe, cancel)
    os_name = getattr(getattr(plan, "platform", None), "os", "Linux")
    ok, why = truststore_supported(version, _python_version(Path(root_prefix), os_name, cancel))
    if ok and not new_install and src.conda_channels is None:
        ok, why = False, _("the installation existed before this run and no channels were asked for, so its "
                           ".condarc is left as it is")
    get_args = ["config", "--file", str(rc), "--get", "--json"]
    code, doc, text = _conda_json(conda_exe, get_args, cancel)
    if code != 0 or doc is None:
        raise _fail(get_args, doc, text, code)
    current = doc.get("get") or {}
    cmds = plan_commands(rc, current, src.conda_channels, ok)
    if not ok:
        result.notes.append(_("ssl_verify: truststore not set: {why}; conda uses its own certificate bundle.").format(
            why=why))
    elif "ssl_verify" in current:
        result.notes.append(_("ssl_verify is already {ssl_verify!r} in {rc}; kept.").format(
            ssl_verify=current['ssl_verify'], rc=rc))
    result.truststore = ok and current.get("ssl_verify", "truststore") == "truststore"
    if cmds and rc.exists():
        backup = unique_path(f"{rc}{BACKUP_TAG}{timestamp()}", ".bak")
        shutil.copy2(rc, backup)
        result.backup = backup
        reporter.log(Stage.ENV, _("Backed up {rc} to {backup}.").format(rc=rc, backup=backup.name))
    if not new_install:  # the user's own settings that the mirror replaces: say what they were, and where they are kept
        for key, old, new in replaced_settings(current, src.conda_channels):
            text = _("The existing {rc} set {key} to {old}; the mirror replaces it with {new} (the old file is kept "
                     "as {backup}).") if result.backup else \
                _("The existing {rc} set {key} to {old}; the mirror replaces it with {new}.")
            reporter.log(Stage.ENV, text.format(rc=rc, key=key, old=old, new=new, backup=result.backup), "warning")
    for args in cmds:
        cancel.raise_if_cancelled()
        code, doc, text = _conda_json(conda_exe, args, cancel)
        if code != 0 or (doc is not None and doc.get("success") is False):
            raise _fail(args, doc, text, code)
        result.commands.append(args)
    if src.conda_channels is not None:
        reporter.log(Stage.ENV, _("conda channels: {conda_label} ({conda_channels}), in {rc}.").format(
            conda_label=src.conda_label, conda_channels=src.conda_channels.describe(), rc=rc))
    for note in result.notes:
        reporter.log(Stage.ENV, note)
    if result.truststore:
        reporter.log(Stage.ENV, _("conda verifies TLS with the operating system's certificates (ssl_verify: truststore in {rc}).")
            .format(rc=rc))

    code, doc, text = _conda_json(conda_exe, ["config", "--show-sources", "--json"], cancel)
    if code == 0 and doc is not None:
        result.sources = doc
        lines = other_config(doc, rc)
        for level, line in lines:
            (result.warnings if level == "warning" else result.notes).append(line)
            reporter.log(Stage.ENV, line, level)
    else:
        reporter.log(Stage.ENV, _("Could not read conda's configuration sources (exit code {code}).").format(
            code=code), "warning")
    return result


def _proxy_dead(url: str) -> str | None:
    """Why nothing answers at the proxy ``url`` (``"connection refused"``), or ``None`` when a TCP
    connection opens within 3 s."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return _("it cannot be read ({exc})").format(exc=exc)
    if not host:
        return _("it names no host")
    try:
        with socket.create_connection((host, port), timeout=_PROXY_PROBE_TIMEOUT):
            return None
    except ConnectionRefusedError:
        return _("connection refused")
    except socket.timeout:
        return _("no answer within {seconds} s").format(seconds=f"{_PROXY_PROBE_TIMEOUT:.0f}")
    except OSError as exc:
        return exc.strerror or str(exc)


def _walk_urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [u for v in value for u in _walk_urls(v)]
    if isinstance(value, dict):
        return [f"{u.rstrip('/')}/{k}" if "://" in u else u for k, v in value.items() for u in _walk_urls(v)]
    return []


def other_config(sources: dict[str, Any], own: Path) -> list[tuple[str, str]]:
    """``(level, line)`` for each setting in force from somewhere other than ``own`` that may matter:
    a dead ``proxy_servers`` entry, old mirror paths (:data:`OLD_PATHS`) anywhere (``own`` included),
    ``ssl_verify: false``, and channel lists from other files (conda merges them with the install's)."""
    out: list[tuple[str, str]] = []
    for where, settings in sources.items():
        if where == "cmd_line" or not isinstance(settings, dict):
            continue
        name = _("environment variables") if where == "envvars" else where
        is_own = where != "envvars" and Path(where) == own
        # custom_channels only maps names to URLs (the mirrors document pytorch -> <ep>/cloud); it matters
        # when a channel is asked for, so only the lists that are used are checked.
        for key in ("channels", "default_channels", "channel_alias"):
            for url in _walk_urls(settings.get(key)):
                named = f"conda.anaconda.org/{url.strip('/')}" if "://" not in url else url  # a channel name
                for path, what in OLD_PATHS:
                    if path in named.replace("\\", "/"):
                        command = f"conda config --file {where} " + (
                            f"--remove {key} {url}" if key != "channel_alias" else f"--remove-key {key}")
                        out.append(("warning", _("{name} names {url} in {key}: that is {what}. Remove it ({command}) "
                                                 "if conda cannot find packages or is slow.").format(
                                                     name=name, url=url, key=key, what=_(what), command=command)))
        if is_own:
            continue
        for scheme, url in (settings.get("proxy_servers") or {}).items():
            dead = _proxy_dead(str(url))
            if dead:
                out.append(("warning", _("{name} sends conda through the proxy {url} ({scheme}), and nothing answers "
                                         "there ({dead}): conda will fail to download. Start the proxy, or remove "
                                         "the entry (conda config --file {where} --remove-key proxy_servers).").format(
                                             name=name, url=url, scheme=scheme, dead=dead, where=where)))
            else:
                out.append(("info", _("{name} sends conda through the proxy {url} ({scheme}).").format(
                    name=name, url=url, scheme=scheme)))
        if settings.get("ssl_verify") is False:
            out.append(("warning", _("{name} turns conda's TLS verification off (ssl_verify: false).").format(
                name=name)))
        for key in ("channels", "default_channels", "channel_alias", "custom_channels"):
            if settings.get(key):
                value = settings[key]
                shown = ", ".join(value) if isinstance(value, list) else (
                    ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else str(value))
                out.append(("info", _("{name} also sets {key} ({shown}); conda merges it with the install's own "
                                      ".condarc, and its entries come first.").format(name=name, key=key, shown=shown)))
    return out

