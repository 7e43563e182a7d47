"""Step 6 of the env step: check that the env holds what was asked, and that torch is the wanted build.

Three checks, each shown as one line of :meth:`EnvReport.lines` (the env step's summary and the page):

1. ``conda list -p ENV --json`` holds every package asked for: the names of the plan's specs (``python`` and
   ``packages``, or the environment.yml's conda and ``pip:`` entries), plus any ``expected_pip`` names of the
   pip step, which may instead be found where pip put them (the env's Python, ``importlib.metadata``). Output shape recorded from real conda 26.7 (``tests/data/real-conda/conda-list--json-n-demo.json``:
   a list of ``{"name", "version", "channel", "build_string", ...}``); pip-installed packages appear there as
   ``channel: "pypi"`` rows (conda's interoperability records). Names compare PEP 503-normalised
   (``huggingface_hub`` = ``huggingface-hub``), and ``pytorch`` (conda) = ``torch`` (pip).
2. The env's Python reports ``torch.__version__`` and ``transformers.__version__`` (one child
   ``python -c``, through :func:`app.core.system.run_streaming`, 300 s at most: a first ``import torch`` on a
   cold disk takes tens of seconds). A package that was not asked for and is missing is only noted.
3. ``torch.version.cuda`` matches the chosen variant: ``cu126`` -> ``"12.6"``, ``cu130`` -> ``"13.0"``,
   ``cpu`` -> ``None`` (PyTorch's CPU wheels; source: pytorch.org "get started", ``torch.version.cuda`` is ``None``
   in a build without CUDA); ``rocmX.Y`` -> ``torch.version.hip`` starts with ``X.Y``. No variant known -> not
   checked (the line says so).

Nothing here raises for a failed check: :attr:`EnvReport.ok` is False and each failing line starts with
``"PROBLEM:"``; the pipeline logs those lines as warnings (the GPU check that follows fails with its own
message when torch is missing). Raises only :class:`app.core.errors.Cancelled`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from app.core import conda_cmd, match_spec
from app.core.errors import Stage
from app.core.events import CancelToken, Reporter
from app.i18n import _

#: Printed by the env's Python: one JSON line with versions (``None`` = not importable) and errors.
PROBE = r"""
import json, sys
from importlib import metadata
out = {"python": sys.version.split()[0], "errors": {}, "dists": {}}
for name in sys.argv[1:]:
    try:
        out["dists"][name] = metadata.version(name)
    except Exception:
        out["dists"][name] = None
for mod in ("torch", "transformers"):
    try:
        m = __import__(mod)
        out[mod] = getattr(m, "__version__", "unknown")
    except Exception as exc:
        out[mod] = None
        out["errors"][mod] = f"{type(exc).__name__}: {exc}"
if out["torch"]:
    import torch
    out["cuda"] = getattr(torch.version, "cuda", None)
    out["hip"] = getattr(torch.version, "hip", None)
