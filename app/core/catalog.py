"""Step 1: which Miniconda installer to use, and which SHA-256 it must have.

The installer list comes from the mirror's directory page, read by :func:`fetch_index`
and understood by :mod:`app.core.index_page` (:func:`parse_index`, re-exported here).
:func:`choose` picks the newest installer that *runs here*: each installer's minimum glibc / macOS is in
:data:`REQUIREMENTS` (sources there), compared with :class:`~app.core.platform_info.PlatformInfo`'s
``glibc`` / ``macos``; :func:`screen` says why each hidden installer is hidden. Hashes for mirrors come from (in order) the user,
the index row, the pinned table ``resources/miniconda_hashes.csv`` (conda-docs
``miniconda_hashes.rst`` of 2023-07-13, 777 installers) and, for a mirror, the official
index. ``latest`` names are never looked up in the pinned table: they move.

Miniforge (``plan.distribution == "miniforge"``, issue 7) has no index: :func:`resolve_release` takes the fixed
asset name ``Miniforge3-<OS>-<arch>.<ext>`` from the release folder (GitHub Releases
``releases/latest/download/`` or a mirror's copy, :mod:`app.core.mirrors`) and its SHA-256 from the
``<asset>.sha256`` published beside it (``sha256sum`` output, ``HEX  NAME``); a mirror without that file falls
back to GitHub's, as a Miniconda mirror falls back to the pinned table and the official index.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import requests
import urllib3
from packaging.version import InvalidVersion, Version

from app.core import distributions, mirror_probe, mirrors, net, staging
from app.core.errors import CatalogError, Stage, UsageError
from app.core.events import CancelToken, Reporter
from app.core.index_page import SHA256_RE, InstallerEntry, parse_index, parse_installer_name
from app.core.platform_info import EXTENSIONS, PlatformInfo
from app.core.plan import MIRRORS, InstallPlan, local_mirror_path, setting
from app.i18n import _

__all__ = [
    "InstallerChoice", "InstallerEntry", "Requirement", "Screening", "choose", "requirement", "screen", "fetch_index", "parse_index", "parse_installer_name",
    "pinned_sha256", "resolve",
]

#: File name of the pinned hash table in ``resources/`` (header ``filename,size,last_modified,sha256``).
PINNED_CATALOG = "miniconda_hashes.csv"
#: Where the official index is read when a mirror publishes no hashes (module constant so tests can point it home).
OFFICIAL_INDEX_URL = MIRRORS["official"]
#: (connect, read) seconds for that extra look-up; its failure is only logged.
OFFICIAL_LOOKUP_TIMEOUT = (4.0, 8.0)
#: An index page larger than this is not an installer directory.
MAX_INDEX_BYTES = 16 << 20
#: In a local mirror folder, a file with this name (``sha256sum`` output: ``HEX  NAME`` or ``HEX *NAME``
#: per line) gives the installers' SHA-256.
SHA256SUMS = "SHA256SUMS"


# ---- data ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstallerChoice:
    """The installer the run will use.

    Attributes:
        filename: its file name.
        url: where to download it, or ``None`` for a local file.
        local_path: the user's local installer, or ``None``.
        sha256: the expected SHA-256 (lowercase hex) or ``None`` when nothing publishes one.
        size: bytes (exact for a local file, as listed otherwise) or ``None``.
        hash_source: where ``sha256`` came from: ``"user"`` (--sha256), ``"index"`` (the mirror's
            page), ``"pinned"`` (resources/miniconda_hashes.csv), ``"official-index"``
            (repo.anaconda.com, for a mirror without hashes), ``"sha256sums"`` (the ``SHA256SUMS`` beside a
            local installer file, as ``--download-only`` stages it), ``"sha256-file"`` (the ``<asset>.sha256``
            beside a Miniforge installer), ``"official-sha256-file"`` (GitHub's ``.sha256``, for a mirror
            without one) or ``None``.
        entry: the index row, when it came from an index.
        notes: why this installer: the machine's glibc / macOS when it hid newer installers, and one
            line per kind of hidden installer (:meth:`Screening.lines`); shown on the page and by --dry-run.
    """

    filename: str
    url: str | None
    local_path: Path | None
    sha256: str | None
    size: int | None
    hash_source: str | None
    entry: InstallerEntry | None = None
    notes: tuple[str, ...] = ()


# ---- what runs here ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """The oldest C library / OS an installer runs on.

    Attributes:
        os, arches: the installers it applies to (``arches`` empty = every architecture).
        since: the first conda version it applies to (inclusive; ``latest`` always counts as newest);
            ``None`` = every version.
        library: ``"glibc"`` (Linux) or ``"macOS"``.
        minimum: ``"2.28"``.
        source: where the value comes from.
    """

    os: str
    arches: tuple[str, ...]
    since: str | None
    library: str
    minimum: str
    source: str

    def text(self) -> str:
        return f"{self.library} \u2265 {self.minimum}"


#: Each installer's minimum, first matching row wins (newest rows first).
REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("Linux", (), "24.1", "glibc", "2.28",
                "the installer's own check: constructor header.sh of Miniconda3 py313_25.9.1-3 linux-64 has "
                "min_glibc_version=\"2.28\" and stops with \"Installer requires GLIBC >=2.28, but system has 2.17.\"; "
                "public build notes: installers from 24.11 on check it (JuliaPackaging/Yggdrasil Miniconda recipe), "
                "and 'from 24.x on glibc >= 2.28' while 23.10.0-1 / 23.11.0-2 install on CentOS 7 (glibc 2.17); "
                "24.1-24.9 carry no check but are counted as 2.28 so that CentOS 7 gets a release known to work"),
    Requirement("Linux", ("aarch64",), None, "glibc", "2.26",
                "conda-docs miniconda.rst of 2023-07-13: 'The linux-aarch64 Miniconda installer requires glibc >=2.26'"),
    Requirement("Linux", (), None, "glibc", "2.17",
                "CentOS 7 (glibc 2.17) baseline of Anaconda's builds before 24.1; py310_23.11.0-2 and py38_4.12.0 "
                "install there (public build notes)"),
    Requirement("MacOSX", ("arm64",), None, "macOS", "11.0",
                "Apple Silicon starts at macOS 11; osx-arm64 builds target MACOSX_DEPLOYMENT_TARGET 11.0 "
                "(conda-forge pinnings)"),
)


def _v(text: str | None) -> Version:
    try:
        return Version(text) if text else Version("0")
    except InvalidVersion:
        return Version("0")


def requirement(entry: InstallerEntry) -> Requirement | None:
    """The :class:`Requirement` of ``entry`` (first row of :data:`REQUIREMENTS` that matches), or ``None``."""
    if entry.flavor == distributions.MINIFORGE.flavor:
        return None  # the rows are Miniconda's; Miniforge runs from glibc 2.17 (installer-anchors.md 1.9)
    for req in REQUIREMENTS:
        if req.os != entry.os or (req.arches and entry.arch not in req.arches):
            continue
        if req.since is not None and not entry.is_latest and _v(entry.conda_version) < _v(req.since):
            continue
        return req
    return None


def unmet(entry: InstallerEntry, platform: PlatformInfo) -> Requirement | None:
    """The requirement of ``entry`` this machine does not meet, or ``None`` (met, or the machine's
    version is unknown: then nothing is hidden)."""
    req = requirement(entry)
    if req is None:
        return None
    have = platform.glibc if req.library == "glibc" else platform.macos if req.library == "macOS" else None
    if not have or entry.os != platform.os:
        return None
    return req if _v(have) < _v(req.minimum) else None


@dataclass(frozen=True)
class Screening:
    """Which Miniconda3 installers of an index, for this OS, run here (:func:`screen`).

    Attributes:
        runnable: this architecture, and the machine meets the requirement.
        too_old: ``(entry, requirement)``: this architecture, but the machine's glibc / macOS is older.
        other_arch: the same OS, another architecture.
        platform: the machine they were screened for.
    """

    runnable: tuple[InstallerEntry, ...]
    too_old: tuple[tuple[InstallerEntry, Requirement], ...]
    other_arch: tuple[InstallerEntry, ...]
    platform: PlatformInfo

    def lines(self) -> list[str]:
        """One sentence per kind of hidden installer, e.g. ``"Hidden: 24 installers for Linux-x86_64 need
        glibc ≥ 2.28 (this machine has 2.17), among them Miniconda3-latest-Linux-x86_64.sh."``"""
        p = self.platform
        out: list[str] = []
        by_req: dict[Requirement, list[InstallerEntry]] = {}
        for e, req in self.too_old:
            by_req.setdefault(req, []).append(e)
        for req, items in by_req.items():
            have = p.glibc if req.library == "glibc" else p.macos
            newest = max(items, key=lambda e: (e.is_latest, _version_key(e)))
            text = (_("Hidden: {count} for {tag} needs {req} (this machine has {library} {have}), among them "
                      "{filename}.") if len(items) == 1 else
                    _("Hidden: {count} for {tag} need {req} (this machine has {library} {have}), among them "
                      "{filename}."))
            out.append(HiddenNote(text.format(count=_count(len(items)), tag=p.tag, req=req.text(),
                                              library=req.library, have=have, filename=newest.filename)))
        if self.other_arch:
            arches = sorted({e.arch for e in self.other_arch})
            why = _("this machine is {arch}").format(arch=p.arch)
            if p.kernel_arch and p.kernel_arch != p.arch:
                why += (_(": its kernel is {kernel_arch}, but the programs (the userland that runs the "
                          "installer) are {arch}").format(kernel_arch=p.kernel_arch, arch=p.arch))
            out.append(HiddenNote(_("Hidden: {count} for other architectures ({arches}); {why}.").format(
                count=_count(len(self.other_arch)), arches=", ".join(arches), why=why)))
        return out


