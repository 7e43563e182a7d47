"""The steps in order: catalog -> download -> install -> shell -> env -> gpu_check.

:func:`run` runs them all (silent mode); the wizard pages run one step at a
time with :func:`run_step`, sharing one :class:`RunState`. Each step reads the
plan, writes its result into the state, reports through the reporter and
honours the cancel token. A step whose work is not wanted (no env, no GPU check,
a local installer file) is skipped with a log line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.i18n import N_, _, ngettext
from app.core.lazy import lazy_module

# The steps' modules are imported on first use (requests, urllib3, yaml and the rest, ~0.1 s): the wizard needs
# RunState before its first page shows, the steps only later, on worker threads (issue 9, start-up).
(catalog, conda_cmd, conda_env, condarc, download, env_verify, existing, gpu_check, installer, manifest, mirrors, net,
 pip_config, pip_install, plan_checks, presets, proxy, shell_setup, staging, tos) = (
    lazy_module(f"app.core.{name}") for name in (
        "catalog", "conda_cmd", "conda_env", "condarc", "download", "env_verify", "existing", "gpu_check", "installer",
        "manifest", "mirrors", "net", "pip_config", "pip_install", "plan_checks", "presets", "proxy", "shell_setup",
        "staging", "tos"))
from app.core.errors import Cancelled, DownloadError, PrefixError, Stage, UsageError
from app.core.events import CancelToken, Reporter, StageResult
from app.core.file_edit import iso_now
from app.core.plan import InstallPlan, setting
from app.core.platform_info import detect

STAGE_TITLES = {  # gettext ids, translated at use (app.i18n)
    Stage.CATALOG: N_("Choosing the installer"),
    Stage.DOWNLOAD: N_("Downloading the installer"),
    Stage.INSTALL: N_("Installing Miniconda"),
    Stage.SHELL: N_("Setting up PATH and shells"),
    Stage.ENV: N_("Creating the conda env"),
    Stage.GPU_CHECK: N_("Checking the GPU with a small training run"),
}


@dataclass
class RunState:
    """What the steps found and made so far. Created empty, filled in order."""

    choice: catalog.InstallerChoice | None = None
    installer_path: Path | None = None
    install: installer.InstallResult | None = None
    shell_changes: list[shell_setup.Change] = field(default_factory=list)
    shell_proofs: list[shell_setup.ShellProof] = field(default_factory=list)  # issue 11: `type conda` per shell
    env: conda_env.EnvResult | None = None
    gpu: gpu_check.GpuCheckResult | None = None
    condarc: condarc.CondarcResult | None = None  # the new install's .condarc (issue 8, mirrors)
    pip_config: Path | None = None  # the env's own pip config, None = PyPI (issue 8, mirrors)
    session: object | None = None  # a requests.Session, made on first use
    #: Index rows already read, with the URL they came from: (mirror_url, entries). The catalog
    #: step uses them instead of reading the index again when the URL still matches.
    index: tuple[str, list[catalog.InstallerEntry]] | None = None
    #: What this run does with the install location (:func:`app.core.existing.decide`): ``"install"``,
    #: ``"reuse"`` (no catalog, download or installer) or ``"reinstall"`` (repair); ``None`` = not decided yet.
    #: Each of those steps decides again (the wizard's install page may change the location or the choice).
    existing: str | None = None
    #: The install was made by this run, or by an earlier run of the wizard that this run reuses: its
    #: ``.condarc`` is the installer's, not the user's (:func:`app.core.condarc.configure`'s ``new_install``).
    new_install: bool = False
    #: ``~/.conda`` before this run's install step (:func:`app.core.manifest.snapshot_dir`), for the manifest.
    conda_dir_before: dict[str, str] | None = None
    #: Told each HTTP retry line (``session.on_retry``, :mod:`app.core.net`) of the session :meth:`http` makes.
    on_retry: Callable[[str], None] | None = None

    def http(self):
        if self.session is None:
            self.session = net.make_session()
            if self.on_retry is not None:
                self.session.on_retry = self.on_retry  # type: ignore[attr-defined]
        return self.session


def _decision(plan: InstallPlan, state: RunState) -> str:
    # Decided again by each step: the wizard's install page may change the location or the choice after the
    # catalog and download pages ran.
    state.existing = existing.decide(plan)
    return state.existing


def _reusing(stage: Stage, plan: InstallPlan, state: RunState, reporter: Reporter) -> StageResult | None:
    """The result of a catalog or download step that has nothing to do: the installation is reused."""
    if _decision(plan, state) != "reuse":
        return None
    text = f"Skipped: {plan.resolved_prefix} is reused as it is (--if-exists reuse)."
    reporter.log(stage, text)
    return StageResult(stage, text, {"skipped": True, "reason": "reuse"})


def _catalog(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    if skipped := _reusing(Stage.CATALOG, plan, state, reporter):
        return skipped
    entries = state.index[1] if state.index is not None and state.index[0] == plan.mirror_url else None
    if entries is None:  # zh_* locale, official mirror, slow official host: a warning proposing a Chinese mirror
        mirrors.propose_for_locale(plan, reporter, cancel)
    state.choice = catalog.resolve(plan, state.http(), reporter, cancel, entries=entries)
    c = state.choice
    return StageResult(Stage.CATALOG, (_("{filename} (verified hash known)") if c.sha256
                                       else _("{filename} (no published hash)")).format(filename=c.filename),
                       {"filename": c.filename, "url": c.url, "sha256": c.sha256, "size": c.size})


def _download(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    if skipped := _reusing(Stage.DOWNLOAD, plan, state, reporter):
        return skipped
    assert state.choice is not None, "run the catalog step first"
    # the cache, a staged share's SHA256SUMS, and --download-only around download.fetch_installer (issue 5)
    state.installer_path = staging.fetch(plan, state.choice, state.http(), reporter, cancel)
    verified = state.choice.sha256 is not None
    own = state.choice.url is None  # --installer-file
    summary = (_("{name}: SHA-256 verified") if verified else
               _("{name}: no known SHA-256: it is your own file, used with a warning") if own else
               _("{name}: NOT verified (no known SHA-256)")).format(name=state.installer_path.name)
    return StageResult(Stage.DOWNLOAD, summary,
                       {"path": str(state.installer_path), "sha256": state.choice.sha256, "verified": verified})


def _install(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    decision = _decision(plan, state)
    prefix = plan.resolved_prefix
    state.conda_dir_before = manifest.snapshot_dir(_conda_user_dir())
    if decision == "reuse":  # --if-exists reuse: verify, never run the installer (issue 11)
        conda = installer.conda_executable(prefix, plan.platform.os)
        reporter.log(Stage.INSTALL, f"Reusing the installation in {prefix} (--if-exists reuse); the installer "
                                    "does not run. Checking it: " + " ".join([*conda_cmd.argv_for(conda), "--version"]))
        version = installer.conda_version(conda, cancel)
        state.install = installer.InstallResult(prefix, conda, version)
        state.new_install = existing.made_by_us(prefix)
        _record_install(plan, state, "reuse", reporter)
        reporter.info(Stage.INSTALL, "conda_version", version)
        return StageResult(Stage.INSTALL, _('reused conda {version} in {prefix}').format(version=version, prefix=prefix),
                           {"prefix": str(prefix), "conda": str(conda), "conda_version": version, "reused": True})
    assert state.installer_path is not None, "run the download step first"
    if decision == "reinstall":  # --if-exists repair of an incomplete installation this wizard made
        reporter.log(Stage.INSTALL, _('Repairing {prefix}: {prefix2}; removing the incomplete installation and installing again.').format(prefix=prefix, prefix2=existing.incomplete_reason(prefix, plan.platform.os)), "warning")
        existing.remove_incomplete(prefix)
    fresh = not existing.occupied(prefix)
    if fresh:  # recorded before the installer runs, so that a killed run's prefix is known to be ours
        _save_manifest(manifest.Manifest(str(prefix), made_by_us=True, status="installing",
                                         installed=iso_now()), reporter)
    try:
        state.install = installer.install(existing.installer_plan(plan), state.installer_path, reporter, cancel)
    except BaseException:
        if fresh and not existing.occupied(prefix):  # the installer's cleanup removed it: nothing to record
            manifest.forget(prefix)
        raise
    state.new_install = fresh
    _record_install(plan, state, "install" if fresh else existing.mode(plan), reporter)
    r = state.install
    if not wanted(plan, Stage.ENV):  # no env step: the install still gets the mirror's channels (issue 8)
        state.condarc = condarc.configure(plan, r.prefix, r.conda_exe, reporter, cancel, conda_version=r.conda_version,
                                          new_install=state.new_install)
    return StageResult(Stage.INSTALL, _('{conda_version} in {prefix}').format(conda_version=r.conda_version, prefix=r.prefix),
                       {"prefix": str(r.prefix), "conda": str(r.conda_exe), "conda_version": r.conda_version})


def _conda_user_dir() -> Path:
    """conda's user folder ``~/.conda`` (``environments.txt``, ToS acceptances), which the installer and conda
    write to; the manifest records what a run made there (:mod:`app.core.uninstall` takes it out again)."""
    from app.core import system  # noqa: PLC0415

    return system.home() / ".conda"


def _save_manifest(m: manifest.Manifest, reporter: Reporter) -> None:
    try:
        manifest.save(m)
    except OSError as exc:  # the record helps a later repair or uninstall; it never stops an install
        reporter.log(Stage.INSTALL, _('Could not write the install record {manifest_path}: {reason}; --uninstall and --if-exists repair will not know this installation.').format(manifest_path=manifest.manifest_path(Path(m.prefix)), reason=exc.strerror or exc), "warning")


def _record_install(plan: InstallPlan, state: RunState, how: str, reporter: Reporter) -> None:
    """Write the manifest after the install step: a fresh install is ``made_by_us``; an update, reuse or
    repair is added to ``updates`` of the existing record (a new record for an installation the wizard did
    not make says ``made_by_us: false``)."""
    assert state.install is not None
    prefix = state.install.prefix
    m = manifest.load(prefix) or manifest.Manifest(str(prefix), made_by_us=False, installed=iso_now())
    name = state.installer_path.name if state.installer_path else None
    sha = (state.choice.sha256 if state.choice and state.choice.sha256 else
           manifest.file_sha256(state.installer_path) if state.installer_path else None)
    if how == "install":
        m.made_by_us, m.status, m.installer, m.installer_sha256 = True, "complete", name, sha
        m.prefix_entries = manifest.top_entries(prefix)  # what the installer made (--uninstall keeps the rest)
    else:
        m.status = "complete"
        m.updates.append({"time": iso_now(), "how": how, "installer": name, "installer_sha256": sha})
    m.conda_version = state.install.conda_version
    _note_conda_dir(m, state)
    _save_manifest(m, reporter)


def _note_conda_dir(m: manifest.Manifest, state: RunState) -> None:
    """Add to the manifest the files this run made in ``~/.conda`` (new since :attr:`RunState.conda_dir_before`)."""
    if state.conda_dir_before is None:
        return
    folder = _conda_user_dir()
    now = manifest.snapshot_dir(folder)
    record = m.conda_user_dir or {"path": str(folder), "existed": bool(state.conda_dir_before),
                                  "files_before": dict(state.conda_dir_before), "files_made": {}}
    made = record.setdefault("files_made", {})
    for rel, sha in now.items():
        if rel not in state.conda_dir_before:
            made[rel] = sha
        elif rel in made and rel != "environments.txt":
            made[rel] = sha  # ours, rewritten by a later step of ours
    m.conda_user_dir = record


def _shell(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    prefix = state.install.prefix if state.install else plan.resolved_prefix
    state.shell_changes = shell_setup.apply(plan, prefix, reporter)
    state.shell_proofs = shell_setup.prove(plan, prefix, state.shell_changes, reporter, cancel=cancel)
    if (m := manifest.load(prefix)) is not None:  # the journal entries of this step, for --uninstall
        m.add_shell_changes([e.to_dict() for c in state.shell_changes for e in c.entries])
        _save_manifest(m, reporter)
    return StageResult(Stage.SHELL, shell_setup.summarize(state.shell_changes),
                       {"changes": [c.describe() for c in state.shell_changes],
                        "proofs": [p.to_dict() for p in state.shell_proofs]})


def _env(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    conda_exe = state.install.conda_exe if state.install else installer.conda_executable(plan.resolved_prefix, plan.platform.os)
    root = state.install.prefix if state.install else plan.resolved_prefix
    state.condarc = condarc.configure(plan, root, conda_exe, reporter, cancel,  # 1. mirror channels + truststore
                                      conda_version=state.install.conda_version if state.install else None,
                                      new_install=state.install is not None and state.new_install)
    tos.accept(plan, conda_exe, reporter, cancel)  # 2. keep an explicit ToS acceptance (conda tos accept)
    try:
        state.env = conda_env.create(plan, conda_exe, reporter, cancel)  # 3. conda env create -f when plan.env_file
    finally:  # the envs and ~/.conda files this run made, for --uninstall (also when a later part fails)
        if (m := manifest.load(root)) is not None:
            if state.env is not None and not state.env.reused:
                m.add_env(state.env.name, state.env.prefix)
            _note_conda_dir(m, state)
            _save_manifest(m, reporter)
    report = None
    try:
        if not state.env.reused:  # a reused env is the user's: its pip config and packages stay as they are
            state.pip_config = pip_config.write(state.env.prefix, plan)  # 4. the env's own pip index
        pip_install.run(plan, state.env, reporter, cancel)  # 5. torch of the right build, then the rest
        if not state.env.reused:  # 6. what was asked is there and imports
            choice = presets.resolve(plan)
            expected = (("torch",) if choice.installs_torch else ()) + tuple(choice.pip)
            report = env_verify.verify(plan, state.env, reporter, cancel, conda_exe=conda_exe,
                                       variant=choice.variant.variant if choice.variant else None,
                                       expected_pip=expected)
    except Cancelled:
        conda_env.discard_created(state.env, reporter, "cancelled")  # only an env this run created
        raise
    summary = _("env {name} at {prefix}").format(name=state.env.name, prefix=state.env.prefix)
    data = {"name": state.env.name, "prefix": str(state.env.prefix), "python": str(state.env.python),
            "condarc": str(state.condarc.path), "condarc_warnings": state.condarc.warnings,
            "pip_config": str(state.pip_config) if state.pip_config else None}
    if report is not None:
        summary += (_("; verified:") if report.ok else ngettext("; {n} check failed:", "; {n} checks failed:",
                    len(report.problems)).format(n=len(report.problems))) + "\n" + \
            "\n".join(f"      {line}" for line in report.lines())
        data["verify"] = report.to_dict()
    return StageResult(Stage.ENV, summary, data)


def _gpu(plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    assert state.env is not None, "run the env step first"
    state.gpu = gpu_check.run(state.env.python, plan.gpu_steps, reporter, cancel, env_name=plan.env_name)
    g = state.gpu
    if plan.require_gpu and not g.gpu_works:  # issue 6: --require-gpu turns "no working GPU" into exit 13
        from app.core.errors import NoWorkingGpuError

        message, fix = gpu_check.require_gpu_texts(g)  # worded for --require-gpu (h-fix2)
        raise NoWorkingGpuError(message, fix=fix, detail=g.verdict_text)
    return StageResult(Stage.GPU_CHECK, g.headline, g.to_dict())


STEPS: dict[Stage, Callable[[InstallPlan, RunState, Reporter, CancelToken], StageResult]] = {
    Stage.CATALOG: _catalog,
    Stage.DOWNLOAD: _download,
    Stage.INSTALL: _install,
    Stage.SHELL: _shell,
    Stage.ENV: _env,
    Stage.GPU_CHECK: _gpu,
}


def wanted(plan: InstallPlan, stage: Stage) -> bool:
    """Whether ``stage`` has work to do under ``plan``."""
    if plan.download_only and stage not in (Stage.CATALOG, Stage.DOWNLOAD):
        return False  # --download-only: stage the installer, nothing else (issue 5)
    if stage is Stage.ENV:
        return plan.create_env
    if stage is Stage.GPU_CHECK:
        return plan.create_env and plan.gpu_check
    return True


def run_step(stage: Stage, plan: InstallPlan, state: RunState, reporter: Reporter, cancel: CancelToken) -> StageResult:
    """Run one step, with ``stage_started``/``stage_finished`` around it.

    Raises:
        WizardError subclasses of the stage; Cancelled.
    """
    cancel.raise_if_cancelled()
    reporter.stage_started(stage, _(STAGE_TITLES[stage]))
    result = STEPS[stage](plan, state, reporter, cancel)
    reporter.stage_finished(result)
    return result


def tos_accepted_elsewhere(environ: dict[str, str] | None = None) -> bool:
    """Whether conda's ToS plugin will accept on its own: ``CONDA_PLUGINS_AUTO_ACCEPT_TOS`` or ``CI=true``.

    Source: anaconda/conda-anaconda-tos (plugin settings; CI detection).
    """
    return tos.accepted_elsewhere(environ)


def check_download_dir(plan: InstallPlan) -> Path | None:
    """Check, without creating anything, that the download folder can be made and written.

    Returns:
        The folder (``plan.download_dir`` or :func:`app.core.download.default_download_dir`), or
        ``None`` for a local installer file (nothing is downloaded then).

    Raises:
        DownloadError: the folder is a file, lies under a file, cannot be looked at (a link loop, no
            permission: :func:`app.core.plan_checks.stat_problem`), or cannot be written.
    """
    if plan.installer_file is not None:
        return None
    given = plan.download_dir is not None
    folder = Path(plan.download_dir).expanduser() if given else download.default_download_dir()
    flag = " (--download-dir)" if given else ""
    fix = _("Choose a download folder you can write to (--download-dir in silent mode, for example ~/Downloads).")
    if problem := plan_checks.stat_problem(folder, "--download-dir" if given else _("the default download folder")):
        raise DownloadError(_('The download folder {problem}').format(problem=problem), fix=fix)
    if problem := plan_checks.pseudo_fs_problem(folder, "--download-dir" if given else _("the default download folder"),
                                                _("downloads")):
        raise DownloadError(_('The download folder {problem}').format(problem=problem), fix=fix)
    if folder.exists() and not folder.is_dir():
        raise DownloadError(_('The download folder {folder}{flag} is a file, not a folder.').format(folder=folder, flag=flag), fix=fix)
    anchor = next((p for p in (folder, *folder.parents) if p.exists()), Path(folder.anchor or "/"))
    if not anchor.is_dir():
        raise DownloadError(_('The download folder {folder}{flag} cannot be created: {anchor} is a file.').format(folder=folder, flag=flag, anchor=anchor), fix=fix)
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise DownloadError(_('The download folder {folder}{flag} cannot be written: {anchor} is not writable for you.').format(folder=folder, flag=flag, anchor=anchor), fix=fix)
    return folder


def preflight(plan: InstallPlan, reporter: Reporter) -> None:
    """Checks that can fail before anything is downloaded or written, so a run does not stop half-way.

    The real run and ``--dry-run`` both run it (a dry run then reads the index too), so a dry run
    exits with the code the real run would.

    Raises:
        PrefixError: the install location cannot be used (a link to nothing, a path the system cannot look
            at: a link loop, no permission, a name too long; a file, under a file, not empty, not
            writable, too little space; see :func:`app.core.installer.check_prefix`).
        DownloadError: the download folder cannot be used (:func:`check_download_dir`). With
            ``plan.download_only`` that is the only check (the installer is staged for other machines).
            Also: a proxy the run goes through (environment or system setting) does not answer
            (:func:`app.core.proxy.check_before_download`).
        TermsOfServiceError: the env's channels serve Terms of Service that are not accepted
            (:func:`app.core.tos.check_before_install`; the message names the channels).
        EnvExistsError: the env exists and ``plan.if_env_exists`` is ``"fail"`` (see :func:`conda_env.check_existing`).
    """
    if plan.download_only:  # staged for other machines: any platform; no install location, env or ToS here
        check_download_dir(plan)
        proxy.check_before_download(plan, reporter)  # a set proxy that does not answer: DownloadError (exit 4)
        return
    if problem := plan_checks.platform_problem(plan.platform, detect(), setting("platform")):
        raise UsageError(problem, fix=_('Leave out --platform (or platform in the answer file) on this machine; an answer file written for other machines keeps it.'))
    prefix = plan.resolved_prefix
    fix = _("Choose another install location (--prefix in silent mode).")
    if problem := (plan_checks.dangling_link_problem(prefix, setting("prefix"))
                   or plan_checks.stat_problem(prefix, setting("prefix"))
                   or plan_checks.pseudo_fs_problem(prefix, setting("prefix"), _("an installation"))):
        raise PrefixError(problem, fix=fix)
    try:
        if existing.decide(plan) == "install":  # reuse / repair: PrefixError when the folder does not qualify
            installer.log_prefix_warnings(plan, existing.check_prefix(plan), reporter)
    except OSError as exc:  # any other surprise while looking at the location: named, never a traceback
        raise PrefixError(_('{prefix} ({setting}) cannot be used: it has {exc}.').format(prefix=prefix, setting=setting('prefix'), exc=plan_checks.os_error_reason(exc)),
                          fix=fix) from None
    check_download_dir(plan)
    proxy.check_before_download(plan, reporter)  # logs the proxy; one that does not answer: DownloadError (exit 4)
    tos.check_before_install(plan, reporter=reporter)  # any channel with terms (defaults, or a URL serving terms.json): TermsOfServiceError
    conda_env.check_existing(plan)  # an existing env is never replaced unasked (EnvExistsError, exit 9)
    if plan.create_env and plan.env_file is not None:  # what the environment.yml has that conda ignores
        from app.core import env_file

        loaded = env_file.load(plan.env_file, plan.env_name)
        for warning in loaded.warnings:
            reporter.log(Stage.ENV, warning, "warning")
        if warning := presets.driver_warning(loaded.conda_names(), plan.platform):
            reporter.log(Stage.ENV, _('The environment file {path}: {warning}').format(path=loaded.path, warning=warning), "warning")
    elif plan.create_env and (warning := presets.driver_warning(presets.conda_specs(plan), plan.platform)):
        reporter.log(Stage.ENV, warning, "warning")


def run(plan: InstallPlan, reporter: Reporter, cancel: CancelToken, state: RunState | None = None) -> RunState:
    """Validate the plan, run :func:`preflight`, then every wanted step in order.

    Returns:
        The filled :class:`RunState`.

    Raises:
        UsageError: the plan is invalid (nothing was touched).
        PrefixError / TermsOfServiceError: from :func:`preflight` (nothing was touched).
        WizardError subclasses: the failing step's error; Cancelled.
    """
    plan.validate()
    preflight(plan, reporter)
    state = state or RunState()
    for stage in STEPS:
        if not wanted(plan, stage):
            reporter.log(stage, _('Skipped: {stage_titles} (not part of this plan).').format(stage_titles=_(STAGE_TITLES[stage])))
            continue
        run_step(stage, plan, state, reporter, cancel)
    return state
