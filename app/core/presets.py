"""Env presets (LLM on an NVIDIA GPU, on the CPU, on Apple Silicon; minimal Python; from an environment.yml;
custom): data in ``resources/presets.toml``, chosen from the machine with a reason.

:func:`resolve` turns ``plan.preset`` (default ``"auto"``) into a :class:`PresetChoice`: the preset, why it
was chosen, the conda packages of ``conda create``, and for the LLM presets the torch build
(:mod:`app.core.torch_variant`) and the pip packages that follow it (:mod:`app.core.pip_install` runs them).

``auto`` means: an ``environment.yml`` given (``--env-file``) -> ``env-file``; packages given
(``--packages``) -> ``custom`` (conda only, as before); else the LLM preset for the machine: an NVIDIA GPU
with a driver some current CUDA build needs -> ``llm-gpu``, Apple Silicon -> ``llm-mps``, else ``llm-cpu``.

The GPU is only looked at (:func:`app.core.gpu_info.detected`, once per process) when the plan's platform is
this machine's; a plan for another platform assumes no NVIDIA GPU and says so.

``MINICONDA_WIZARD_PRESETS=/path/to/presets.toml`` replaces the bundled file (tests, or a site's own presets).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core import gpu_info, torch_variant
from app.core.platform_info import PlatformInfo
from app.core.platform_info import detect as detect_platform
from app.i18n import N_, _, ngettext
from app.resources import resource

if TYPE_CHECKING:
    from app.core.plan import InstallPlan

PRESETS_ENV = "MINICONDA_WIZARD_PRESETS"
AUTO = "auto"
KINDS = ("llm", "conda", "env-file")
#: Why the pytorch conda channel is a trap (https://github.com/pytorch/pytorch/issues/138506).
PYTORCH_CHANNEL_NOTE = N_(
    "The pytorch conda channel stopped at PyTorch 2.5 (https://github.com/pytorch/pytorch/issues/138506), so "
    "'-c pytorch' and 'pytorch-cuda' give an old torch or no solution at all. Use an LLM preset (--preset llm: "
    "torch from the PyTorch wheel index with pip), or conda-forge's pytorch."
)


@dataclass(frozen=True)
class Preset:
    """One row of ``presets.toml``: ``name``, ``title``, ``kind`` (``llm``/``conda``/``env-file``), ``device``
    (``cuda``/``cpu``/``mps``/``None``), ``hardware`` (the device comes from the machine), ``conda`` and
    ``pip`` package lists."""

    name: str
    title: str
    kind: str
    device: str | None = None
    hardware: bool = False
    conda: tuple[str, ...] = ()
    pip: tuple[str, ...] = ()


@dataclass(frozen=True)
class PresetChoice:
    """What the env gets.

    Attributes:
        preset: the :class:`Preset` in force (for ``auto`` and the ``llm``/``llm-extra`` aliases: resolved).
        asked: what the plan said (``"auto"``, ``"llm"``, ``"llm-cpu"`` ...).
        reason: one sentence: why this preset (and build) - shown by the summary, the dry run and the wizard.
        conda: the conda packages besides ``python=X.Y`` (the preset's plus the user's ``packages``).
        variant: the torch build (LLM presets), else ``None``.
        pip: the pip packages installed after torch (LLM presets).
        warnings: things to show before anything runs (pytorch channel, old driver ...).
    """

    preset: Preset
    asked: str
    reason: str
    conda: tuple[str, ...]
    variant: torch_variant.VariantChoice | None = None
    pip: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.preset.name

    @property
    def title(self) -> str:
        return self.preset.title

    @property
    def installs_torch(self) -> bool:
        return self.variant is not None


def load(path: Path | None = None) -> dict[str, Preset]:
    """The presets: ``path``, else ``$MINICONDA_WIZARD_PRESETS``, else the bundled ``resources/presets.toml``.
    Titles are in the language in force (they are gettext ids: ``build_scripts/i18n_common.py`` TABLE_TEXTS;
    a site's own titles, not in the catalogue, stay as written).

    Raises:
        OSError / tomllib.TOMLDecodeError / ValueError: unreadable file, bad TOML, or a row with an unknown
            ``kind``.
    """
    where = str(path or os.environ.get(PRESETS_ENV) or resource("presets.toml"))
    st = os.stat(where)
    return {name: replace(p, title=_(p.title)) for name, p in _load(where, st.st_mtime_ns, st.st_size)}


@lru_cache(maxsize=4)
def _load(path: str, _mtime_ns: int = 0, _size: int = 0) -> tuple[tuple[str, Preset], ...]:
    """The parsed file, cached while its modification time and size stay the same."""
    with open(path, "rb") as fh:
        doc: dict[str, Any] = tomllib.load(fh)
    out = []
    for name, row in doc.get("preset", {}).items():
        kind = row.get("kind", "conda")
        if kind not in KINDS:
            raise ValueError(_("{path}: preset {name!r} has kind {kind!r}; use one of {value}.").format(
                path=path, name=name, kind=kind, value=', '.join(KINDS)))
        out.append((name, Preset(name=name, title=str(row.get("title", name)), kind=kind, device=row.get("device"),
                                 hardware=bool(row.get("hardware", False)), conda=tuple(row.get("conda", ())),
                                 pip=tuple(row.get("pip", ())))))
    return tuple(out)


def names() -> list[str]:
    """``auto`` and every preset name, for ``--preset`` and messages."""
    return [AUTO, *load()]


def _base(plan: InstallPlan) -> tuple[Preset, str]:
    """The preset row in force for ``plan`` without looking at the GPU, and the reason when ``auto`` chose it."""
    table = load()
    asked = plan.preset or AUTO
    if asked != AUTO:
        return table[asked], ""
    if plan.env_file is not None:
        return table["env-file"], _("an environment.yml was given ({env_file})").format(env_file=plan.env_file)
    if plan.packages:
        return table["custom"], _("packages were given (--packages), so conda installs just those")
    return table["llm"], ""


def conda_specs(plan: InstallPlan) -> tuple[str, ...]:
    """The conda packages of ``conda create`` besides ``python=X.Y``: the preset's (``pip`` for the LLM
    presets), then the plan's ``packages`` (for ``custom``: only those). Needs no GPU probe."""
    preset, _row = _base(plan)
    return tuple(dict.fromkeys([*preset.conda, *plan.packages]))