class HiddenNote(str):
    """A note of :meth:`Screening.lines` about installers that are not offered (the package page shows these apart:
    a type, not the text's first word, which is translated)."""


class _NewerSkipped(str):
    """A note of :func:`explain` saying that newer installers were passed over (shown as a warning; a type, not
    a text test, so that it holds in every language)."""


def _count(n: int) -> str:
    return _("1 installer") if n == 1 else _("{n} installers").format(n=n)


def screen(entries: list[InstallerEntry], platform: PlatformInfo) -> Screening:
    """Sort the Miniconda3 installers for ``platform.os`` (with its file types) into those that run here and
    those hidden, with why (:class:`Screening`). Installers for other OSes and Miniconda2 are left out."""
    exts = [x.lstrip(".") for x in EXTENSIONS.get(platform.os, ())]
    runnable, too_old, other = [], [], []
    for e in entries:
        if e.flavor not in ("Miniconda3", distributions.MINIFORGE.flavor) or e.os != platform.os \
                or (exts and e.ext not in exts):
            continue
        if e.arch != platform.arch:
            other.append(e)
        elif (req := unmet(e, platform)) is not None:
            too_old.append((e, req))
        else:
            runnable.append(e)
    return Screening(tuple(runnable), tuple(too_old), tuple(other), platform)