print("ENV_VERIFY " + json.dumps(out))
"""

_ALIASES = {"pytorch": "torch"}


def _key(name: str) -> str:
    n = str(canonicalize_name(name))
    return _ALIASES.get(n, n)


def expected_cuda(variant: str | None) -> tuple[str, str | None] | None:
    """``("cuda", "12.6")`` for ``cu126``, ``("cuda", None)`` for ``cpu``, ``("hip", "6.2")`` for ``rocm6.2``;
    ``None`` for no variant, ``auto`` or one this does not know (``mps`` is the macOS default build:
    ``("cuda", None)``)."""
    v = (variant or "").strip().lower()
    if m := re.fullmatch(r"cu(\d+)(\d)", v):
        return "cuda", f"{int(m.group(1))}.{m.group(2)}"
    if v in ("cpu", "mps"):
        return "cuda", None
    if m := re.fullmatch(r"rocm(\d+\.\d+)(?:\.\d+)?", v):
        return "hip", m.group(1)
    return None


@dataclass
class EnvReport:
    """The result of :func:`verify`.

    Attributes:
        prefix: the env.
        asked: the package names checked in ``conda list`` (normalised).
        missing: those not found.
        installed: name -> version of the asked packages that were found.
        versions: what the env's Python printed (``python``, ``torch``, ``transformers``, ``cuda``, ``hip``,
            ``errors``), or ``{}`` when it could not run.
        variant: the torch variant checked against, or ``None``.
        problems: the failed checks, as sentences.
    """

    prefix: Path
    asked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    installed: dict[str, str] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None
    problems: list[str] = field(default_factory=list)
    _lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """One human line per check; failing ones start with ``"PROBLEM: "``."""
        return list(self._lines)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "asked": self.asked, "missing": self.missing, "installed": self.installed,
                "versions": self.versions, "variant": self.variant, "lines": self.lines()}


def asked_names(plan, expected_pip: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The normalised names the plan asked for (see the module docstring)."""
    names: list[str] = []
    if plan.env_file is not None:
        from app.core import env_file

        loaded = env_file.load(plan.env_file)
        names += loaded.conda_names() + loaded.pip_names()
    else:
        from app.core import presets  # noqa: PLC0415

        names.append("python")
        for spec in presets.conda_specs(plan):  # what conda create was given: the preset's (pip) and the plan's
            try:
                names.append(match_spec.parse(spec).name)
            except match_spec.SpecError:
                continue
    names += list(expected_pip)
    return list(dict.fromkeys(_key(n) for n in names))


def _conda_list(conda_exe: Path, prefix: Path, cancel: CancelToken) -> list[dict] | str:
    from app.core.conda_env import _conda_child_env, conda_cwd, parse_conda_json
    from app.core.system import run_streaming

    try:
        res = run_streaming([*conda_cmd.argv_for(conda_exe), "list", "-p", prefix, "--json"], cancel=cancel,
                            env=_conda_child_env(), cwd=conda_cwd(conda_cmd.root_of(conda_exe)), timeout=300)
    except (OSError, TimeoutError) as exc:
        return _("conda list could not run: {exc}").format(exc=exc)
    try:
        rows = json.loads(res.stdout)
    except ValueError:
        doc = parse_conda_json(res.stdout)
        msg = (doc or {}).get("message") or res.stderr.strip()[-300:] or \
            _("exit code {code}").format(code=res.returncode)
        return _("conda list failed: {message}").format(message=msg)
    if res.returncode != 0 or not isinstance(rows, list):
        msg = rows.get("message") if isinstance(rows, dict) else None
        return _("conda list failed: {message}").format(
            message=msg or _("exit code {code}").format(code=res.returncode))
    return [r for r in rows if isinstance(r, dict) and "name" in r]


def _probe(python: Path, cancel: CancelToken, dists: list[str] | tuple[str, ...] = ()) -> dict[str, Any] | str:
    """Run :data:`PROBE` in the env's Python; ``dists``: distributions whose installed version to report (what
    pip sees: ``importlib.metadata``)."""
    from app.core.system import run_streaming

    try:
        res = run_streaming([python, "-c", PROBE, *dists], cancel=cancel, timeout=300)
    except (OSError, TimeoutError) as exc:
        return _("the env's Python could not run: {exc}").format(exc=exc)
    for line in reversed(res.stdout.splitlines()):
        if line.startswith("ENV_VERIFY "):
            try:
                return json.loads(line[len("ENV_VERIFY "):])
            except ValueError:
                break
    return _("the env's Python failed (exit code {returncode}): {value}").format(
        returncode=res.returncode, value=res.stderr.strip()[-300:])