#: conda package names of PyTorch itself: with an LLM preset (torch from pip) they would be installed twice.
CONDA_TORCH_NAMES = frozenset({"pytorch", "torch", "pytorch-cuda", "pytorch-gpu", "pytorch-cpu", "pytorch-mutex",
                               "torchvision", "torchaudio", "libtorch"})


def _spec_name(spec: str) -> str:
    """The package name of a conda spec (``"pytorch::pytorch>=2"`` -> ``"pytorch"``), lower case."""
    return re.split(r"[\s=<>!~\[]", spec.strip().lower().split("::")[-1], maxsplit=1)[0]


def problems(plan: InstallPlan) -> list[str]:
    """The preset and torch-variant problems of ``plan`` (sentences naming the setting and the fix); needs no
    GPU probe."""
    from app.core.plan import setting  # noqa: PLC0415 - plan imports this module

    table = load()
    asked = plan.preset or AUTO
    if asked != AUTO and asked not in table:
        return [_("Unknown preset {name!r} ({setting}): use one of {names} (for example --preset llm).").format(
            name=asked, setting=setting('preset'), names=', '.join(names()))]
    out: list[str] = []
    preset, _row = _base(plan)
    try:
        variants = torch_variant.load()
    except (OSError, ValueError) as exc:
        return [_("The PyTorch variant table cannot be read: {error}. Reinstall miniconda-wizard.").format(error=exc)]
    if (problem := torch_variant.problem(plan.torch_variant, plan.platform, variants)):
        out.append(_("{problem} ({value}; auto chooses from the GPU and driver)").format(
            problem=problem, value=setting('torch_variant')))
    if preset.kind == "env-file" and plan.env_file is None:
        out.append(_("The preset env-file needs an environment.yml: give it with {setting}.").format(
            setting=setting('env_file')))
    if preset.kind != "llm" and plan.torch_variant not in (None, torch_variant.AUTO):
        why = _("packages were given, so the preset is custom (conda only)") if asked == AUTO else \
            _("the preset {name} installs no torch with pip").format(name=preset.name)
        out.append(_("{value} applies to the LLM presets, but {why}. Use --preset llm to get "
                     "torch from the PyTorch wheel index (your packages are then added with conda), or leave out "
                     "--torch-variant.").format(value=setting('torch_variant'), why=why))
    if preset.kind == "llm":
        torch_specs = [s for s in plan.packages if _spec_name(s) in CONDA_TORCH_NAMES]
        if torch_specs:
            out.append(_("The LLM presets install torch with pip, from the PyTorch wheel index of the chosen build; "
                         "{value2} in {value3} would add conda's PyTorch packages to "
                         "the same env, and the two overwrite each other. Leave "
                         "{value} out of the packages (choose the build with "
                         "--torch-variant), or use --preset custom to install everything with conda.").format(
                             value=_("it") if len(torch_specs) == 1 else _("them"), value2=', '.join(torch_specs), value3=setting('packages')))
        if preset.device == "cuda" and plan.platform.os == "MacOSX":
            out.append(_("There is no CUDA build of PyTorch for macOS: choose --preset llm-mps or llm-cpu "
                         "({value}).").format(value=setting('preset')))
        if preset.device == "mps" and plan.platform.tag != "MacOSX-arm64":
            out.append(_("The preset llm-mps is for Apple Silicon Macs; on {platform} use "
                         "llm-gpu or llm-cpu (or auto).").format(platform=plan.platform.describe()))
        py = _py(plan.env_python)
        low, high = _py(variants.python_min), _py(variants.python_max)
        if py and low and high and not low <= py <= high:
            out.append(_("PyTorch {torch} has wheels for Python {python_min} to "
                         "{python_max}, not {env_python} ({value}); choose one of "
                         "those, for example 3.11.").format(
                             torch=variants.torch, python_min=variants.python_min, python_max=variants.python_max, env_python=plan.env_python, value=setting('env_python')))
    return out