# ---- fetching and choosing -----------------------------------------------------------------

def _charset(resp: requests.Response) -> str:
    m = re.search(r"charset=[\"']?([\w.:-]+)", resp.headers.get("Content-Type", ""), re.IGNORECASE)
    if m:
        import codecs

        try:
            return codecs.lookup(m.group(1)).name
        except LookupError:
            pass
    return "utf-8"


def _unreachable(url: str, exc: BaseException) -> CatalogError:
    if net.is_proxy_auth(exc):
        return CatalogError(_("Could not read the installer index at {url}: {describe_error}.").format(
                              url=url, describe_error=net.describe_error(exc)),
                            fix=net.PROXY_AUTH_FIX, detail=str(exc))
    return CatalogError(
        _("Could not read the installer index at {url}: {describe_error}.").format(
          url=url, describe_error=net.describe_error(exc)),
        fix=_("Check the network connection. Behind a proxy, set HTTPS_PROXY and HTTP_PROXY (for example "
              "http://127.0.0.1:7890) before starting the wizard. Or choose another mirror ({mirrors}, or "
              "the URL of a Miniconda directory; --mirror in silent mode).").format(mirrors=', '.join(MIRRORS)),
        detail=str(exc),
    )


def fetch_index(url: str, session: requests.Session, cancel: CancelToken, *,
                timeout: float | tuple[float, float] | None = None) -> list[InstallerEntry]:
    """Download and parse the index page at ``url``.

    Args:
        url: the Miniconda directory URL (ending in ``/``).
        session: from :func:`app.core.net.make_session`.
        cancel: checked while waiting and between body chunks.
        timeout: ``(connect, read)`` seconds; the session default (10, 30) when ``None``.

    Returns:
        The installers listed (at least one).

    A ``file:///`` URL is a local mirror folder: see :func:`list_folder`.

    Raises:
        CatalogError: unreachable (names --mirror and the proxy variables), HTTP 404 or another
            error status, or a page that lists no installer.
        Cancelled: on cancel.
    """
    if url.lower().startswith("file:"):
        return list_folder(url)
    try:
        resp = net.get(session, url, cancel, timeout=timeout, headers={"Accept": "text/html,*/*;q=0.8"})
    except requests.RequestException as exc:
        raise _unreachable(url, exc) from exc
    with resp:
        if resp.status_code == 404:
            raise CatalogError(
                _("The installer index {url} does not exist (HTTP 404).").format(url=url),
                fix=_("Check the mirror URL: it must be the directory that lists the Miniconda installers "
                    "(for example https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/)."),
            )
        if resp.status_code == 407:
            raise CatalogError(_("Could not read the installer index at {url}: {proxy_auth_reason}.").format(
                                 url=url, proxy_auth_reason=net.PROXY_AUTH_REASON),
                               fix=net.PROXY_AUTH_FIX)
        if resp.status_code >= 400:
            raise CatalogError(
                _("The installer index {url} answered HTTP {status_code} {reason}").format(
                  url=url, status_code=resp.status_code, reason=resp.reason or '').rstrip() + ".",
                fix=_("The mirror may be down or rate-limiting: try again later, or choose another mirror."),
            )
        body = bytearray()
        try:
            for chunk in net.iter_body(resp, cancel, 256 << 10):
                body += chunk
                if len(body) > MAX_INDEX_BYTES:
                    raise CatalogError(
                        _("The page at {url} is larger than {max_index_bytes} MiB; it is not an installer "
                          "index.").format(url=url, max_index_bytes=MAX_INDEX_BYTES >> 20),
                        fix=_("Check the mirror URL: it must be the directory that lists the Miniconda installers."),
                    )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unreachable(url, exc) from exc
        base = resp.url or url
        text = bytes(body).decode(_charset(resp), errors="replace")
    entries = parse_index(text, base)
    if not entries:
        raise CatalogError(
            _("The page at {url} lists no Miniconda installers.").format(url=url),
            fix=_("Check the mirror URL: it must be the directory that lists the Miniconda installers "
                "(for example https://repo.anaconda.com/miniconda/), not a conda channel or a web page."),
        )
    return entries


def _read_sha256sums(folder: Path) -> dict[str, str]:
    """The ``SHA256SUMS`` entries of a local mirror folder (:func:`app.core.staging.load_sums`); ``{}`` when none.

    Raises:
        HashMismatchError: the file is there but cannot be read (exit 5).
    """
    return staging.load_sums(Path(folder) / SHA256SUMS) or {}


def list_folder(url: str) -> list[InstallerEntry]:
    """The installers in a local mirror folder (``file:///srv/miniconda/``), for offline fleets.

    Every file whose name is an installer name (:func:`parse_installer_name`, e.g.
    ``Miniconda3-latest-Linux-x86_64.sh``) is an entry with its exact size and modification time (UTC)
    and a ``file:///`` URL; its SHA-256 comes from a ``SHA256SUMS`` file in the folder when it lists
    it (otherwise :func:`resolve` looks further: the pinned table, the official index). "Downloading"
    one is a copy, verified like a download (:func:`app.core.download.fetch_installer`).

    Raises:
        CatalogError: the folder cannot be read, or holds no installer.
    """
    folder = local_mirror_path(url) or Path(url)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise CatalogError(_("Cannot read the mirror folder {folder}: {strerror}.").format(
                             folder=folder, strerror=exc.strerror or exc),
                           fix=_("Check the mirror folder (--mirror in silent mode): it must hold the Miniconda "
                               "installers and be readable for you.")) from None
    sums = _read_sha256sums(folder)
    entries = []
    for name in names:
        parts = parse_installer_name(name)
        path = folder / name
        if parts is None or not path.is_file():
            continue
        st = path.stat()
        mtime = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        entries.append(InstallerEntry(filename=name, url=path.absolute().as_uri(), size=st.st_size,
                                      last_modified=mtime, sha256=sums.get(name), **parts))  # type: ignore[arg-type]
    if not entries:
        raise CatalogError(
            _("The mirror folder {folder} holds no Miniconda installers.").format(folder=folder),
            fix=_("Put the installers there under their published names (for example "
                "Miniconda3-latest-Linux-x86_64.sh, ideally with a SHA256SUMS file), or use one installer as a "
                "local file (--installer-file in silent mode)."),
        )
    return entries


