"""Which conda distribution the run installs: Miniconda (Anaconda's) or Miniforge (conda-forge's).

Both are built by conda/constructor, so their installers take the same batch command lines (``-b -p PREFIX``,
NSIS ``/S /D=...``, ``installer -pkg``) and lay out the same ``bin/conda``; what differs is where the installer
and its SHA-256 come from, which channels the new install uses, whether Anaconda's Terms of Service apply, and
the default folder name. Those facts live here, one :class:`Distribution` per name, so the catalog, the mirror
table, the ToS check and the plan ask one place.

Sources: ``/work/shared/research/installer-anchors.md`` §1.9 (conda-forge/miniforge ``Miniforge3/construct.yaml``:
conda-forge only, mamba included, BSD-3 installer; GitHub Releases
``https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-<OS>-<arch>.<ext>`` with a
``<asset>.sha256`` beside each asset) and §1.8 (Anaconda's ToS gate on the defaults channels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.core.platform_info import EXTENSIONS, PlatformInfo
from app.i18n import N_, _

#: The plan's default distribution (the tutorial this product grew from teaches Miniconda).
DEFAULT = "miniconda"


@dataclass(frozen=True)
class Distribution:
    """One conda distribution.

    Attributes:
        name: the plan / flag value (``miniconda``, ``miniforge``).
        title: shown to people (``Miniforge``).
        flavor: the installer file names' first word (``Miniforge3``).
        prefix_name: the default install folder's name under the home folder (``miniforge3``).
        channels: the channels its installer writes into ``<prefix>/.condarc``.
        tos: whether Anaconda's Terms of Service gate those channels (a non-interactive ``conda create`` is
            refused until they are accepted).
        listing: ``"index"``: a directory page lists every installer with its SHA-256 (repo.anaconda.com);
            ``"release"``: a release folder with fixed asset names and a ``<asset>.sha256`` per asset
            (GitHub Releases and the mirrors that copy them); nothing lists them.
        mirror_key: the key of a mirror row in ``resources/mirrors.toml`` that gives this distribution's
            installer folder (``installer`` / ``miniforge``).
        hash_source: where the expected SHA-256 comes from, in words (``--dry-run``, the first page).
        licence: its licence terms, in words.
        size: the usual Linux x86_64 download, in words (an approximate, not a promise).
        summary: one line for the first page: licence / ToS, channels, size.
        extras: what else the base install has (``mamba``).
    """

    name: str
    title: str
    flavor: str
    prefix_name: str
    channels: tuple[str, ...]
    tos: bool
    listing: str
    mirror_key: str
    #: The four texts below are English ids (marked with ``N_``); the properties of the same names without
    #: ``_en`` give them in the language in force.
    hash_source_en: str
    licence_en: str
    size_en: str
    summary_en: str
    extras: tuple[str, ...] = ()
    #: Other installer names of the same family (older or sibling installers with the same channels and
    #: terms): ``Anaconda3`` for Miniconda (defaults channels, the same Terms of Service), ``Mambaforge`` and
    #: ``Miniforge-pypy3`` for Miniforge (conda-forge's earlier names).
    family: tuple[str, ...] = ()
    #: Where people get this distribution's installers, for messages.
    download_page: str = ""

    @property
    def hash_source(self) -> str:
        return _(self.hash_source_en)

    @property
    def licence(self) -> str:
        return _(self.licence_en)

    @property
    def size(self) -> str:
        return _(self.size_en)

    @property
    def summary(self) -> str:
        return _(self.summary_en)

    def default_filename(self, platform: PlatformInfo) -> str | None:
        """The installer name without a version for ``platform`` (``Miniforge3-Linux-x86_64.sh``), its
        first file type (``.sh`` before ``.pkg`` on macOS); ``None`` for Miniconda's ``latest`` names, which
        the index decides."""
        ext = (EXTENSIONS.get(platform.os) or (".sh",))[0]
        if self.listing == "release":
            return f"{self.flavor}-{platform.tag}{ext}"
        return f"{self.flavor}-latest-{platform.tag}{ext}"

    def owns_filename(self, name: str) -> bool:
        """Whether ``name`` is one of this distribution's installer names (``Miniforge3-24.7.1-0-Linux-x86_64.sh``)."""
        return re.match(rf"^{re.escape(self.flavor)}-", name or "") is not None

    def owns_name(self, name: str) -> bool:
        """Whether ``name`` (a file name, or the ``NAME`` in an installer's header) is of this distribution's
        family, any case: ``Miniconda3-latest-Linux-x86_64.sh``, ``Anaconda3-2024.10-1-Windows-x86_64.exe`` and
        ``Miniconda3`` are Miniconda's; ``Mambaforge-Linux-x86_64.sh`` is Miniforge's."""
        text = (name or "").strip().lower()
        return any(text == n.lower() or text.startswith(n.lower() + "-") or text.startswith(n.lower() + "_")
                   for n in (self.flavor, *self.family))


