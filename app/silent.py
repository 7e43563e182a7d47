"""Silent mode: the same engine, no window, no questions, a log and documented exit codes.

Two reporters: :class:`ConsoleReporter` (readable lines, progress at most once a
second) and :class:`JsonReporter` (one JSON object per line on stdout, for fleet
tools). Both also write the log file. SIGINT (Ctrl+C), SIGTERM and SIGHUP cancel cleanly: the
current child process tree is ended, what the run made is removed, and the exit code is 128 + N
(130, 143, 129).
"""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from app.core import net, pipeline
from app.i18n import N_, _, join_sentences
from app.core.errors import Cancelled, Stage, UsageError, WizardError
from app.core.events import (CancelToken, Progress, Reporter, StageResult, TeeReporter, TrainStep, error_fix,
                             error_text, event_line, failed_fields, stage_name)
from app.core.logfile import FileLogReporter, default_log_file, log_path_problem
from app.core.termination import TerminationHandler
from app.core.plan import InstallPlan
from app.core.units import format_bytes, format_duration


class ConsoleReporter(Reporter):
    """Human-readable lines on ``out``. Debug lines are left to the log file.

    Progress is thinned out: download lines at most every :attr:`DOWNLOAD_INTERVAL` s (plus the
    last one of each phase), env lines only when their text changed and at most every
    :attr:`ENV_INTERVAL` s. A download line is the engine's own text (``Progress.text``), which
    says what is happening: ``"Checking the partial download: ..."`` before a resume is not the
    download itself.
    """

    #: Seconds between two download progress lines.
    DOWNLOAD_INTERVAL = 1.0
    #: Seconds between two env progress lines.
    ENV_INTERVAL = 2.0

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._last: dict[Stage, float] = {}
        self._last_text: dict[Stage, str] = {}

    def _print(self, text: str) -> None:
        if self.out is None:  # started with stdout closed: the log file has everything
            return
        with self._lock:
            try:
                print(text, file=self.out, flush=True)
            except (OSError, ValueError):  # the terminal is gone (SIGHUP, closed pipe): the log still has it
                pass

    def stage_started(self, stage: Stage, title: str) -> None:
        self._print(f"==> {title}")

    def stage_finished(self, result: StageResult) -> None:
        self._print("    " + _("done: {summary}").format(summary=result.summary))

    def progress(self, progress: Progress) -> None:
        if progress.stage is Stage.DOWNLOAD:
            final = progress.total is not None and progress.done >= progress.total
            line = progress.text or self._download_line(progress)
            self._maybe_print(progress.stage, line, self.DOWNLOAD_INTERVAL, force=final)
        elif progress.stage is Stage.ENV and progress.text:
            self._maybe_print(progress.stage, progress.text, self.ENV_INTERVAL)

    def _maybe_print(self, stage: Stage, line: str, interval: float, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if line == self._last_text.get(stage):
                return
            if not force and stage in self._last and now - self._last[stage] < interval:
                return
            self._last[stage] = now
            self._last_text[stage] = line
        self._print(f"    {line}")

    @staticmethod
    def _download_line(progress: Progress) -> str:
        """For a ``Progress`` without text: ``"1.0 MiB of 11.3 MiB (9%, 2.0 MiB/s, 5 s left)"``."""
        if not progress.total:
            return format_bytes(progress.done)
        rate = _(", {rate}/s").format(rate=format_bytes(progress.rate)) if progress.rate else ""
        eta = _(", {eta} left").format(eta=format_duration(progress.eta)) if progress.eta is not None else ""
        return (_("{done} of {total} ({percent:.0f}%{rate}{eta})").format(
                  done=format_bytes(progress.done), total=format_bytes(progress.total),
                  percent=100 * (progress.fraction or 0), rate=rate, eta=eta))

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        if level == "warning":
            self._print("    " + _("warning: {line}").format(line=line))
        elif level == "error":
            self._print("    " + _("error: {line}").format(line=line))
        elif level == "info":
            self._print(f"    {line}")

    def train_step(self, step: TrainStep) -> None:
        if step.step == 1 or step.step % 10 == 0:
            sps = _(", {steps_per_second:.1f} steps/s").format(steps_per_second=step.steps_per_second) if step.steps_per_second else ""
            self._print(_("    step {step}: loss {loss:.4f}{sps}").format(step=step.step, loss=step.loss, sps=sps))


class JsonReporter(Reporter):
    """One JSON object per line: ``{"event": <method name>, ...}``; see README.md for the fields."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event; ``fields`` must be exactly the documented ones (:data:`app.core.events.EVENT_FIELDS`)."""
        line = event_line(event, **fields)
        if self.out is None:  # started with stdout closed (cron, daemons): the log file has everything
            return
        with self._lock:
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except (OSError, ValueError):  # the reader is gone (SIGHUP, closed pipe): the log still has it
                pass

    def stage_started(self, stage: Stage, title: str) -> None:
        self.emit("stage_started", stage=stage.value, title=title)

    def stage_finished(self, result: StageResult) -> None:
        self.emit("stage_finished", stage=result.stage.value, summary=result.summary, data=result.data)

    def progress(self, progress: Progress) -> None:
        self.emit("progress", stage=progress.stage.value, done=progress.done, total=progress.total,
                  rate=progress.rate, eta=progress.eta, text=progress.text)

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        self.emit("log", stage=stage.value, level=level, line=line)

    def train_step(self, step: TrainStep) -> None:
        self.emit("train_step", step=step.step, loss=step.loss, elapsed=step.elapsed,
                  steps_per_second=step.steps_per_second, samples_per_second=step.samples_per_second)

    def info(self, stage: Stage, key: str, value: Any) -> None:
        self.emit("info", stage=stage.value, key=key, value=value)


LOG_FILE_FIX = N_("Choose a writable file path with --log-file (its folder is created if missing).")


class _StageTracker(Reporter):
    """Remembers the stage that started last (where a cancel or an unexpected error happened), whether it
    finished, and the warnings it logged after a cancel was asked for (its cleanup: "Removing ...")."""

    def __init__(self, cancel: CancelToken | None = None) -> None:
        self.stage: Stage | None = None
        self.finished = False
        self.cancel = cancel
        self.cleanup: list[str] = []

    def stage_started(self, stage: Stage, title: str) -> None:
        self.stage, self.finished = stage, False

    def stage_finished(self, result: StageResult) -> None:
        self.finished = True

    def log(self, stage: Stage, line: str, level: str = "info") -> None:
        if self.cancel is not None and self.cancel.cancelled and level == "warning" and stage is self.stage:
            self.cleanup.append(line.strip())


def _home_short(path: Path) -> str:
    """``~/miniconda3`` for a path under the home folder, else the path."""
    try:
        return "~/" + Path(path).relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def cancel_message(signal_name: str | None, tracker: _StageTracker, state: pipeline.RunState,
                   prefix_existed: bool) -> str:
    """What a cancelled run says (console, JSON ``cancelled`` message, log), one line.

    The interrupted step removes what it had half-made (its cleanup lines, from ``tracker``, are quoted);
    the steps that had finished stay, and each is named with how to undo it (from ``state``), e.g.
    ``"Cancelled by SIGTERM during the env step; what that step had made is removed (Removing the half-made
    env ... (cancelled).). Finished steps stay: Miniconda in ~/miniconda3 (remove it with `rm -rf
    ~/miniconda3`); the shell set-up in ~/.bashrc (undo it with `miniconda-wizard --undo-shell-changes`).
    To continue, run again with --update-existing."``
    """
    by = _("Cancelled by {signal_name}").format(signal_name=signal_name) if signal_name else _("Cancelled")
    stage = tracker.stage
    if stage is None:
        where = ""
    elif tracker.finished:
        where = _(" after the {stage} step").format(stage=stage_name(stage))
    else:
        where = _(" during the {stage} step").format(stage=stage_name(stage))
    parts = [by + where]
    if stage is not None and not tracker.finished:
        if stage is Stage.DOWNLOAD:
            parts.append(_("the partial download (.part) stays, and the next run resumes it"))
        elif tracker.cleanup:
            removed = [re.sub(r"^Removing (.*?)(?: \(cancelled\))?\.?$", r"\1", line) for line in tracker.cleanup
                       if line.startswith("Removing ")]
            other = [line[:1].lower() + line[1:].rstrip(".") for line in tracker.cleanup
                     if not line.startswith("Removing ")]
            if removed:
                parts.append(_("what that step had made is removed: ") + ", ".join(removed))
            parts += other
        else:
            parts.append(_("that step had made nothing that needed removing"))
    sep = _("; ")
    text = join_sentences(sep.join(parts))
    stays: list[str] = []
    if state.installer_path is not None and state.choice is not None and state.choice.url is not None:
        stays.append(_("the downloaded installer {path} (kept for the next run)").format(
                       path=_home_short(state.installer_path)))
    if state.install is not None:
        where = _home_short(state.install.prefix)
        stays.append(_("the updated Miniconda in {where}").format(where=where) if prefix_existed else
                     _("Miniconda in {where} (remove it with `rm -rf {where}`)").format(where=where))
    changed = [c for c in state.shell_changes if c.changed]
    if changed:
        files = ", ".join(dict.fromkeys(_home_short(c.path) if c.action != "registry" else str(c.path)
                                        for c in changed))
        stays.append(_("the shell set-up in {files} (undo it with `miniconda-wizard --undo-shell-changes`)").format(
                       files=files))
    if state.env is not None:
        stays.append(_("the env {name} in {path}").format(
                       name=state.env.name, path=_home_short(state.env.prefix)))
    if state.install is not None or changed or state.env is not None:
        text = join_sentences(text, _(" Finished steps stay: ") + sep.join(stays))
        if state.install is not None and not prefix_existed:
            text = join_sentences(text, _(" To continue, run again with --update-existing. To go on from where it "
                                          "stopped without running the installer again: --if-exists reuse."))
    elif stays:
        text = join_sentences(text, _("Nothing else was changed; {what} stays.").format(what=stays[0]))
    else:
        text = join_sentences(text, _(" Nothing else was changed."))
    return text


def run(plan: InstallPlan, json_events: bool = False, dry_run: bool = False,
        out: TextIO | None = None, cancel: CancelToken | None = None,
        argv: Sequence[str] | None = None, config: Path | None = None) -> int:
    """Run ``plan`` headless. Returns the exit code (see :data:`app.core.errors.EXIT_CODES`).

    While the steps run, SIGINT, SIGTERM and SIGHUP (Windows: Ctrl+C, Ctrl+Break, console close) cancel
    the run: the running child process tree is ended, what the step made is removed, the log and the
    output end with a ``cancelled`` event naming the signal, and the exit code is 128 + the signal number
    (:mod:`app.core.termination`). ``argv`` and ``config`` go into the log header.
    """
    out = out or sys.stdout
    console: Reporter = JsonReporter(out) if json_events else ConsoleReporter(out)
    try:
        plan.validate()
    except UsageError as exc:
        _report_error(console, json_events, exc, exc.exit_code, out)
        return exc.exit_code
    problem = log_path_problem(plan.log_file) if plan.log_file is not None else None
    if problem:  # checked before the dry run returns, so that --dry-run refuses it too
        err = UsageError(problem, fix=_(LOG_FILE_FIX))
        _report_error(console, json_events, err, err.exit_code, out)
        return err.exit_code
    if dry_run:
        return _dry_run(plan, console, json_events, out, cancel or CancelToken())
    try:
        if plan.log_file is None:
            plan.log_file = default_log_file()
        filelog = FileLogReporter(plan.log_file)
    except OSError as exc:
        problem = log_path_problem(plan.log_file) if plan.log_file is not None else None
        err = UsageError(problem or _("Cannot write the log file {path}: {reason}.").format(
            path=plan.log_file, reason=exc.strerror or exc), fix=_(LOG_FILE_FIX))
        _report_error(console, json_events, err, err.exit_code, out)
        return err.exit_code
    try:
        filelog.write_header(argv, config)
    except OSError as exc:  # a log that cannot be written at the start is a usage error (exit 2)
        filelog.failed = exc
        filelog.close()
        err = UsageError(_("Cannot write the log file {path}: {reason}.").format(
            path=plan.log_file, reason=exc.strerror or exc), fix=_(LOG_FILE_FIX))
        _report_error(console, json_events, err, err.exit_code, out)
        return err.exit_code
    filelog.write("info", "Plan:\n" + plan.summary())
    cancel = cancel or CancelToken()
    tracker = _StageTracker(cancel)
    reporter = TeeReporter(tracker, console, filelog)
    if not json_events:
        _print_quietly(_("Log file: {path}").format(path=plan.log_file), out)
    try:  # an install that was there before this run is "updated", not "made" (the cancel message)
        prefix_existed = plan.resolved_prefix.is_dir() and any(plan.resolved_prefix.iterdir())
    except OSError:
        prefix_existed = False
    state = pipeline.RunState()
    state.session = session = net.make_session()
    session.on_retry = lambda line: reporter.log(tracker.stage or Stage.CATALOG, line, "warning")  # type: ignore[attr-defined]

    def on_signal(name: str) -> None:
        filelog.write("warning", _("{signal} received: cancelling; the running step ends its programs and "
                                   "removes what this run made.").format(signal=name), tracker.stage or "wizard")

    code = 0
    stage: Stage | None = None
    with TerminationHandler(cancel, on_signal) as signals:
        try:
            state = pipeline.run(plan, reporter, cancel, state)
        except Cancelled:
            code, stage = signals.exit_code, tracker.stage
            text = cancel_message(signals.received, tracker, state, prefix_existed)
            filelog.write("warning", text, stage or "wizard")
            if json_events:
                assert isinstance(console, JsonReporter)
                console.emit("cancelled", exit_code=code, signal=signals.received,
                             stage=stage.value if stage else None, message=text)
            else:
                _print_quietly(text, out)
        except WizardError as exc:
            code, stage = exc.exit_code, exc.stage
            filelog.write("error", f"{type(exc).__name__}: {exc.message}\n"
                          f"What to do: {error_fix(exc.stage.value, exc.fix)}\n{exc.detail}".rstrip(), exc.stage)
            _report_error(console, json_events, exc, code, out)
        except OSError as exc:  # a disk or permission problem no step turned into a WizardError
            code, stage = 1, tracker.stage
            filelog.write("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}".rstrip(), stage or "wizard")
            err = WizardError(f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "),
                              fix=_("Check the disk space and the permissions of the folders named above."))
            if stage is not None:
                err.stage = stage
            _report_error(console, json_events, err, code, out)
        except Exception as exc:  # noqa: BLE001 - a bug: exit 1 with the traceback in the log, not on screen
            code, stage = 1, tracker.stage
            filelog.write("error", traceback.format_exc().rstrip(), stage or "wizard")
            err = WizardError(_("Unexpected error: {kind}: {error}").format(kind=type(exc).__name__, error=exc),
                              fix=_("This is a bug in the wizard. Please report it with the log file {path}.").format(
                                  path=plan.log_file))
            if stage is not None:
                err.stage = stage
            _report_error(console, json_events, err, code, out)
        else:
            stage = tracker.stage
            _report(console, json_events, out, "finished", 0, _next_steps(plan, state))
        finally:
            filelog.write_footer(code, stage or tracker.stage)
            filelog.close()
            session.close()
    return code


#: Where the expected SHA-256 came from (``InstallerChoice.hash_source``), for the dry run's "Chosen installer" line.
_HASH_SOURCES = {"user": N_("given with --sha256"), "index": N_("published by the index"),
                 "pinned": N_("from the pinned hash table"), "official-index": N_("published by the official index"),
                 "sha256sums": N_("listed in the SHA256SUMS beside it"),
                 "sha256-file": N_("the .sha256 file published beside it"),  # issue 7: Miniforge
                 "official-sha256-file": N_("the .sha256 file published on GitHub Releases")}

#: What ``--dry-run`` cannot know without doing the run (README "--dry-run is a validator" says the same).
DRY_RUN_NOT_CHECKED = N_("the SHA-256 of an installer still to be downloaded (checked when its bytes arrive; an "
                         "--installer-file is hashed now), the installer run itself, and whether the env step's "
                         "channels and packages resolve (conda and pip are not run).")


def _dry_run(plan: InstallPlan, console: Reporter, json_events: bool, out: TextIO, cancel: CancelToken) -> int:
    """``--dry-run``: every check the real run makes before it downloads, then the plan; nothing is written.

    Checks, in the real run's order: the log file can be written; :func:`app.core.pipeline.preflight`
    (install location, download folder, Terms of Service); the catalog step (reads the index: the
    installer exists, a given ``--sha256`` agrees with the published one, a hash is known unless
    ``--allow-unverified``); the install location again with the installer's rules (``.pkg``).
    A failure is reported exactly as the real run reports it, with the same exit code.

    Output: the plan summary, the chosen installer and the warnings, or one JSON ``plan`` event
    (``plan``, ``summary``, ``installer``, ``warnings``).
    """
    from app.core import catalog, download, existing, net, staging
    from app.core.errors import UnverifiedInstallerError
    from app.core.events import RecordingReporter

    record = RecordingReporter()
    with TerminationHandler(cancel) as signals:
        try:
            pipeline.preflight(plan, record)
            if existing.decide(plan) == "reuse":  # the real run reads no index and runs no installer
                return _dry_run_reuse(plan, console, json_events, out, record)
            with net.make_session() as session:
                choice = catalog.resolve(plan, session, record, cancel)
                download.check_space_for(plan, choice, record)  # the download step's own free-space check
                staging.check_staging_folder(plan)  # --download-only: the SHA256SUMS there can be merged into
                if choice.url is not None and choice.sha256 is None and not plan.allow_unverified:
                    raise UnverifiedInstallerError(
                        _("No SHA-256 is published for {filename}, so the download could not be verified.").format(
                            filename=choice.filename),
                        fix=_("Give the expected SHA-256 (--sha256; the official page "
                              "https://repo.anaconda.com/miniconda/ publishes it), or allow unverified installers "
                              "(--allow-unverified)."))
                # the download step's cheap checks: a local file is hashed, a remote one asked for its first byte
                checked = download.check_available(plan, choice, session, record, cancel)
            if not plan.download_only and existing.decide(plan) == "install":  # a repair removes the incomplete installation first
                for warning in existing.check_prefix(plan, Path(choice.filename).suffix.lower()):
                    record.log(Stage.INSTALL, warning, "warning")
        except Cancelled:
            text = _("Cancelled by {signal}; nothing was changed.").format(signal=signals.received) \
                if signals.received else _("Cancelled; nothing was changed.")
            if json_events:
                assert isinstance(console, JsonReporter)
                console.emit("cancelled", exit_code=signals.exit_code, signal=signals.received, stage=None, message=text)
            else:
                _print_quietly(text, out)
            return signals.exit_code
        except WizardError as exc:
            _report_error(console, json_events, exc, exc.exit_code, out)
            return exc.exit_code
    warnings = list(dict.fromkeys(line for _stage, line, level in record.of("log") if level == "warning"))
    where = _(_HASH_SOURCES.get(choice.hash_source or "", "")) if choice.hash_source in _HASH_SOURCES else ""
    if choice.sha256:
        sha = _("SHA-256 {sha256} ({where})").format(sha256=choice.sha256, where=where)
    elif choice.local_path is not None and choice.url is None:  # --installer-file: no flag was needed for it
        sha = _("no known SHA-256: it is your own file, used with a warning")
    else:
        sha = _("no known SHA-256 (--allow-unverified)")
    if json_events:
        assert isinstance(console, JsonReporter)
        console.emit("plan", plan=plan.to_mapping(), summary=plan.summary(),
                     installer={"filename": choice.filename, "url": choice.url,
                                "path": str(choice.local_path) if choice.local_path else None,
                                "sha256": choice.sha256, "hash_source": choice.hash_source, "size": choice.size,
                                "notes": list(choice.notes),  # why this installer, what is hidden (issue 5)
                                "checked": checked, "not_checked": _(DRY_RUN_NOT_CHECKED)},
                     warnings=warnings)
    else:
        print(plan.summary(), file=out)
        print(_("Chosen installer: {filename}, {sha}").format(filename=choice.filename, sha=sha), file=out)
        for note in (n for n in choice.notes if n not in warnings):  # why this installer, what is hidden (issue 5)
            print(f"  {note}", file=out)
        for warning in warnings:
            print(_("warning: {line}").format(line=warning), file=out)
        print(_("Checked: {what}").format(what=checked), file=out)
        print(_("Not checked: {what}").format(what=_(DRY_RUN_NOT_CHECKED)), file=out)
        print("\n" + _("Dry run: every check the real run makes before downloading passed; nothing was changed."),
              file=out)
    return 0


def _dry_run_reuse(plan: InstallPlan, console: Reporter, json_events: bool, out: TextIO, record) -> int:
    """``--dry-run --if-exists reuse`` on an existing installation: the plan, without an installer."""
    warnings = list(dict.fromkeys(line for _stage, line, level in record.of("log") if level == "warning"))
    if json_events:
        assert isinstance(console, JsonReporter)
        console.emit("plan", plan=plan.to_mapping(), summary=plan.summary(), installer=None, warnings=warnings)
    else:
        print(plan.summary(), file=out)
        print(_("Installer: none: the installation in {prefix} is reused as it is.").format(
            prefix=plan.resolved_prefix), file=out)
        for warning in warnings:
            print(_("warning: {line}").format(line=warning), file=out)
        print("\n" + _("Dry run: every check the real run makes passed; nothing was changed."), file=out)
    return 0


def uninstall(prefix: Path, json_events: bool = False, dry_run: bool = False, out: TextIO | None = None,
              os_name: str | None = None, remove_user_data: bool = False) -> int:
    """``--uninstall`` (``--yes`` already checked by the command line): reverse what the wizard did for ``prefix``
    (:func:`app.core.uninstall.run`). Returns 0, or 14 (:class:`~app.core.errors.UninstallError`) when there is no
    record of ``prefix`` or something could not be reversed. With ``dry_run`` the actions are listed, nothing done.
    """
    from app.core import uninstall as uninstall_mod

    out = out or sys.stdout
    console: Reporter = JsonReporter(out) if json_events else ConsoleReporter(out)
    try:
        result = uninstall_mod.run(prefix, None if dry_run else console, os_name=os_name, dry_run=dry_run,
                                   remove_user_data=remove_user_data)
    except WizardError as exc:
        _report_error(console, json_events, exc, exc.exit_code, out)
        return exc.exit_code
    if dry_run:
        text = "\n".join([_("Dry run: --uninstall --prefix {prefix} would:").format(prefix=prefix),
                          *(f"- {line}" for line in result.lines), _("Nothing was changed.")])
    else:
        if result.prefix_removed:
            text = _("Uninstalled: {prefix} is removed; every change the wizard made for it is reversed. Open a new "
                     "terminal to use the restored settings.")
        elif result.user_data:
            text = _("Uninstalled: {prefix} keeps only your own envs and files; every change the wizard made for it "
                     "is reversed. Open a new terminal to use the restored settings.")
        else:
            text = _("Uninstalled: {prefix} is kept; every change the wizard made for it is reversed. Open a new "
                     "terminal to use the restored settings.")
        text = text.format(prefix=prefix)
    _report(console, json_events, out, "finished", 0, text)
    return 0


def undo_shell_changes(json_events: bool = False, out: TextIO | None = None, dry_run: bool = False) -> int:
    """Undo the PATH/shell changes of the last run (see :func:`app.core.shell_setup.undo`); ``dry_run``: only list
    what would be undone (nothing changes).

    Returns 0 (also when there was nothing to undo) or 8 when a file was edited since and is left alone.
    """
    from app.core import shell_setup

    out = out or sys.stdout
    console: Reporter = JsonReporter(out) if json_events else ConsoleReporter(out)
    entries = shell_setup.last_run()
    if not entries:
        _report(console, json_events, out, "finished", 0, _("Nothing to undo: no recorded shell or PATH changes."))
        return 0
    try:
        changes = shell_setup.undo(entries, console, dry_run=dry_run)
    except WizardError as exc:
        _report_error(console, json_events, exc, exc.exit_code, out)
        return exc.exit_code
    if dry_run:  # a dry run only lists
        text = "".join(c.describe() + "\n" for c in changes) if json_events else ""
        text += _("Dry run: nothing was changed; {count} change(s) would be undone. Run without --dry-run to undo "
                  "them.").format(count=len(changes))
        _report(console, json_events, out, "finished", 0, text)
        return 0
    if json_events or not changes:
        text = "\n".join(c.describe() for c in changes) or _("Nothing left to undo.")
    else:  # the console reporter printed each change already
        done = sum(c.changed for c in changes)
        text = _("Undone: {count} change(s) reversed. Open a new terminal to use the restored settings.").format(
            count=done)
    _report(console, json_events, out, "finished", 0, text)
    return 0


def _next_steps(plan: InstallPlan, state: pipeline.RunState) -> str:
    lines = [_("Done.")]
    if plan.download_only and state.installer_path is not None:  # issue 5: what was staged, and how to use it
        from app.core import staging

        lines.append(staging.stage_summary(state.installer_path.parent, state.installer_path.name))
    if state.install:
        lines.append(_("Miniconda (conda {version}) is in {prefix}.").format(version=state.install.conda_version,
                                                                             prefix=state.install.prefix))
    if state.gpu:
        lines.append(state.gpu.headline)
    if plan.platform.os == "Windows":  # only where conda activate works (app.core.windows_setup)
        from app.core.windows_setup import next_steps_header  # noqa: PLC0415

        prefix = state.install.prefix if state.install else plan.resolved_prefix
        lines.extend(next_steps_header(plan, state.shell_changes, prefix))
        if state.env:
            lines.append(f"conda activate {state.env.name}")
    elif state.env:
        lines.append(_("Open a new terminal, then run: conda activate {name}").format(name=state.env.name))
    lines.append(_("Log file: {path}").format(path=plan.log_file))
    return "\n".join(lines)


def _print_quietly(text: str, out: TextIO) -> None:
    try:
        print(text, file=out, flush=True)
    except (OSError, ValueError):  # the terminal is gone: the log has the text
        pass


def _report(console: Reporter, json_events: bool, out: TextIO, event: str, code: int, text: str) -> None:
    if json_events:
        assert isinstance(console, JsonReporter)
        console.emit(event, exit_code=code, message=text)
    else:
        _print_quietly(text, out)


def _report_error(console: Reporter, json_events: bool, exc: WizardError, code: int, out: TextIO) -> None:
    if json_events:
        assert isinstance(console, JsonReporter)
        console.emit("failed", **failed_fields(exc, code))
    else:
        _print_quietly(error_text(exc.stage.value, exc.message, exc.fix), sys.stderr)