def _version_key(e: InstallerEntry) -> tuple[Version, Version, int]:
    def v(text: str | None) -> Version:
        try:
            return Version(text) if text else Version("0")
        except InvalidVersion:
            return Version("0")

    py = None
    if e.python_tag:
        digits = e.python_tag[2:]
        py = f"{digits[0]}.{digits[1:] or '0'}"
    return v(e.conda_version), v(py), int(e.build) if e.build and e.build.isdigit() else -1


def choose(entries: list[InstallerEntry], platform: PlatformInfo, name: str | None = None) -> InstallerEntry:
    """Pick the installer to use.

    Args:
        entries: from :func:`fetch_index` / :func:`parse_index`.
        platform: the target OS and architecture, with the machine's glibc / macOS version.
        name: an exact installer file name; when given it wins over everything else.

    Returns:
        ``name`` if given; else the ``Miniconda3-latest`` installer for ``platform`` (``.sh``
        preferred over ``.pkg`` on macOS) when it runs here; else the newest versioned Miniconda3 one
        that runs here (conda version, then Python version, then build; compared with
        :mod:`packaging.version`). "Runs here": :func:`unmet` finds no requirement the machine misses.

    Raises:
        CatalogError: ``name`` is not listed, or is for this platform but needs a newer glibc / macOS;
            nothing is listed for ``platform`` (the message lists the platforms that are); nothing
            listed for ``platform`` runs on this machine's glibc / macOS.
    """
    if name:
        found = next((e for e in entries if e.filename == name), None) or \
            next((e for e in entries if e.filename.lower() == name.lower()), None)
        if found is None:
            raise CatalogError(
                _("The installer {name} is not listed in the index.{suggestions}").format(
                  name=name, suggestions=_suggestions(entries, platform, name)),
                fix=_("Choose an installer the index lists (the name given with --installer in silent mode must "
                    "match exactly), or leave the name out to get the latest installer."),
            )
        if found.arch == platform.arch and (req := unmet(found, platform)) is not None:
            have = platform.glibc if req.library == "glibc" else platform.macos
            newest = _newest_runnable(screen(entries, platform).runnable)
            raise CatalogError(
                _("The installer {filename} needs {req}, but this machine has {library} {have}; it would "
                  "stop at once (\"Installer requires {library2} >={minimum}, but system has {have}.\").").format(
                  filename=found.filename, req=req.text(), library=req.library, have=have,
                  library2=req.library.upper() if req.library == 'glibc' else req.library, minimum=req.minimum),
                fix=(_("Choose an installer that runs here, for example {filename} (--installer in silent "
                       "mode), or leave the name out to get the newest one that runs.").format(
                       filename=newest.filename) if newest else
                     _("Update the system to {req}, or use an installer you have (--installer-file).").format(
                       req=req.text())),
            )
        return found
    exts = [x.lstrip(".") for x in EXTENSIONS.get(platform.os, ())]
    sc = screen(entries, platform)
    mine = [*sc.runnable, *(e for e, _r in sc.too_old)]
    if not mine:
        available = sorted({e.platform_tag for e in entries if e.flavor == "Miniconda3"})
        raise CatalogError(
            _("The index has no Miniconda3 installer for {tag}. It has installers for: {available}.").format(
              tag=platform.tag, available=', '.join(available) or _('no platform')),
            fix=_("Choose another mirror, or download an installer yourself and use it as a local file "
                "(--installer-file in silent mode)."),
        )
    chosen = _newest_runnable(sc.runnable, exts)
    if chosen is None:
        oldest = min(sc.too_old, key=lambda t: _v(t[1].minimum))[1]
        have = platform.glibc if oldest.library == "glibc" else platform.macos
        raise CatalogError(
            _("No Miniconda3 installer for {tag} in the index runs on this machine: the oldest requirement "
              "among them is {oldest}, and this machine has {library} {have}.").format(
              tag=platform.tag, oldest=oldest.text(), library=oldest.library, have=have),
            fix=(_("Update the operating system to one with {oldest}, or use an installer you have that runs "
                   "here (--installer-file in silent mode).").format(oldest=oldest.text()) + (
                     _(" Miniforge (conda-forge) installers need only glibc 2.17.") if oldest.library == "glibc" else "")),
        )
    return chosen


def _newest_runnable(runnable: tuple[InstallerEntry, ...] | list[InstallerEntry],
                     exts: list[str] | None = None) -> InstallerEntry | None:
    """The ``latest`` installer if it is among ``runnable`` (first in ``exts`` order), else the newest
    versioned one; ``None`` for none."""
    if not runnable:
        return None
    exts = exts or []

    def ext_rank(e: InstallerEntry) -> int:
        return exts.index(e.ext) if e.ext in exts else len(exts)

    latest = [e for e in runnable if e.is_latest]
    if latest:
        return min(latest, key=ext_rank)
    return max(runnable, key=lambda e: (_version_key(e), -ext_rank(e)))