MINICONDA = Distribution(
    name="miniconda", title="Miniconda", flavor="Miniconda3", prefix_name="miniconda3", channels=("defaults",),
    tos=True, listing="index", mirror_key="installer",
    hash_source_en=N_("the SHA256 column of the installer index (repo.anaconda.com), else resources/miniconda_hashes.csv, "
                "else the official index"),
    licence_en=N_("Anaconda's Terms of Service (organisations over 200 people need a paid licence for the defaults "
            "channels)"),
    size_en=N_("about 150 MB"),
    family=("Miniconda2", "Miniconda", "Anaconda3", "Anaconda2"),
    download_page="https://repo.anaconda.com/miniconda/",
    summary_en=N_("Anaconda's defaults channels: Terms of Service to accept, a paid licence for organisations over "
            "200 people; about 150 MB."),
)

MINIFORGE = Distribution(
    name="miniforge", title="Miniforge", flavor="Miniforge3", prefix_name="miniforge3", channels=("conda-forge",),
    tos=False, listing="release", mirror_key="miniforge",
    hash_source_en=N_("the <installer>.sha256 published beside each installer (GitHub Releases of conda-forge/miniforge; "
                "a mirror without it falls back to GitHub's)"),
    licence_en=N_("BSD-3-Clause installer; conda-forge packages under their own open licences; no Terms of Service"),
    size_en=N_("about 90 MB"),
    summary_en=N_("conda-forge channel only, no Terms of Service, free for any organisation (BSD-3); includes mamba; "
            "about 90 MB."),
    extras=("mamba",),
    family=("Miniforge-pypy3", "Mambaforge", "Mambaforge-pypy3", "Miniforge"),
    download_page="https://github.com/conda-forge/miniforge/releases",
)

#: Every distribution by name, the default first.
DISTRIBUTIONS: dict[str, Distribution] = {d.name: d for d in (MINICONDA, MINIFORGE)}


def get(name: str | None) -> Distribution:
    """The distribution called ``name`` (any case; ``None`` or empty: :data:`DEFAULT`).

    Raises:
        KeyError: an unknown name (:func:`problem` gives the sentence for people).
    """
    return DISTRIBUTIONS[(name or DEFAULT).strip().lower()]


def problem(name: object) -> str | None:
    """Why ``name`` is not a distribution (a sentence naming ``--distribution`` and the choices), or ``None``."""
    if isinstance(name, str) and name.strip().lower() in DISTRIBUTIONS:
        return None
    return (_("Unknown distribution {name!r} (--distribution / distribution): use one of {distributions} "
              "(for example --distribution miniforge for conda-forge without Anaconda's Terms of Service).").format(
              name=name, distributions=', '.join(DISTRIBUTIONS)))


#: The header of a conda/constructor ``.sh`` installer names its product: ``# NAME:  Miniconda3``
#: (conda/constructor, ``constructor/header.sh``: ``# NAME:  __NAME__``). Only the first bytes are read.
_HEADER_NAME_RE = re.compile(rb"^#\s*NAME:\s*(\S+)\s*$", re.MULTILINE)
_HEADER_BYTES = 4096


def header_name(path: Path) -> str | None:
    """The product a constructor ``.sh`` installer names in its header (``Miniconda3``), or ``None`` (not a
    ``.sh`` installer, no such line, or the file cannot be read; other checks report those)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER_BYTES)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    m = _HEADER_NAME_RE.search(head)
    return m.group(1).decode("ascii", errors="replace") if m else None


def owner_of(name: str) -> Distribution | None:
    """The distribution whose family ``name`` belongs to (:meth:`Distribution.owns_name`), or ``None``."""
    return next((d for d in DISTRIBUTIONS.values() if d.owns_name(name)), None)


def mismatch(distribution: str | None, filename: str, path: Path | None = None,
             platform: PlatformInfo | None = None) -> tuple[str, str] | None:
    """``(message, fix)`` when an installer belongs to another distribution than the one the run installs, else
    ``None``.

    ``filename`` is the installer's name (``--installer`` / ``--installer-file``); ``path``, for a local file,
    lets the ``.sh`` header's ``NAME`` speak for a renamed file. A Miniconda installer run for Miniforge would
    put Miniconda (Anaconda's defaults channels and Terms of Service) into ``~/miniforge3`` and fail later at
    the env step, and the other way round; so it is refused before anything runs. ``platform`` names the right
    installer in the fix.
    """
    try:
        dist = get(distribution)
    except KeyError:
        return None
    other = owner_of(filename)
    said = filename
    if other is None and path is not None and (product := header_name(path)):
        other, said = owner_of(product), _("{name} (its header says NAME: {product})").format(
            name=filename, product=product)
    if other is None or other.name == dist.name:
        return None
    message = _("{file} is a {other} installer, but this run installs {dist} (--distribution / distribution "
                "{dname}): it would install {other} (channels: {channels}) where {dist} is expected. Nothing was "
                "run.").format(file=said, other=other.title, dist=dist.title, dname=dist.name,
                               channels=", ".join(other.channels))
    example = dist.default_filename(platform) if platform is not None else None
    fix = _("Use a {dist} installer ({example}, from {page}), or run with --distribution {oname} to install "
            "{other} from this file.").format(
        dist=dist.title, example=example or f"{dist.flavor}-...", page=dist.download_page, oname=other.name,
        other=other.title)
    return message, fix
