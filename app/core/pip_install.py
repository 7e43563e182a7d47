"""Env step 5 (after ``conda create`` and the env's pip config): the LLM presets' pip installs, with the
env's own ``python -m pip``.

1. torch from the PyTorch wheel index of the chosen variant: ``python -m pip install --index-url
   https://download.pytorch.org/whl/cu130 torch`` (or the mirror's copy, as ``--index-url`` or
   ``--find-links``: :func:`app.core.mirrors.sources` ``.torch_index(variant)``); the Apple Silicon and
   Intel-Mac builds come from the env's normal pip index (``python -m pip install torch``);
2. the rest (``transformers accelerate ...``) from the env's normal pip index: PyPI, or the mirror written
   into the env's own ``pip.conf`` / ``pip.ini`` (:mod:`app.core.pip_config`), so no index is named here.

Why pip and not conda: the pytorch conda channel stopped at 2.5 (pytorch/pytorch#138506); PyTorch's own
install page gives ``pip3 install torch --index-url https://download.pytorch.org/whl/<variant>``.

pip runs with ``PYTHONNOUSERSITE=1`` (a torch in ``~/.local`` must not count as installed in the env) and
``PIP_REQUIRE_VIRTUALENV=false`` (a conda env is not a virtualenv; that user setting would refuse it).
A requirement that is already installed is left as it is (no ``--upgrade``), which is also how the test
suite's stand-in env (a venv that sees the test interpreter's site-packages, torch included) runs this step
for real without downloading torch.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.i18n import _, join_sentences
from app.core import disk_errors, env_progress, mirrors, presets
from app.core.errors import EnvCreateError, Stage
from app.core.events import CancelToken, Reporter
from app.core.system import child_env, run_streaming

if TYPE_CHECKING:
    from app.core.conda_env import EnvResult
    from app.core.plan import InstallPlan

OFFICIAL_TORCH_INDEX = "https://download.pytorch.org/whl/"


@dataclass(frozen=True)
class PipStep:
    """One ``python -m pip install``: ``title`` (``"PyTorch (CUDA 13.0)"``), ``argv`` (the whole command, the
    env's Python first), ``source`` (where the packages come from, one human line), ``index`` (the URL given
    on the command line, or ``None`` = the env's pip config)."""

    title: str
    argv: tuple[str, ...]
    source: str
    index: str | None = None
    #: the torch variant of a PyTorch step (``"cpu"``, ``"cu130"``; ``""`` for other steps) and the
    #: requirements it names (``("torch",)``): a failure's fix never suggests what is already chosen.
    variant: str = ""
    requirements: tuple[str, ...] = ()

    def text(self) -> str:
        """The command as one line a user can paste (POSIX quoting)."""
        return shlex.join(self.argv)


@dataclass(frozen=True)
class PipResult:
    """The pip steps that ran (``steps``) and those skipped, with why (``skipped``)."""

    steps: tuple[PipStep, ...] = ()
    skipped: str = ""


def steps(plan: InstallPlan, python: str | Path = "python", choice: presets.PresetChoice | None = None,
          sources=None) -> list[PipStep]:
    """The pip commands of ``plan`` (empty unless the preset is an LLM one), in order.

    Args:
        python: the env's Python (``<env>/bin/python``; ``"python"`` for display before the env exists).
        choice: :func:`app.core.presets.resolve` of ``plan`` (computed when omitted).
        sources: :func:`app.core.mirrors.sources` of ``plan`` (computed when omitted).
    """
    choice = choice or presets.resolve(plan)
    if choice.variant is None:
        return []
    sources = sources or mirrors.sources(plan)
    v = choice.variant
    base = (str(python), "-m", "pip", "install")
    out = []
    if v.index == "pytorch":
        url, style = sources.torch_index(v.variant)
        flag = "--find-links" if style == "find-links" else "--index-url"
        official = url.startswith(OFFICIAL_TORCH_INDEX)
        where = (_("{url}, the official PyTorch wheel index") if official
                 else _("{url}, a mirror of the PyTorch wheels")).format(url=url)
        if style == "find-links":
            where = _("{where} (torch's own dependencies from the env's pip index)").format(where=where)
        out.append(PipStep(f"PyTorch ({v.title})", (*base, flag, url, *v.requirements), where, url,
                           v.variant, tuple(v.requirements)))
    else:
        out.append(PipStep(f"PyTorch ({v.title})", (*base, *v.requirements),
                           _("the env's pip index: PyPI or its mirror"), None, v.variant, tuple(v.requirements)))
    if choice.pip:
        out.append(PipStep(_("LLM libraries"), (*base, *choice.pip), _("the env's pip index: PyPI or its mirror")))
    return out


def _env() -> dict[str, str]:
    return child_env({"PYTHONNOUSERSITE": "1", "PIP_REQUIRE_VIRTUALENV": "false",
                      "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


_NOT_FOUND_RE = re.compile(r"No matching distribution found for (\S+)|Could not find a version that satisfies "
                           r"the requirement (\S+)", re.IGNORECASE)
_NETWORK_RE = re.compile(r"Max retries exceeded|NewConnectionError|ConnectionError|ProxyError|Read timed out|"
                         r"Temporary failure in name resolution|Name or service not known|Network is unreachable",
                         re.IGNORECASE)
_SSL_RE = re.compile(r"SSLError|CERTIFICATE_VERIFY_FAILED|certificate verify failed", re.IGNORECASE)
_HASH_RE = re.compile(r"THESE PACKAGES DO NOT MATCH THE HASHES", re.IGNORECASE)


def error_for(step: PipStep, returncode: int, output: str, plan: InstallPlan) -> EnvCreateError:
    """The :class:`EnvCreateError` (exit code 9) for a failed pip step: pip's own ``ERROR:`` lines as the
    message, a fix that fits the kind of failure, and always the command to run again by hand."""
    errors = [ln.strip() for ln in output.splitlines() if ln.strip().startswith("ERROR:")]
    said = " ".join(errors[-2:]) or f"exit code {returncode}"
    where = step.index or "the env's pip index (PyPI or the mirror in the env's pip config)"
    retry = f" To retry by hand: {step.text()}"
    disk = disk_errors.classify(output[-4000:])
    if disk:
        what, fix = disk_errors.advice(disk, "the env folder", "choose another install location")
        err = EnvCreateError(_('pip could not install {title}: {what}').format(title=step.title, what=what), fix=fix + retry, detail=output[-4000:])
        err.retry = retry  # type: ignore[attr-defined]  # settle_env_after_failure drops it when the env is gone
        return err
    if m := _NOT_FOUND_RE.search(output):
        name = m.group(1) or m.group(2)
        own = {_req_name(r) for r in step.requirements}
        mirror = bool(step.index) and not step.index.startswith(OFFICIAL_TORCH_INDEX)
        if step.index and mirror and own and _req_name(name) not in own:
            # torch itself was found; one of ITS dependencies was not: the mirror's copy is incomplete
            fix = (f"The mirror's PyTorch wheel index {step.index} is incomplete: it has no {name}, which torch "
                   "needs. Use the official PyTorch index (--mirror official; to keep the mirror for the other "
                   "parts, add --condarc-mirror NAME and --pip-index URL).")
        elif step.index:
            options = []
            if step.variant != "cpu":
                options.append("another build with --torch-variant (cpu exists for every platform)")
            other_python = "3.12" if plan.env_python == "3.11" else "3.11"
            options.append(f"another Python (--env-python {other_python})")
            if mirror:
                options.append("the official PyTorch index (--mirror official)")
            fix = (f"{where} has no {name} for Python {plan.env_python} on {plan.platform.describe()}. Choose "
                   + ", or ".join(options) + ".")
        else:
            fix = (f"Check the package name {name}, or the pip index ({where}): a mirror may lag behind PyPI; "
                   "give another with --pip-index.")
    elif _SSL_RE.search(output):
        fix = (f"pip could not verify the TLS certificate of {where}. Behind a proxy that inspects TLS, add the "
               "proxy's certificate to the OS certificate store or give pip its file (PIP_CERT), or ask IT.")
    elif _NETWORK_RE.search(output):
        fix = (f"pip could not reach {where}. Check the network and the proxy (HTTPS_PROXY), or choose a "
               "mirror (--mirror, --pip-index).")
    elif "No module named pip" in output:
        fix = ("The env has no pip. Create it again with pip in it (the LLM presets add it to conda create), or "
               f"run {step.argv[0]} -m ensurepip first.")
    elif _HASH_RE.search(output):
        fix = "A download was damaged or changed on the way (hash mismatch); run again, or use another mirror."
    else:
        fix = "Read pip's output in the log."
    err = EnvCreateError(_('pip could not install {title}: {said}').format(title=step.title, said=said), fix=fix + retry, detail=output[-4000:])
    err.retry = retry  # type: ignore[attr-defined]  # settle_env_after_failure drops it when the env is gone
    return err


def _req_name(text: str) -> str:
    """The canonical project name of a requirement (``"Torch==2.5"`` -> ``"torch"``)."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    return canonicalize_name(re.split(r"[<>=!~;\[ @(]", text.strip(), maxsplit=1)[0])


def settle_env_after_failure(err: EnvCreateError, env: EnvResult, done: list[PipStep] | tuple[PipStep, ...],
                             reporter: Reporter) -> EnvCreateError:
    """What becomes of the env when a pip step failed, said in ``err`` (returned, changed).

    The rule is "remove only what this run created": an env this run created, into which no pip step got
    anything, is removed (:func:`app.core.conda_env.discard_created`), so running the same command again starts
    clean (pip keeps its downloads in its cache). An env that holds a finished pip step (torch, gigabytes), or
    that this run did not create, is kept, and the error says how to go on with it.
    """
    from app.core import conda_env  # noqa: PLC0415 - conda_env is heavier and imports this module's callers

    retry = getattr(err, "retry", "")
    if env.created and not done and conda_env.discard_created(env, reporter, _("pip failed")):
        err.message = join_sentences(err.message, _("The env {name} that this run created ({prefix}) was removed, so "
                                                    "running again starts clean.").format(name=env.name,
                                                                                          prefix=env.prefix))
        if retry:
            err.fix = err.fix.replace(retry, "")
        return err
    kept = (_("its conda part and {steps}").format(steps=", ".join(s.title for s in done)) if done else
            _("its conda part"))
    err.message = join_sentences(err.message, _("The env {name} ({prefix}, {kept}) is kept.").format(
        name=env.name, prefix=env.prefix, kept=kept))
    err.fix = join_sentences(err.fix, _("To continue, run the command above in it; or run the wizard again with "
                                        "--if-env-exists replace to start over (--if-env-exists reuse keeps the env "
                                        "as it is and installs nothing with pip)."))
    return err


def pip_version(python: str | Path, cancel: CancelToken | None = None) -> str | None:
    """The env's pip version (``"24.2"``) from ``python -m pip --version``, or ``None`` when it cannot be told."""
    try:
        res = run_streaming([str(python), "-m", "pip", "--version"], cancel=cancel, env=_env(), timeout=60)
    except (OSError, ValueError):
        return None
    m = re.match(r"pip (\d+(?:\.\d+)+)", res.stdout.strip())
    return m.group(1) if res.returncode == 0 and m else None


def run(plan: InstallPlan, env: EnvResult, reporter: Reporter, cancel: CancelToken) -> PipResult:
    """Run the pip steps of ``plan`` in ``env`` (nothing for presets without pip, or a reused env).

    Returns:
        :class:`PipResult` with the steps run.

    Raises:
        EnvCreateError: a pip step failed (pip's message, a fix); an env this run created with nothing from
            pip in it yet is removed, any other is kept with the command to retry (:func:`settle_env_after_failure`).
        Cancelled: the pip process tree was ended.
    """
    choice = presets.resolve(plan)
    for warning in choice.warnings:
        reporter.log(Stage.ENV, warning, "warning")
    if choice.variant is None:
        return PipResult(skipped=f"the preset {choice.name} installs nothing with pip")
    if env.reused:
        text = ("The env was reused as it is (--if-env-exists reuse), so pip installs nothing; "
                "to add PyTorch yourself: " + "; ".join(s.text() for s in steps(plan, env.python, choice)))
        reporter.log(Stage.ENV, text)
        return PipResult(skipped=text)
    reporter.log(Stage.ENV, _('Preset: {title}. {reason}').format(title=choice.title, reason=choice.reason))
    reporter.info(Stage.ENV, "torch_variant", choice.variant.variant)
    done = []
    # pip >= 24.1 prints "Progress N of M" lines with --progress-bar raw; older pips get "off" (a bar redrawn
    # with \r is useless through a pipe). The stage text (downloading, installing) comes from pip's lines.
    progress = env_progress.pip_progress_args(pip_version(env.python, cancel))
    tracker = env_progress.StageTracker()
    for step in steps(plan, env.python, choice):
        cancel.raise_if_cancelled()
        reporter.log(Stage.ENV, _('Installing {title} from {source}: {text}').format(title=step.title, source=step.source, text=step.text()))
        argv = [*step.argv[:4], *progress, *step.argv[4:]]  # [python, -m, pip, install, <progress>, ...]
        try:
            res = run_streaming(argv, cancel=cancel, env=_env(), cwd=str(env.prefix),
                                on_stdout=env_progress.line_sink(reporter, tracker),
                                on_stderr=lambda line: reporter.log(Stage.ENV, line, "warning"))
        except OSError as exc:
            raise EnvCreateError(_("The env's Python {python} could not be started for pip: {exc}").format(python=env.python, exc=exc),
                                 fix=_('Create the env again (--if-env-exists replace).')) from exc
        if res.returncode != 0:
            raise settle_env_after_failure(error_for(step, res.returncode, res.stdout + "\n" + res.stderr, plan),
                                           env, done, reporter)
        done.append(step)
    return PipResult(tuple(done))