def _suggestions(entries: list[InstallerEntry], platform: PlatformInfo, name: str) -> str:
    """`` Closest names: A, B. Newest for Linux-x86_64: C, D.`` for an installer name the index lacks.

    Closest: :func:`difflib.get_close_matches` over the whole index (a typo may be in the platform
    part too). Newest: the ``latest`` installer, then the versioned ones for ``platform`` newest first
    (conda version, Python version, build; :mod:`packaging.version` order, as in :func:`choose`).
    """
    names = [e.filename for e in entries]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    mine = [e for e in entries if e.os == platform.os and e.arch == platform.arch]
    newest = sorted(mine, key=lambda e: (e.is_latest, _version_key(e)), reverse=True)
    newest_names = [e.filename for e in newest if e.filename not in close][:4]
    text = ""
    if close:
        text += _(" Closest names: ") + ", ".join(close) + "."
    if newest_names:
        text += _(" Newest for {tag}: ").format(tag=platform.tag) + ", ".join(newest_names) + "."
    return text


# ---- pinned hashes -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _pinned_table(path: str) -> dict[str, str]:
    table: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("filename") or "").strip()
            sha = (row.get("sha256") or "").strip().lower()
            if name and SHA256_RE.match(sha):
                table[name] = sha
    return table


def pinned_sha256(filename: str, table: Path | None = None) -> str | None:
    """The SHA-256 of ``filename`` in the pinned table (conda-docs, 2023-07-13), or ``None``.

    ``latest`` names are never answered: they point at a different file after each release.

    Args:
        filename: an installer file name.
        table: another CSV (``filename,size,last_modified,sha256``); default ``resources/miniconda_hashes.csv``.
    """
    parts = parse_installer_name(filename)
    if parts is None or parts["version"] == "latest":
        return None
    if table is None:
        from app.resources import resource

        try:
            table = resource(PINNED_CATALOG)
        except FileNotFoundError:
            return None
    try:
        return _pinned_table(str(table)).get(filename)
    except OSError:
        return None


# ---- step 1 --------------------------------------------------------------------------------

def _official_sha256(filename: str, session: requests.Session, cancel: CancelToken, reporter: Reporter,
                     official_url: str) -> str | None:
    reporter.log(Stage.CATALOG, _("The mirror publishes no SHA-256; looking {filename} up in the official "
                                  "index {official_url}.").format(filename=filename, official_url=official_url))
    try:
        entries = fetch_index(official_url, session, cancel, timeout=OFFICIAL_LOOKUP_TIMEOUT)
    except CatalogError as exc:
        reporter.log(Stage.CATALOG, _("Could not read the official index: {message}").format(message=exc.message), "warning")
        return None
    for e in entries:
        if e.filename == filename and e.sha256:
            return e.sha256
    reporter.log(Stage.CATALOG, _("The official index has no SHA-256 for {filename}.").format(filename=filename), "warning")
    return None


def check_distribution(plan: InstallPlan) -> None:
    """Refuse an installer (``--installer NAME`` or ``--installer-file``) of another distribution than the plan's
    (:func:`app.core.distributions.mismatch`: by its name, and for a local ``.sh`` by the ``NAME`` in its header).

    Raises:
        UsageError: exit 2, before anything is read from the network or run.
    """
    if plan.installer_file is not None:
        path = Path(plan.installer_file).expanduser()
        found = distributions.mismatch(getattr(plan, "distribution", None), path.name, path, plan.platform)
    elif plan.installer and plan.installer.strip():
        found = distributions.mismatch(getattr(plan, "distribution", None), plan.installer.strip(), None,
                                       plan.platform)
    else:
        found = None
    if found is not None:
        raise UsageError(found[0], fix=found[1])