def _py(text: str) -> tuple[int, int] | None:
    m = re.match(r"^(\d+)\.(\d+)", str(text))
    return (int(m.group(1)), int(m.group(2))) if m else None


@lru_cache(maxsize=1)
def _here() -> PlatformInfo:
    return detect_platform()


def machine_gpu(platform: PlatformInfo) -> tuple[gpu_info.GpuInfo | None, str]:
    """The NVIDIA GPUs for a plan on ``platform``: probed (once per process) when ``platform`` is this
    machine's, else ``None``; with a note when the GPU could not be looked at."""
    here = _here()
    if (here.os, here.arch) != (platform.os, platform.arch):
        return None, (_("The plan is for {platform}, not this machine, so its GPU is unknown; "
                        "set --torch-variant for it.").format(platform=platform.describe()))
    return gpu_info.detected(), ""


#: conda packages that need an NVIDIA driver (the ``__cuda`` virtual package): without one, conda fails with
#: "nothing provides __cuda" (recorded: tests/data/real-conda-errors/libmamba-nothing-provides-cuda.txt).
NEEDS_CUDA_DRIVER = frozenset({"pytorch-cuda", "pytorch-gpu"})


def driver_warning(names: list[str] | tuple[str, ...], platform: PlatformInfo) -> str | None:
    """A warning when conda packages in ``names`` need an NVIDIA driver (:data:`NEEDS_CUDA_DRIVER`) and this
    machine has none (:func:`app.core.gpu_info.detected`); ``None`` otherwise, or when the plan is for another
    machine, or ``CONDA_OVERRIDE_CUDA`` is set (conda then assumes a driver)."""
    wanted = sorted({_spec_name(n) for n in names} & NEEDS_CUDA_DRIVER)
    if not wanted or os.environ.get("CONDA_OVERRIDE_CUDA"):
        return None
    here = _here()
    if (here.os, here.arch) != (platform.os, platform.arch) or gpu_info.detected() is not None:
        return None
    return ngettext("{packages} needs an NVIDIA GPU driver, and this machine has none (nvidia-ml-py and "
                    "nvidia-smi found no driver): conda will fail with \"nothing provides __cuda\". Use the CPU build "
                    "instead (--preset llm-cpu, or drop it from the packages), or install the NVIDIA driver first.",
                    "{packages} need an NVIDIA GPU driver, and this machine has none (nvidia-ml-py and "
                    "nvidia-smi found no driver): conda will fail with \"nothing provides __cuda\". Use the CPU build "
                    "instead (--preset llm-cpu, or drop it from the packages), or install the NVIDIA driver first.",
                    len(wanted)).format(packages=" and ".join(wanted))


