"""Which PyTorch wheel build ("variant": ``cpu``, ``cu126``, ``cu130``, ``mps`` ...) fits the machine.

The decision is data: ``resources/torch_variants.toml`` (versioned, with its sources) lists each variant's
platforms, minimum NVIDIA driver per OS and compute-capability range. :func:`choose` applies it:

1. ``--torch-variant NAME`` wins (checked against the table: :func:`problem`).
2. macOS arm64: the PyPI wheel (MPS). macOS x86_64: the last Intel-Mac wheel, with the reason.
3. No NVIDIA driver: the CPU build.
4. Otherwise the highest-ranked automatic CUDA variant whose compute-capability range holds every GPU and
   whose minimum driver the machine has. When the capability fits some build but the driver is too old
   for all of them: the CPU build, and "update the driver to >= N, or use the CPU".

``MINICONDA_WIZARD_TORCH_VARIANTS=/path/to/table.toml`` replaces the bundled table (tests, or a site that
pins other builds).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from app.i18n import _
from app.core.gpu_info import GpuInfo
from app.core.platform_info import PlatformInfo
from app.resources import resource

TABLE_ENV = "MINICONDA_WIZARD_TORCH_VARIANTS"
AUTO = "auto"


class VariantError(ValueError):
    """A variant that does not exist in the table or has no build for the platform; ``str()`` is the
    sentence to show (it names the known variants)."""


@dataclass(frozen=True)
class Variant:
    """One row of the table, resolved for one platform (its ``on.<platform>`` keys applied)."""

    name: str
    title: str
    index: str  # "pytorch" or "pypi"
    platforms: tuple[str, ...]
    unverified: tuple[str, ...] = ()
    cuda: str | None = None
    min_driver: dict[str, str] = field(default_factory=dict)
    compute_capability: tuple[str, str] | None = None
    auto: bool = True
    rank: int = 0
    torch: tuple[str, ...] = ("torch",)

    def fits(self, cc: tuple[int, int] | None) -> bool:
        """Whether the build has kernels for compute capability ``cc`` (``None`` = unknown: assumed to fit).
        Lowest: ``cc >= low``; highest: same or lower major version than ``high`` (a 12.0 kernel runs on 12.1)."""
        if self.compute_capability is None or cc is None:
            return True
        low = _cc(self.compute_capability[0])
        high = _cc(self.compute_capability[1])
        return cc >= low and cc[0] <= high[0]

    def driver_needed(self, os_name: str) -> str | None:
        """The minimum driver on ``os_name`` (``"Windows"`` or anything else = Linux), or ``None``."""
        return self.min_driver.get("Windows" if os_name == "Windows" else "Linux")


@dataclass(frozen=True)
class VariantTable:
    """The whole table: ``version``, ``torch`` (release it describes), Python range and the rows."""

    version: int
    torch: str
    python_min: str
    python_max: str
    rows: dict[str, dict[str, Any]]
    path: Path

    @property
    def names(self) -> list[str]:
        return sorted(self.rows)

    def variant(self, name: str, platform: PlatformInfo) -> Variant:
        """Row ``name`` for ``platform``.

        Raises:
            VariantError: unknown name, or no build of it for the platform.
        """
        if name not in self.rows:
            raise VariantError(_('Unknown PyTorch variant {name!r}: the known ones are {join}.').format(
                name=name, join=', '.join([AUTO, *self.names])))
        row = dict(self.rows[name])
        row.update(row.pop("on", {}).get(platform.tag, {}))
        platforms = tuple(row.get("platforms", ()))
        if platform.tag not in platforms:
            here = [n for n in self.names if platform.tag in self.rows[n].get("platforms", ())]
            raise VariantError(_('The PyTorch variant {name!r} has no build for {describe}; for it use {join}.').format(
                name=name, describe=platform.describe(), join=', '.join([AUTO, *here])))
        cc = row.get("compute_capability")
        return Variant(name=name, title=_(row.get("title", name)), index=row.get("index", "pytorch"),
                       platforms=platforms, unverified=tuple(row.get("unverified", ())), cuda=row.get("cuda"),
                       min_driver=dict(row.get("min_driver", {})),
                       compute_capability=(str(cc[0]), str(cc[1])) if cc else None,
                       auto=bool(row.get("auto", True)), rank=int(row.get("rank", 0)),
                       torch=tuple(row.get("torch", ("torch",))))

    def for_platform(self, platform: PlatformInfo) -> list[Variant]:
        """Every variant with a build for ``platform``, highest rank first."""
        out = [self.variant(n, platform) for n in self.names if platform.tag in self.rows[n].get("platforms", ())]
        return sorted(out, key=lambda v: -v.rank)


@dataclass(frozen=True)
class VariantChoice:
    """The chosen build.

    Attributes:
        variant: ``"cu130"``, ``"cpu"``, ``"mps"`` ...
        reason: one sentence, why (shown in the summary, the dry run and the wizard).
        torch: the torch requirement (``"torch"``, or ``"torch==2.2.2"`` on an Intel Mac).
        requirements: everything the torch step installs (``("torch",)``, ``("torch==2.2.2", "numpy<2")``).
        title: ``"CUDA 13.0"``; cuda: the CUDA version (``torch.version.cuda``) or ``None``.
        index: ``"pytorch"`` (download.pytorch.org/whl/<variant> or a mirror's copy) or ``"pypi"`` (the env's
            pip index: PyPI or its mirror).
        warnings: things the user should know (driver too old, unverified build).
    """

    variant: str
    reason: str
    torch: str = "torch"
    requirements: tuple[str, ...] = ("torch",)
    title: str = ""
    cuda: str | None = None
    index: str = "pytorch"
    warnings: tuple[str, ...] = ()


def _cc(text: str) -> tuple[int, int]:
    major, _sep, minor = str(text).partition(".")
    return int(major), int(minor or 0)


def _version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def load(path: Path | None = None) -> VariantTable:
    """Read the table: ``path``, else ``$MINICONDA_WIZARD_TORCH_VARIANTS``, else the bundled
    ``resources/torch_variants.toml``.

    Raises:
        OSError / tomllib.TOMLDecodeError: the file cannot be read.
    """
    path = Path(path or os.environ.get(TABLE_ENV) or resource("torch_variants.toml"))
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    return VariantTable(version=int(doc.get("version", 0)), torch=str(doc.get("torch", "")),
                        python_min=str(doc.get("python_min", "3.10")), python_max=str(doc.get("python_max", "3.99")),
                        rows=dict(doc.get("variant", {})), path=path)


def problem(name: str | None, platform: PlatformInfo, table: VariantTable | None = None) -> str | None:
    """Why ``name`` (the ``--torch-variant`` value) cannot be used on ``platform``, or ``None`` (``None`` and
    ``"auto"`` are always fine)."""
    if name is None or name == AUTO:
        return None
    table = table or load()
    try:
        table.variant(name, platform)
    except VariantError as exc:
        return str(exc)
    return None


def _choice(v: Variant, reason: str, warnings: list[str] | tuple[str, ...] = ()) -> VariantChoice:
    return VariantChoice(variant=v.name, reason=reason, torch=v.torch[0], requirements=v.torch, title=v.title,
                         cuda=v.cuda, index=v.index, warnings=tuple(warnings))


def _unverified(v: Variant, platform: PlatformInfo) -> list[str]:
    if platform.tag not in v.unverified:
        return []
    return [_("The {title} build for {platform} is listed by PyTorch but was not checked for this "
              "wizard (Grace Hopper / Grace Blackwell servers); Jetson boards need NVIDIA's own wheels. If pip "
              "finds no build, use --torch-variant cpu.").format(title=v.title, platform=platform.describe())]


def choose(platform: PlatformInfo, gpu: GpuInfo | None, table: VariantTable | None = None,
           override: str | None = None, device: str | None = None) -> VariantChoice:
    """The PyTorch build for this machine.

    Args:
        platform: where the env runs (OS and architecture).
        gpu: :func:`app.core.gpu_info.detect`'s answer (``None``: no NVIDIA driver).
        table: the variant table (default :func:`load`).
        override: ``--torch-variant`` (``None``/``"auto"``: choose).
        device: what the preset is for: ``"cuda"``, ``"cpu"``, ``"mps"`` or ``None`` (the machine decides).

    Raises:
        VariantError: ``override`` is unknown or has no build for ``platform``; or ``device`` cannot be
            served on ``platform`` (a CUDA preset on macOS).
    """
    table = table or load()
    os_name = platform.os
    if override not in (None, AUTO):
        v = table.variant(override, platform)
        warnings = _unverified(v, platform)
        if v.cuda and gpu is not None:
            needed, have = _version(v.driver_needed(os_name)), gpu.driver
            if needed and have and have < needed:
                warnings.append(_("The {title} build needs NVIDIA driver >= {value}; this machine has "
                                  "{driver_version}. Update the driver, or choose another --torch-variant.").format(
                                      title=v.title, value=v.driver_needed(os_name), driver_version=gpu.driver_version))
            bad = [d for d in gpu.devices if not v.fits(d.capability)]
            if bad:
                warnings.append(_("The {title} build has no kernels for {name} (compute capability "
                                  "{compute_capability}); it supports {value2} to "
                                  "{value}.").format(
                                      title=v.title, name=bad[0].name, compute_capability=bad[0].compute_capability, value=v.compute_capability[1], value2=v.compute_capability[0]))
        elif v.cuda and gpu is None:
            warnings.append(_("No NVIDIA driver was found; the {title} build needs one to use a GPU.").format(
                title=v.title))
        return _choice(v, _("{name} ({title}).").format(name=v.name, title=v.title), warnings)  # the caller says it was set with --torch-variant

    variants = table.for_platform(platform)
    if not variants:
        raise VariantError(_('PyTorch publishes no build for {describe}.').format(describe=platform.describe()))
    cuda = [v for v in variants if v.cuda and v.auto]
    cpu = next((v for v in variants if v.name == "cpu"), None)
    if platform.os == "MacOSX":
        if device == "cuda":
            raise VariantError(_('There is no CUDA build of PyTorch for macOS ({describe}); choose the preset llm-mps or llm-cpu.')
                .format(describe=platform.describe()))
        if platform.arch == "arm64":
            v = table.variant("mps", platform)
            return _choice(v, _("Apple Silicon: the PyPI wheel of torch, which uses the GPU through MPS "
                                "(macOS 14 or later)."))
        v = table.variant("cpu", platform)
        return _choice(v, _("An Intel Mac: PyTorch stopped publishing macOS x86_64 wheels after 2.2 (2.2.2 is the "
                            "last), so torch 2.2.2 is installed, CPU only, with NumPy 1.x. Newer transformers "
                            "releases may need a newer torch; for current PyTorch use Apple Silicon or Linux."),
                       [_("torch 2.2.2 is the last Intel-Mac build: newer libraries may refuse it.")])
    if cpu is None:
        raise VariantError(_('The PyTorch variant table has no CPU build for {describe}.').format(
            describe=platform.describe()))
    if device == "cpu":
        return _choice(cpu, _("The CPU preset was chosen: the CPU build of torch (no CUDA libraries to download)."))
    if gpu is None:
        if device == "cuda" and cuda:
            v = cuda[0]
            return _choice(v, _("No NVIDIA driver was found, but the GPU preset was chosen: the newest build, "
                                "{name} ({title}), needs driver >= {driver}.").format(
                                    name=v.name, title=v.title, driver=v.driver_needed(os_name)),
                           [_("No NVIDIA driver was found: torch will not see a GPU until one >= "
                              "{driver} is installed.").format(driver=v.driver_needed(os_name)),
                            *_unverified(v, platform)])
        return _choice(cpu, _("No NVIDIA GPU driver was found (nvidia-ml-py and nvidia-smi), so the CPU build of "
                              "torch is installed."))
    have = gpu.driver
    skipped: list[str] = []
    for v in cuda:
        bad = [d for d in gpu.devices if not v.fits(d.capability)]
        if bad:
            skipped.append(_("{name} has no kernels for compute capability {compute_capability} "
                             "(it supports {value} to {value2})").format(
                                 name=v.name, compute_capability=bad[0].compute_capability, value=v.compute_capability[0], value2=v.compute_capability[1]))
            continue
        needed = _version(v.driver_needed(os_name))
        if needed and (have is None or have < needed):
            skipped.append(_("{name} needs driver >= {value}").format(name=v.name, value=v.driver_needed(os_name)))
            continue
        if v.compute_capability:
            why = _("{gpu}: the {title} build {name} fits (driver >= {driver}, compute capability {low} to "
                    "{high})").format(gpu=gpu.describe(), title=v.title, name=v.name, driver=v.driver_needed(os_name),
                                      low=v.compute_capability[0], high=v.compute_capability[1])
        else:
            why = _("{gpu}: the {title} build {name} fits (driver >= {driver})").format(
                gpu=gpu.describe(), title=v.title, name=v.name, driver=v.driver_needed(os_name))
        if skipped:
            why += _("; ") + _("; ").join(skipped)
        return _choice(v, why + ".", _unverified(v, platform))
    fitting = [v for v in cuda if all(v.fits(d.capability) for d in gpu.devices)]
    if fitting:
        floor = min((v.driver_needed(os_name) for v in fitting if v.driver_needed(os_name)),
                    key=lambda t: _version(t) or Version("0"), default=None)
        text = _("The NVIDIA driver {driver_version} is too old for every current PyTorch CUDA build: "
                 "update the driver to >= {floor}, or use the CPU. The CPU build of torch is installed; after "
                 "updating the driver, run again (or set --torch-variant {name}).").format(
                     driver_version=gpu.driver_version, floor=floor, name=fitting[-1].name)
        return _choice(cpu, text, [text])
    d = gpu.devices[0]
    text = _("No current PyTorch CUDA build supports {name} (compute capability {compute_capability}): "
             "{skipped}. The CPU build of torch is installed.").format(
                 name=d.name, compute_capability=d.compute_capability, skipped=_("; ").join(skipped))
    return _choice(cpu, text, [text])