def resolve(plan: InstallPlan, session: requests.Session, reporter: Reporter, cancel: CancelToken, *,
            official_url: str | None = None, entries: list[InstallerEntry] | None = None) -> InstallerChoice:
    """Decide the installer and its expected SHA-256 (step 1 of the wizard).

    ``plan.mirror == "auto"``: the mirrors are probed first (:func:`app.core.mirror_probe.resolve_auto`) and
    ``plan.mirror`` becomes the fastest one's name, for this and every later step.
    Local file (``plan.installer_file``): used in place; hash from ``plan.sha256``, else a ``SHA256SUMS``
    beside it that lists it (:mod:`app.core.staging`), else the pinned table.
    Otherwise the index at ``plan.mirror_url`` is read and :func:`choose` picks the installer;
    the hash comes from, in order: ``plan.sha256`` (a warning is logged when the index disagrees),
    the index row, the pinned table, and for a mirror other than the official one the official
    index (read with a short timeout; failure is only logged). No source gives ``sha256=None``;
    :mod:`app.core.download` then refuses unless ``plan.allow_unverified``.

    Args:
        official_url: the official index for the last look-up (default :data:`OFFICIAL_INDEX_URL`;
            tests pass a local server).
        entries: the rows of the index at ``plan.mirror_url``, already read with :func:`fetch_index`
            (the wizard's installer page lists them first); used instead of reading the index again.
            ``None`` (the default) reads it. Not used for a local file.

    Raises:
        CatalogError: see :func:`fetch_index` and :func:`choose`; a local file that cannot be read.
        UsageError: an installer of another distribution (:func:`check_distribution`); a ``--sha256`` that is not
            the published one.
        HashMismatchError: a ``SHA256SUMS`` beside a local file that cannot be read or does not list it
            (:func:`app.core.staging.staged_sha256`).
        Cancelled: on cancel.
    """
    cancel.raise_if_cancelled()
    dist = _distribution(plan)
    check_distribution(plan)
    if plan.installer_file is None and mirror_probe.is_auto(plan.mirror):
        rows = None if dist.name == "miniconda" else {  # issue 7: only the mirrors that carry this distribution
            n: (m.title, f) for n, m in mirrors.load().items() if (f := m.folder(dist.name))}
        mirror_probe.resolve_auto(plan, reporter, cancel, mirror_urls=rows)  # plan.mirror: the fastest mirror's name
    if plan.installer_file is None and dist.listing == "release":
        return resolve_release(plan, session, reporter, cancel)
    user_sha = plan.sha256.strip().lower() if plan.sha256 else None
    if plan.installer_file is not None:
        path = Path(plan.installer_file).expanduser()
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CatalogError(_("Cannot read the installer file {path}: {strerror}.").format(
                                 path=path, strerror=exc.strerror or exc),
                               fix=_("Check that the local installer file you chose exists and is readable "
                                   "(--installer-file in silent mode).")) from exc
        sha, source = (user_sha, "user") if user_sha else (pinned_sha256(path.name), "pinned")
        if not user_sha and (listed := staging.staged_sha256(path)):  # refuses an unreadable SHA256SUMS (exit 5)
            sha, source = listed, "sha256sums"  # a staged share (--download-only): verified against it (issue 5)
        elif not user_sha and sha is None and (own := _read_sha256_file(path.with_name(path.name + ".sha256"),
                                                                          path.name)):
            sha, source = own, "sha256-file"  # a Miniforge installer saved with its published .sha256 (issue 7)
        if sha is None:
            source = None
        choice = InstallerChoice(path.name, None, path, sha, size, source, None)
        reporter.log(Stage.CATALOG, _("Using the local installer {path}.").format(path=path))
        _report_choice(choice, reporter)
        return choice

    url = plan.mirror_url
    if entries is None:
        reporter.log(Stage.CATALOG, _("Reading the installer index {url}").format(url=url))
        entries = fetch_index(url, session, cancel)
    else:
        reporter.log(Stage.CATALOG, _("Using the installer index {url} read before.").format(url=url))
    reporter.log(Stage.CATALOG, _("The index lists {entries} installers.").format(entries=len(entries)))
    reporter.log(Stage.CATALOG, _("This machine: {platform}.").format(platform=plan.platform.describe()))
    entry = choose(entries, plan.platform, plan.installer)
    if entry.is_latest and not plan.installer:
        reporter.log(Stage.CATALOG, _("Latest installer for {tag}: {filename}.").format(
                                      tag=plan.platform.tag, filename=entry.filename))
    notes = explain(entries, plan.platform, entry, named=bool(plan.installer))
    for i, note in enumerate(notes):
        # the first note says why a newer installer was passed over: worth a warning
        skipped_newer = i == 0 and not plan.installer and not entry.is_latest and isinstance(note, _NewerSkipped)
        reporter.log(Stage.CATALOG, note, "warning" if skipped_newer else "info")

    sha: str | None
    source: str | None
    if user_sha:
        sha, source = user_sha, "user"
        known, where = entry.sha256, _("the index publishes")
        if not known and (pinned := pinned_sha256(entry.filename)) is not None:
            known, where = pinned, _("the pinned hash table (resources/miniconda_hashes.csv) has")
        if known and known != user_sha:
            raise UsageError(
                _("The SHA-256 given as {setting}, {user_sha}, is not the one {where} for {filename} "
                  "({known}). Nothing was downloaded.").format(
                  setting=setting('sha256'), user_sha=user_sha, where=where, filename=entry.filename, known=known),
                fix=_("Check which installer and hash you meant: copy the SHA-256 published next to this installer, "
                    "choose the installer that hash belongs to (--installer NAME in silent mode), or give no "
                    "expected SHA-256 to use the published one (leave out --sha256)."),
            )
    elif entry.sha256:
        sha, source = entry.sha256, "index"
    elif (pinned := pinned_sha256(entry.filename)) is not None:
        sha, source = pinned, "pinned"
    else:
        sha, source = None, None
        official = official_url if official_url is not None else OFFICIAL_INDEX_URL
        if not plan.mirror_is_official and official and official.rstrip("/") != url.rstrip("/"):
            sha = _official_sha256(entry.filename, session, cancel, reporter, official)
            source = "official-index" if sha else None
    choice = InstallerChoice(entry.filename, entry.url, None, sha, entry.size, source, entry, tuple(notes))
    _report_choice(choice, reporter)
    return choice