def channel_warnings(plan: InstallPlan) -> list[str]:
    """:data:`PYTORCH_CHANNEL_NOTE` when the plan's channels or packages ask for the pytorch conda channel
    (``-c pytorch``, a ``.../pytorch`` channel URL, ``pytorch::torch``) or ``pytorch-cuda``."""
    chans = [c.strip().rstrip("/").lower() for c in plan.channels]
    asks = any(c == "pytorch" or c.endswith("/pytorch") for c in chans)
    for spec in plan.packages:
        low = spec.strip().lower()
        name = re.split(r"[\s=<>!~\[]", low.split("::")[-1], maxsplit=1)[0]
        if name == "pytorch-cuda" or low.split("::")[0].rstrip("/").endswith("pytorch") and "::" in low:
            asks = True
    return [_(PYTORCH_CHANNEL_NOTE)] if asks else []


def resolve(plan: InstallPlan, gpu: gpu_info.GpuInfo | None | str = "detect",
            table: torch_variant.VariantTable | None = None) -> PresetChoice:
    """The preset in force for ``plan``, with the reason, packages and (LLM presets) the torch build.

    Args:
        plan: ``preset``, ``packages``, ``env_file``, ``torch_variant``, ``platform``.
        gpu: the NVIDIA GPUs to decide with; ``"detect"`` (default): :func:`machine_gpu`.
        table: the torch variant table (default :func:`app.core.torch_variant.load`).

    Raises:
        KeyError: an unknown preset (:func:`problems` reports it first).
        app.core.torch_variant.VariantError: an unusable ``torch_variant`` or device for the platform.
    """
    presets = load()
    base, auto_why = _base(plan)
    asked = plan.preset or AUTO
    warnings = channel_warnings(plan)
    conda = conda_specs(plan)
    if base.kind != "llm":
        reason = _("Chosen automatically: {why}.").format(why=auto_why) if auto_why else _("Chosen with --preset.")
        return PresetChoice(base, asked, reason, conda, warnings=tuple(warnings))
    note = ""
    if gpu == "detect":
        gpu, note = machine_gpu(plan.platform)
    device = None if base.hardware else base.device
    choice = torch_variant.choose(plan.platform, gpu, table, override=plan.torch_variant, device=device)
    preset = base
    if base.hardware:
        hw = "llm-gpu" if choice.cuda else "llm-mps" if choice.variant == "mps" else "llm-cpu"
        row = presets[hw]
        title = row.title if base.name == "llm" else f"{row.title} ({base.title})"
        preset = Preset(name=hw if base.name == "llm" else base.name, title=title, kind="llm", device=row.device,
                        conda=base.conda, pip=base.pip)
    how = _("Chosen from the machine") if base.hardware and asked == AUTO else \
        _("Chosen from the machine (--preset {preset})").format(preset=asked) if base.hardware else \
        _("Chosen with --preset {preset}").format(preset=asked)
    if plan.torch_variant and plan.torch_variant != torch_variant.AUTO:  # the user's choice, not the machine's
        how = _("Set with --torch-variant (--preset {preset})").format(preset=asked) if asked != AUTO else \
            _("Set with --torch-variant")
        note = ""  # the machine's GPU was not what decided
    reason = _("{how}: {reason}").format(how=how, reason=choice.reason) + (f" {note}" if note else "")
    return PresetChoice(preset, asked, reason, conda, choice, preset.pip, tuple([*warnings, *choice.warnings]))
