"""Channel Terms of Service: checked before anything is installed, and kept after an explicit acceptance.

Facts (recorded from real conda 26.7 with the conda-anaconda-tos plugin, ``tests/data/real-conda-errors/``):

* the plugin fetches ``<channel>/terms.json`` for EVERY channel a command uses and gates any channel that serves
  one, not only repo.anaconda.com (``tos-gate.*``: a local channel with a ``terms.json``);
* a non-interactive ``conda create`` then fails with ``CondaToSNonInteractiveError``, naming the channels and the
  command that accepts each: ``conda tos accept --override-channels --channel URL``;
* ``conda tos accept`` prints ``accepted Terms of Service for URL`` (or ``Terms of Service not found for URL`` for
  a channel without terms: exit 0 either way) and writes the acceptance under ``~/.conda/tos/``, where every later
  conda command of the user finds it (source: anaconda/conda-anaconda-tos ``console/render.py`` render_accept,
  ``api.py`` accept_tos);
* ``CONDA_PLUGINS_AUTO_ACCEPT_TOS=yes`` accepts during one command and writes the same records (``tos-auto.*``).

:func:`check_before_install` (called by :func:`app.core.pipeline.preflight`) refuses a plan whose env would use
channels with terms when the user has not accepted them; :func:`accept` (step 2 of the env stage, after the
user's explicit acceptance) runs conda's own ``conda tos accept`` for each channel that applies, so the acceptance
is kept: the user's own ``conda create`` / ``conda install`` later (Jupyter, VS Code, a script) is not refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from app.core import conda_cmd
from app.i18n import _
from app.core.errors import Stage, TermsOfServiceError
from app.core.events import CancelToken, Reporter
from app.core.plan import InstallPlan
from app.core.system import run_streaming

#: Anaconda's defaults channels on Linux/macOS (``msys2`` is added on Windows); they serve terms.
DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
DEFAULTS_WINDOWS = DEFAULTS + ("https://repo.anaconda.com/pkgs/msys2",)

_SUBDIR = re.compile(r"/(noarch|(linux|osx|win|emscripten|wasi|zos)-[a-z0-9_]+)/?$")


@dataclass
class TosResult:
    """What :func:`accept` did: ``accepted`` (channels with terms, now accepted), ``without_terms`` (channels that
    serve none), ``failed`` (``(channel, reason)``: conda could not accept them; the create then still passes the
    auto-accept variable)."""

    accepted: list[str] = field(default_factory=list)
    without_terms: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def accepted_elsewhere(environ: dict[str, str] | None = None) -> bool:
    """Whether conda's ToS plugin accepts on its own: ``CONDA_PLUGINS_AUTO_ACCEPT_TOS`` or a CI variable set true.

    Source: anaconda/conda-anaconda-tos (plugin setting ``auto_accept_tos``; ``api.py`` CI detection, conda's
    ``boolify``: yes/y/true/t/on/1).
    """
    env = os.environ if environ is None else environ
    true = ("yes", "y", "true", "t", "on", "1")
    return (env.get("CONDA_PLUGINS_AUTO_ACCEPT_TOS", "").strip().lower() in true
            or env.get("CI", "").strip().lower() in true)


def defaults_for(os_name: str) -> tuple[str, ...]:
    """The defaults channels of ``os_name`` (``"Windows"`` adds ``pkgs/msys2``)."""
    return DEFAULTS_WINDOWS if os_name == "Windows" else DEFAULTS


def serves_terms(url: str, session=None, timeout: float = 5.0) -> bool | None:
    """Whether the channel at ``url`` serves a ``terms.json`` (what the plugin looks for).

    ``file://`` channels are looked at on disk; ``http(s)`` ones with one GET of ``URL/terms.json`` (``session``:
    a requests session, default a new one without retries). Returns ``None`` when it cannot be told (no network,
    a timeout): the create will then say it, with conda's own error.
    """
    url = url.rstrip("/")
    if url.startswith("https://repo.anaconda.com/"):
        return True
    parts = urlsplit(url)
    if parts.scheme == "file":
        return (Path(unquote(parts.path)) / "terms.json").is_file()
    if parts.scheme not in ("http", "https"):
        return None
    import requests

    try:
        http = session or requests.Session()
        resp = http.get(url + "/terms.json", timeout=timeout, allow_redirects=True)
        resp.close()
    except (requests.RequestException, OSError, ValueError):
        return None
    return resp.status_code == 200


def channels_with_terms(plan: InstallPlan, session=None) -> list[str]:
    """The channels of ``plan``'s ``conda create`` known to serve terms, before anything is installed.

    The defaults channels (used when ``plan.channels`` is empty, since a new Miniconda's ``.condarc`` is
    ``channels: [defaults]``, or named) serve terms. Channels given as ``http(s)://`` or ``file://`` URLs are asked
    (:func:`serves_terms`); plain names (``conda-forge``) live on conda.anaconda.org, which serves no terms.
    """
    if not plan.create_env:
        return []
    mirrored = _mirror_channels(plan)
    if mirrored is not None:  # the .condarc the mirror writes decides (no --channels, no environment.yml)
        out = [c for c in mirrored if c.startswith("https://repo.anaconda.com/")]
        out += [c for c in mirrored if c not in out and "://" in c and serves_terms(c, session)]
        return list(dict.fromkeys(out))
    out = []
    if plan.uses_defaults_channels:
        out += [c for c in defaults_for(plan.platform.os)
                if not plan.channels or "defaults" in plan.channels or any(c in ch for ch in plan.channels)]
        if not out:
            out += list(defaults_for(plan.platform.os))
    for ch in plan.channels:
        if "://" in ch and "repo.anaconda.com" not in ch and serves_terms(ch, session):
            out.append(ch.rstrip("/"))
    return list(dict.fromkeys(out))


def _mirror_channels(plan: InstallPlan) -> list[str] | None:
    """The channel URLs ``conda create`` will use when the chosen mirror writes the new install's ``.condarc``
    (:mod:`app.core.condarc`) and neither ``--channels`` nor an environment.yml overrides it: its ``channels``,
    with ``defaults`` standing for its ``default_channels`` (or Anaconda's) and a name for its ``custom_channels``
    URL; other names live on conda.anaconda.org, which serves no terms. ``None`` when the mirror sets no channels.
    """
    from app.core import mirrors  # noqa: PLC0415 - mirrors imports plan, which this module imports

    if plan.channels or plan.env_file is not None:
        return None
    try:
        cc = mirrors.sources(plan).conda_channels
    except mirrors.MirrorTableError:
        return None
    if cc is None or not cc.channels:
        return None
    custom = dict(cc.custom_channels)
    out: list[str] = []
    for ch in cc.channels:
        if ch == "defaults":
            out += [c.rstrip("/") for c in cc.default_channels] or list(defaults_for(plan.platform.os))
        elif "://" in ch:
            out.append(ch.rstrip("/"))
        elif ch in custom:
            out.append(f"{custom[ch].rstrip('/')}/{ch}")
    return out


def no_effect_note(plan: InstallPlan, session=None) -> str | None:
    """Why ``--accept-tos`` changes nothing for ``plan`` (one sentence), or ``None`` when it matters or was not
    given: no env is created, or none of the env's channels serves Terms of Service (Miniforge's conda-forge,
    ``--channels conda-forge``). README promises this note (``--distribution``: "``--accept-tos`` is then only a
    note")."""
    if not plan.accept_tos:
        return None
    if not plan.create_env:
        return _("--accept-tos has no effect: this run creates no env (--no-env), so no channel's Terms of Service "
                 "are used.")
    if channels_with_terms(plan, session):
        return None
    if getattr(plan, "distribution", "miniconda") == "miniforge" and not plan.channels and plan.env_file is None:
        return _("--accept-tos has no effect: Miniforge uses conda-forge, which has no Terms of Service; nothing to "
                 "accept.")
    return _("--accept-tos has no effect: none of the env's channels serves Terms of Service; nothing to accept.")


def check_before_install(plan: InstallPlan, session=None, reporter: Reporter | None = None) -> None:
    """Refuse, before anything is downloaded, an env whose channels need Terms of Service the user has not accepted.

    ``reporter``: gets the :func:`no_effect_note` as a warning when ``--accept-tos`` was given for nothing.

    Raises:
        TermsOfServiceError (exit code 10): the message names the channels; the fix names ``--accept-tos`` and
            channels without terms.
    """
    if reporter is not None and (note := no_effect_note(plan, session)):
        reporter.log(Stage.PLAN, note, "warning")
    if not plan.create_env or plan.accept_tos or accepted_elsewhere():
        return
    gated = channels_with_terms(plan, session)  # Miniforge: conda-forge only, no defaults (issue 7)
    if not gated:
        return
    defaults = [c for c in gated if c.startswith("https://repo.anaconda.com/")]
    others = [c for c in gated if c not in defaults]
    names = ", ".join(([_("Anaconda's defaults channels ({channels})").format(channels=", ".join(defaults))]
                       if defaults else []) + others)
    raise TermsOfServiceError(
        _("The env would use channels whose Terms of Service must be accepted first: {names}. conda refuses "
          "them in a non-interactive run, so nothing was installed.").format(names=names),
        fix=_("Accept their Terms of Service (--accept-tos in silent mode, the checkbox in the wizard; the wizard "
              "then runs `conda tos accept` for each), or use only channels without terms (for example "
              "--channels conda-forge)."),
    )


def _base_url(channel_url: str) -> str:
    return _SUBDIR.sub("", channel_url.rstrip("/"))


def configured_channels(conda_exe: Path, cancel: CancelToken | None = None, cwd: Path | None = None) -> list[str]:
    """The channel base URLs in force for this conda (``channels`` of ``conda info --json``, whose entries are
    ``<base>/<subdir>``), honouring the new install's ``.condarc`` (mirrors, ``default_channels``,
    ``custom_channels``). ``[]`` when conda cannot tell."""
    from app.core.conda_env import _conda_child_env, parse_conda_json

    try:
        res = run_streaming([*conda_cmd.argv_for(conda_exe), "info", "--json"], cancel=cancel, env=_conda_child_env(), cwd=cwd,
                            timeout=120)
    except (OSError, ValueError):
        return []
    doc = parse_conda_json(res.stdout) if res.returncode == 0 else None
    urls = doc.get("channels") if doc else None
    if not isinstance(urls, list):
        return []
    return list(dict.fromkeys(_base_url(str(u)) for u in urls if isinstance(u, str) and u))


def accept(plan: InstallPlan, conda_exe: Path, reporter: Reporter, cancel: CancelToken) -> TosResult:
    """After the user's explicit acceptance (``plan.accept_tos``), run conda's own
    ``conda tos accept --override-channels --channel URL`` for each channel that applies: the channels this run's
    ``conda create`` uses (``plan.channels``) and the channels in force in the new install's configuration
    (:func:`configured_channels`), which the user's own later conda commands use. Nothing is run without an
    explicit acceptance, or when the plan creates no env.

    Returns:
        :class:`TosResult`. A channel conda could not accept (an unreachable server, a conda without the ``tos``
        command) is logged as a warning and listed in ``failed``; it does not stop the run (the create passes
        ``CONDA_PLUGINS_AUTO_ACCEPT_TOS`` too, and a real refusal is explained by conda's own error).

    Raises:
        Cancelled: ``cancel`` was set while conda ran.
    """
    from app.core.conda_env import _conda_child_env, conda_cwd

    result = TosResult()
    if not plan.create_env or not plan.accept_tos:
        return result
    if getattr(plan, "distribution", "miniconda") == "miniforge" and not plan.uses_defaults_channels:
        # issue 7: Miniforge's conda-forge has no Terms of Service (and its conda has no `tos` command)
        reporter.log(Stage.ENV, _("--accept-tos has no effect: Miniforge uses conda-forge, which has no Terms of "
                                  "Service; nothing to accept."))
        return result
    root = conda_cmd.root_of(conda_exe)
    cwd = conda_cwd(root)
    cwd = cwd if cwd.is_dir() else None
    channels = list(dict.fromkeys([*plan.channels, *configured_channels(conda_exe, cancel, cwd)]))
    for ch in channels:
        argv = [*conda_cmd.argv_for(conda_exe), "tos", "accept", "--override-channels", "--channel", ch]
        reporter.log(Stage.ENV, _("Running: {command}").format(command=" ".join(argv)))
        try:
            res = run_streaming(argv, cancel=cancel, env=_conda_child_env(), cwd=cwd, timeout=300,
                                on_stderr=lambda line: reporter.log(Stage.ENV, line, "debug"))
        except (OSError, ValueError) as exc:
            result.failed.append((ch, str(exc)))
            reporter.log(Stage.ENV, _("conda tos accept could not run for {channel}: {reason}").format(
                channel=ch, reason=exc), "warning")
            continue
        out = res.stdout.strip()
        if res.returncode != 0:
            reason = (res.stderr.strip() or out).splitlines()[-1:] or [_("exit code {code}").format(code=res.returncode)]
            result.failed.append((ch, reason[0]))
            reporter.log(Stage.ENV, _("conda tos accept failed for {channel}: {reason}").format(
                channel=ch, reason=reason[0]), "warning")
            continue
        for line in out.splitlines():
            m = re.match(r"(accepted Terms of Service for|Terms of Service not found for) (\S+)", line.strip())
            if not m:
                continue
            (result.accepted if m.group(1).startswith("accepted") else result.without_terms).append(m.group(2))
            reporter.log(Stage.ENV, line.strip())
    reporter.info(Stage.ENV, "tos_accepted", result.accepted)
    return result