def explain(entries: list[InstallerEntry], platform: PlatformInfo, chosen: InstallerEntry, *,
            named: bool = False) -> list[str]:
    """Why ``chosen`` and not another: sentences for the log, the package page and ``--dry-run``.

    First, when newer installers for this platform need a newer glibc / macOS than this machine has:
    ``"The newest installers need glibc ≥ 2.28 and this machine has glibc 2.17; chosen: the newest that runs
    here, X (needs glibc ≥ 2.17)."`` (with ``named`` and another file than :func:`choose` picks: the user's pick,
    with what it needs). Then
    :meth:`Screening.lines` (hidden installers, grouped by reason). Empty when nothing is hidden.
    """
    sc = screen(entries, platform)
    out: list[str] = []
    newer = [(e, r) for e, r in sc.too_old if (e.is_latest, _version_key(e)) > (chosen.is_latest, _version_key(chosen))]
    if named and newer:  # a name the wizard preselected (the page passes the row it picked) is explained too
        try:
            named = choose(entries, platform).filename != chosen.filename
        except CatalogError:
            pass
    if newer and not named:
        req = max((r for _e, r in newer), key=lambda r: _v(r.minimum))
        have = platform.glibc if req.library == "glibc" else platform.macos
        mine = requirement(chosen)
        needs = _(" (needs {mine})").format(mine=mine.text()) if mine else ""
        out.append(_NewerSkipped(_("The newest installers for {tag} need {req} and this machine has {library} {have}; "
                     "chosen: the newest that runs here, {filename}{needs}.").format(
                     tag=platform.tag, req=req.text(), library=req.library, have=have, filename=chosen.filename,
                     needs=needs)))
    elif (mine := requirement(chosen)) is not None and (platform.glibc or platform.macos):
        have = platform.glibc if mine.library == "glibc" else platform.macos
        if have and chosen.os == platform.os:
            out.append(_("{filename} needs {mine}; this machine has {library} {have}.").format(
                         filename=chosen.filename, mine=mine.text(), library=mine.library, have=have))
    out.extend(sc.lines())
    return out


def _report_choice(choice: InstallerChoice, reporter: Reporter) -> None:
    reporter.info(Stage.CATALOG, "installer", choice.filename)
    if choice.url:
        reporter.info(Stage.CATALOG, "url", choice.url)
    if choice.size is not None:
        reporter.info(Stage.CATALOG, "size", choice.size)
    reporter.info(Stage.CATALOG, "sha256", choice.sha256)
    reporter.info(Stage.CATALOG, "hash_source", choice.hash_source)
    if choice.sha256:
        where = {"user": _("given by you"), "index": _("published by the index"), "pinned": _("from the pinned hash table"),
                 "official-index": _("published by the official index"),
                 "sha256sums": _("listed in the SHA256SUMS beside it"),
                 "sha256-file": _("the .sha256 file published beside it"),
                 "official-sha256-file": _("the .sha256 file published on GitHub Releases")}.get(choice.hash_source or "", "")
        reporter.log(Stage.CATALOG, _("Expected SHA-256 ({where}): {sha256}").format(
                                      where=where, sha256=choice.sha256))
    else:
        reporter.log(Stage.CATALOG, _("No SHA-256 is published for {filename}.").format(filename=choice.filename), "warning")


# ---- Miniforge: a release folder with a .sha256 per asset (issue 7) ----------------------------

#: A ``.sha256`` asset larger than this is not one (it holds one line: ``HEX  NAME``).
MAX_SHA256_FILE_BYTES = 4096


def _distribution(plan: InstallPlan) -> distributions.Distribution:
    try:
        return distributions.get(getattr(plan, "distribution", None))
    except KeyError:
        return distributions.MINICONDA


def parse_sha256_file(text: str, filename: str | None = None) -> str | None:
    """The SHA-256 (lowercase hex) in a published ``<asset>.sha256``, or ``None``.

    Accepts ``sha256sum`` output (``HEX  NAME`` or ``HEX *NAME``, conda-forge/miniforge's build writes it) and a
    bare ``HEX``. A line naming another file than ``filename`` is not taken.
    """
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9a-fA-F]{64})(?:\s+\*?(.+?))?\s*$", line)
        if not m:
            continue
        named = m.group(2)
        if filename and named and Path(named.replace("\\", "/")).name != filename:
            continue
        return m.group(1).lower()
    return None