def verify(plan, env, reporter: Reporter, cancel: CancelToken, *, conda_exe: Path | None = None,
           variant: str | None = None, expected_pip: tuple[str, ...] | list[str] = ()) -> EnvReport:
    """Check the env (see the module docstring) and log each result line.

    Args:
        plan: the run's plan (``packages`` / ``env_file``; ``torch_variant`` when ``variant`` is not given).
        env: :class:`app.core.conda_env.EnvResult` (``prefix``, ``python``).
        conda_exe: the root prefix's conda; default: the one of ``plan.resolved_prefix``.
        variant: the torch variant chosen for this machine (``cu126``, ``cpu``...); default
            ``plan.torch_variant`` unless ``None``/``"auto"``.
        expected_pip: names the pip step installed (torch, transformers ...), also looked for in ``conda list``.

    Returns:
        :class:`EnvReport`.

    Raises:
        Cancelled: the token was set while a child ran.
    """
    from app.core.installer import conda_executable

    prefix = Path(env.prefix)
    conda_exe = conda_exe or conda_executable(plan.resolved_prefix, plan.platform.os)
    if variant is None and plan.torch_variant and plan.torch_variant.lower() != "auto":
        variant = plan.torch_variant
    report = EnvReport(prefix, asked=asked_names(plan, expected_pip), variant=variant)
    lines = report._lines
    problem_lines: set[str] = set()

    def problem(text: str) -> None:
        """A failed check: in ``report.problems``, and a line starting with "PROBLEM: " (translated)."""
        report.problems.append(text)
        line = _("PROBLEM: {text}").format(text=text)
        problem_lines.add(line)
        lines.append(line)

    # pip's packages are checked where pip put them (the env's Python: importlib.metadata), conda's in conda list
    pip_names = [_key(n) for n in expected_pip]
    probe = _probe(Path(env.python), cancel, pip_names)
    pip_have = {_key(k): v for k, v in probe.get("dists", {}).items() if v} if isinstance(probe, dict) else {}
    rows = _conda_list(conda_exe, prefix, cancel)
    if isinstance(rows, str):
        problem(rows)
    else:
        have = {**pip_have, **{_key(str(r["name"])): str(r.get("version", "?")) for r in rows}}
        report.installed = {n: have[n] for n in report.asked if n in have}
        report.missing = [n for n in report.asked if n not in have]
        if report.missing:
            problem(_("{prefix} lacks {missing} of the {asked} packages asked (conda list, and pip's view for the pip "
                      "packages): {names}").format(prefix=prefix, missing=len(report.missing),
                                                   asked=len(report.asked), names=', '.join(report.missing)))
        else:
            shown = ", ".join(f"{n} {v}" for n, v in list(report.installed.items())[:6])
            if len(report.installed) > 6:
                lines.append(_("All {asked} packages asked are in the env: {shown} and {more} more.").format(
                    asked=len(report.asked), shown=shown, more=len(report.installed) - 6))
            else:
                lines.append(_("All {asked} packages asked are in the env: {shown}.").format(
                    asked=len(report.asked), shown=shown))

    if isinstance(probe, str):
        problem(probe)
    else:
        report.versions = probe
        errors = probe.get("errors") or {}
        for mod in ("torch", "transformers"):
            version = probe.get(mod)
            if version:
                lines.append(_("{mod} {version} imports (Python {python}).").format(
                    mod=mod, version=version, python=probe.get('python')))
            elif mod in report.asked:
                problem(_("{mod} was asked for but does not import: {error}").format(
                    mod=mod, error=errors.get(mod) or _("unknown error")))
            else:
                lines.append(_("{mod} is not in this env (not asked for).").format(mod=mod))
        want = expected_cuda(variant)
        if probe.get("torch") and want is not None:
            kind, value = want
            got = probe.get(kind)
            match = (got is None) if value is None else (got is not None and str(got).startswith(value))
            built = f"torch.version.{kind} = {got!r}"
            if match:
                lines.append(_("{built}: the {variant} build, as chosen.").format(built=built, variant=variant))
            else:
                wanted = _("a CPU-only build (None)") if value is None else f"{kind} {value}"
                problem(_("{built}, but the {variant} variant means {wanted}: a different torch build was "
                          "installed").format(built=built, variant=variant, wanted=wanted))
        elif probe.get("torch"):
            lines.append(_("torch.version.cuda = {cuda!r} (no variant chosen, so not compared).").format(
                cuda=probe.get('cuda')))
    for line in lines:
        reporter.log(Stage.ENV, line, "warning" if line in problem_lines else "info")
    reporter.info(Stage.ENV, "env_verify", report.to_dict())
    return report
