"""``--gpu-check-only``: re-check an existing env (issue 6), headless or in the wizard.

``miniconda-wizard --gpu-check-only --python PATH`` or ``--gpu-check-only --env NAME --prefix P`` runs only
the GPU-check step against that env's Python: after fixing a driver, the user checks again without
reinstalling anything. With ``--silent`` (and ``--json`` for JSON-lines events, the same events as a full
silent run) it runs headless; without it the wizard opens straight on the GPU page. ``--require-gpu`` turns a
verdict other than "GPU works" into exit code 13.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from app.core import conda_env, pipeline
from app.core.errors import Cancelled, Stage, UsageError, WizardError
from app.core.events import CancelToken, Reporter, TeeReporter, error_fix
from app.core.logfile import FileLogReporter, default_log_file
from app.core.plan import InstallPlan
from app.i18n import _
from app.core.termination import TerminationHandler


def resolve(plan: InstallPlan, python: str | None, env: str | None) -> tuple[Path, str | None, Path]:
    """The env to check: ``(python, env name or None, env prefix)``.

    ``python`` (``--python``) wins; else ``env`` (``--env``, default the plan's ``env_name``) in the plan's
    prefix (``--prefix``): ``<prefix>/envs/<name>``, or ``<prefix>`` itself for ``base``.

    Raises:
        UsageError: the Python does not exist (the message names the path looked at and the envs found).
    """
    if python:
        py = Path(python).expanduser()
        if py.is_dir():
            inside = next((c for c in (py / "bin" / "python", py / "python.exe") if c.is_file()), None)
            raise UsageError(_("--python {python}: this is a folder; --python expects the env's python program.")
                             .format(python=python),
                             fix=_("Give {example}.").format(example=inside) if inside else
                             _("Give the path of the env's python (for example ~/miniconda3/envs/llm/bin/python), "
                               "or use --env NAME with --prefix."))
        if not py.is_file():
            raise UsageError(_("--python {python}: no such file.").format(python=python),
                             fix=_("Give the path of the env's python (for example "
                                   "~/miniconda3/envs/llm/bin/python)."))
        py = py.absolute()
        prefix = py.parent.parent if py.parent.name == "bin" else py.parent
        name = prefix.name if prefix.parent.name == "envs" else None
        return py, name, prefix
    name = env or plan.env_name
    base = plan.resolved_prefix
    prefix = base if name == "base" else base / "envs" / name
    py = conda_env.env_python(prefix, plan.platform.os)
    if not py.is_file():
        try:
            found = sorted(p.name for p in (base / "envs").iterdir() if p.is_dir())
        except OSError:
            found = []
        have = _(" Envs in {base}: {value}.").format(base=base, value=', '.join(['base', *found])) if found else ""
        raise UsageError(_("There is no env {name!r} in {base} ({py} does not exist).{have}").format(name=name, base=base, py=py, have=have),
                         fix=_("Give --env NAME of an existing env and --prefix of its Miniconda, or --python PATH."))
    return py, name, prefix


def prepare(plan: InstallPlan, python: str | None, env: str | None) -> pipeline.RunState:
    """A run state whose env is the one to check (the GPU-check step reads ``state.env.python``)."""
    py, name, prefix = resolve(plan, python, env)
    if name:
        plan.env_name = name
    state = pipeline.RunState()
    state.env = conda_env.EnvResult(name or prefix.name, prefix, py, reused=True)
    return state


def run_silent(plan: InstallPlan, state: pipeline.RunState, json_events: bool = False, out: TextIO | None = None,
               cancel: CancelToken | None = None, argv: list[str] | None = None) -> int:
    """Run only the GPU-check step headless. Returns 0, 11 (the check failed), 13 (``--require-gpu`` and no
    working GPU), 2 (the log cannot be written) or 128 + N on a signal."""
    from app.silent import ConsoleReporter, JsonReporter, _report, _report_error

    out = out or sys.stdout
    console: Reporter = JsonReporter(out) if json_events else ConsoleReporter(out)
    try:
        plan.log_file = plan.log_file or default_log_file()
        filelog = FileLogReporter(plan.log_file)
        filelog.write_header(argv, None)
    except OSError as exc:
        err = UsageError(_("Cannot write the log file {log_file}: {value}.").format(log_file=plan.log_file, value=exc.strerror or exc),
                         fix="Give a writable --log-file.")
        _report_error(console, json_events, err, err.exit_code, out)
        return err.exit_code
    assert state.env is not None
    filelog.write("info", _("GPU check only: {python}").format(python=state.env.python))
    reporter = TeeReporter(console, filelog)
    cancel = cancel or CancelToken()
    code = 0
    with TerminationHandler(cancel) as signals:
        try:
            pipeline.run_step(Stage.GPU_CHECK, plan, state, reporter, cancel)
        except Cancelled:
            code = signals.exit_code
            text = _("Cancelled{value}; nothing was changed.").format(value=' by ' + signals.received if signals.received else '')
            if json_events:
                assert isinstance(console, JsonReporter)
                console.emit("cancelled", exit_code=code, signal=signals.received, stage=Stage.GPU_CHECK.value,
                             message=text)
            else:
                print(text, file=out, flush=True)
        except WizardError as exc:
            code = exc.exit_code
            filelog.write("error", _("{name}: {message}\nWhat to do: {error_fix}\n{detail}").format(name=type(exc).__name__, message=exc.message, error_fix=error_fix(exc.stage.value, exc.fix), detail=exc.detail).rstrip(), exc.stage)
            _report_error(console, json_events, exc, code, out)
        else:
            g = state.gpu
            assert g is not None
            _report(console, json_events, out, "finished", 0,
                    _("{verdict_text}\nLog file: {log_file}").format(verdict_text=g.verdict_text, log_file=plan.log_file))
        finally:
            filelog.write_footer(code, Stage.GPU_CHECK)
            filelog.close()
    return code