def _read_sha256_file(path: Path, filename: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SHA256_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_SHA256_FILE_BYTES:
        return None
    return parse_sha256_file(data.decode("utf-8", errors="replace"), filename)


def _join(folder: str, filename: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415

    return (folder if folder.endswith("/") else folder + "/") + quote(filename)


def fetch_sha256_file(folder: str, filename: str, session: requests.Session, cancel: CancelToken, *,
                      timeout: float | tuple[float, float] | None = OFFICIAL_LOOKUP_TIMEOUT) -> tuple[str | None, str]:
    """Read ``<folder><filename>.sha256`` (http(s) or a ``file:///`` folder).

    Returns:
        ``(sha256, "")`` when it holds one for ``filename``; ``(None, why)`` otherwise (``"HTTP 404"``,
        ``"no such file"``, the network error), for the log.

    Raises:
        Cancelled: on cancel.
    """
    url = _join(folder, filename + ".sha256")
    if (local := local_mirror_path(folder)) is not None and folder.lower().startswith("file:"):
        path = local / (filename + ".sha256")
        if not path.is_file():
            return None, _("no such file")
        sha = _read_sha256_file(path, filename)
        return (sha, "") if sha else (None, _("no SHA-256 for this file in it"))
    try:
        resp = net.get(session, url, cancel, timeout=timeout)
    except requests.RequestException as exc:
        return None, net.describe_error(exc)
    with resp:
        if resp.status_code != 200:
            return None, f"HTTP {resp.status_code}"
        body = bytearray()
        try:
            for chunk in net.iter_body(resp, cancel, 4096):
                body += chunk
                if len(body) > MAX_SHA256_FILE_BYTES:
                    return None, _("larger than {max_sha256_file_bytes} bytes: not a .sha256 file").format(
                                   max_sha256_file_bytes=MAX_SHA256_FILE_BYTES)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            return None, net.describe_error(exc)
    sha = parse_sha256_file(bytes(body).decode("utf-8", errors="replace"), filename)
    return (sha, "") if sha else (None, _("no SHA-256 for this file in it"))


def resolve_release(plan: InstallPlan, session: requests.Session, reporter: Reporter, cancel: CancelToken, *,
                    official_folder: str | None = None) -> InstallerChoice:
    """The installer and its SHA-256 for a distribution published as a release folder (Miniforge).

    The file is ``plan.installer`` or ``<flavor>-<OS>-<arch>.<ext>`` (``Miniforge3-Linux-x86_64.sh``) in
    ``plan.mirror_url``; its hash comes from, in order: ``plan.sha256`` (refused when the published ``.sha256``
    disagrees), the ``.sha256`` beside it, and for a mirror other than GitHub the ``.sha256`` on GitHub
    (``official_folder``, default the ``official`` row's ``miniforge`` folder of the mirror table). No hash gives
    ``sha256=None``: :mod:`app.core.download` then refuses unless ``plan.allow_unverified``.

    Raises:
        CatalogError: a local mirror folder without the installer.
        UsageError: ``plan.sha256`` is not the published hash.
        Cancelled: on cancel.
    """
    dist = _distribution(plan)
    folder = plan.mirror_url
    filename = plan.installer.strip() if plan.installer and plan.installer.strip() else \
        dist.default_filename(plan.platform) or ""
    size = None
    local = local_mirror_path(folder) if folder.lower().startswith("file:") else None
    if local is not None:
        path = local / filename
        if not path.is_file():
            present = sorted(n for n in _listdir(local) if dist.owns_filename(n) and not n.endswith(".sha256"))
            raise CatalogError(
                _("The mirror folder {local} has no {filename}.").format(local=local, filename=filename)
                + (_(" It has: {present}.").format(present=', '.join(present[:6])) if present else _(" It has no {title} installers.").format(
                                                                           title=dist.title)),
                fix=_("Put {filename} there with its {filename}.sha256 (as GitHub Releases of "
                      "conda-forge/miniforge publish them), or use one installer as a local file "
                      "(--installer-file in silent mode).").format(filename=filename))
        size = path.stat().st_size
        url = path.absolute().as_uri()
    else:
        url = _join(folder, filename)
    reporter.log(Stage.CATALOG, _("{title}: {filename} from the release folder {folder}").format(
                                  title=dist.title, filename=filename, folder=folder))
    reporter.log(Stage.CATALOG, _("This machine: {platform}.").format(platform=plan.platform.describe()))
    user_sha = plan.sha256.strip().lower() if plan.sha256 else None
    official = official_folder
    if official is None:
        row = mirrors.find("official")
        official = row.folder(dist.name) if row is not None else None
    is_official = bool(official) and folder.rstrip("/") == (official or "").rstrip("/")

    published, why = fetch_sha256_file(folder, filename, session, cancel)
    source: str | None = "sha256-file" if published else None
    if published is None:
        reporter.log(Stage.CATALOG, _("No {filename}.sha256 in {folder} ({why}).").format(
                                      filename=filename, folder=folder, why=why),
                     "info" if user_sha else "warning")
        if official and not is_official:
            reporter.log(Stage.CATALOG, _("The mirror publishes no SHA-256; reading {filename}.sha256 from "
                                          "{official}.").format(filename=filename, official=official))
            published, why = fetch_sha256_file(official, filename, session, cancel)
            source = "official-sha256-file" if published else None
            if published is None:
                reporter.log(Stage.CATALOG, _("No {filename}.sha256 at {official} either ({why}).").format(
                                              filename=filename, official=official, why=why), "warning")
    if user_sha:
        if published and published != user_sha:
            raise UsageError(
                _("The SHA-256 given as {setting}, {user_sha}, is not the one published in {filename}.sha256 "
                  "({published}). Nothing was downloaded.").format(
                  setting=setting('sha256'), user_sha=user_sha, filename=filename, published=published),
                fix=_("Check which installer and hash you meant: copy the SHA-256 from the .sha256 file published next "
                    "to this installer, or give no expected SHA-256 to use the published one (leave out --sha256)."))
        sha, source = user_sha, "user"
    else:
        sha = published
    choice = InstallerChoice(filename, url, None, sha, size, source, None,
                             (f"{dist.title}: {dist.summary}",))
    _report_choice(choice, reporter)
    return choice


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def release_entries(plan: InstallPlan, session: requests.Session, cancel: CancelToken) -> list[InstallerEntry]:
    """The one row the wizard's installer list shows for a release-folder distribution (Miniforge): its asset for
    ``plan.platform`` in ``plan.mirror_url``, with the SHA-256 of the published ``.sha256`` (the mirror's, else
    GitHub's) or ``None``. Nothing lists a release folder, so no other rows exist.

    Raises:
        Cancelled: on cancel.
    """
    dist = _distribution(plan)
    filename = dist.default_filename(plan.platform) or ""
    folder = plan.mirror_url
    sha, _why = fetch_sha256_file(folder, filename, session, cancel)
    row = mirrors.find("official")
    official = row.folder(dist.name) if row is not None else None
    if sha is None and official and official.rstrip("/") != folder.rstrip("/"):
        sha, _why = fetch_sha256_file(official, filename, session, cancel)
    stem, _sep, ext = filename.rpartition(".")
    return [InstallerEntry(filename=filename, url=_join(folder, filename), size=None, last_modified=None, sha256=sha,
                           flavor=dist.flavor, version="latest", python_tag=None, conda_version=None, build=None,
                           os=plan.platform.os, arch=plan.platform.arch, ext=ext)]
