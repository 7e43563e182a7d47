"""Step 1: which Miniconda installer to use, and which SHA-256 it must have.

The installer list comes from the mirror's directory page, read by :func:`fetch_index`
and understood by :mod:`app.core.index_page` (:func:`parse_index`, re-exported here).
:func:`choose` picks the installer. Hashes for mirrors come from (in order) the user,
the index row, the pinned table ``resources/miniconda_hashes.csv`` (conda-docs
``miniconda_hashes.rst`` of 2023-07-13, 777 installers) and, for a mirror, the official
index. ``latest`` names are never looked up in the pinned table: they move.
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

from app.core import net
from app.core.errors import CatalogError, Stage, UsageError
from app.core.events import CancelToken, Reporter
from app.core.index_page import SHA256_RE, InstallerEntry, parse_index, parse_installer_name
from app.core.platform_info import EXTENSIONS, PlatformInfo
from app.core.plan import MIRRORS, InstallPlan, local_mirror_path, setting

__all__ = [
    "InstallerChoice", "InstallerEntry", "choose", "fetch_index", "parse_index", "parse_installer_name",
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
            local installer file, as ``--download-only`` stages it) or ``None``.
        entry: the index row, when it came from an index.
    """

    filename: str
    url: str | None
    local_path: Path | None
    sha256: str | None
    size: int | None
    hash_source: str | None
    entry: InstallerEntry | None = None


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
        return CatalogError(f"Could not read the installer index at {url}: {net.describe_error(exc)}.",
                            fix=net.PROXY_AUTH_FIX, detail=str(exc))
    return CatalogError(
        f"Could not read the installer index at {url}: {net.describe_error(exc)}.",
        fix="Check the network connection. Behind a proxy, set HTTPS_PROXY and HTTP_PROXY "
            "(for example http://127.0.0.1:7890) before starting the wizard. Or choose another mirror "
            f"({', '.join(MIRRORS)}, or the URL of a Miniconda directory; --mirror in silent mode).",
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
                f"The installer index {url} does not exist (HTTP 404).",
                fix="Check the mirror URL: it must be the directory that lists the Miniconda installers "
                    "(for example https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/).",
            )
        if resp.status_code == 407:
            raise CatalogError(f"Could not read the installer index at {url}: {net.PROXY_AUTH_REASON}.",
                               fix=net.PROXY_AUTH_FIX)
        if resp.status_code >= 400:
            raise CatalogError(
                f"The installer index {url} answered HTTP {resp.status_code} {resp.reason or ''}".rstrip() + ".",
                fix="The mirror may be down or rate-limiting: try again later, or choose another mirror.",
            )
        body = bytearray()
        try:
            for chunk in net.iter_body(resp, cancel, 256 << 10):
                body += chunk
                if len(body) > MAX_INDEX_BYTES:
                    raise CatalogError(
                        f"The page at {url} is larger than {MAX_INDEX_BYTES >> 20} MiB; it is not an installer index.",
                        fix="Check the mirror URL: it must be the directory that lists the Miniconda installers.",
                    )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unreachable(url, exc) from exc
        base = resp.url or url
        text = bytes(body).decode(_charset(resp), errors="replace")
    entries = parse_index(text, base)
    if not entries:
        raise CatalogError(
            f"The page at {url} lists no Miniconda installers.",
            fix="Check the mirror URL: it must be the directory that lists the Miniconda installers "
                "(for example https://repo.anaconda.com/miniconda/), not a conda channel or a web page.",
        )
    return entries


def _read_sha256sums(folder: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    try:
        text = (folder / SHA256SUMS).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return sums
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9a-fA-F]{64})\s+\*?(.+?)\s*$", line)
        if m:
            sums[Path(m.group(2)).name] = m.group(1).lower()
    return sums


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
        raise CatalogError(f"Cannot read the mirror folder {folder}: {exc.strerror or exc}.",
                           fix="Check the mirror folder (--mirror in silent mode): it must hold the Miniconda "
                               "installers and be readable for you.") from None
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
            f"The mirror folder {folder} holds no Miniconda installers.",
            fix="Put the installers there under their published names (for example "
                "Miniconda3-latest-Linux-x86_64.sh, ideally with a SHA256SUMS file), or use one installer as a "
                "local file (--installer-file in silent mode).",
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
        platform: the target OS and architecture.
        name: an exact installer file name; when given it wins over everything else.

    Returns:
        ``name`` if given; else the ``Miniconda3-latest`` installer for ``platform`` (``.sh``
        preferred over ``.pkg`` on macOS); else the newest versioned Miniconda3 one (conda
        version, then Python version, then build; compared with :mod:`packaging.version`).

    Raises:
        CatalogError: ``name`` is not listed, or nothing is listed for ``platform`` (the message
            lists the platforms that are).
    """
    if name:
        for e in entries:
            if e.filename == name:
                return e
        for e in entries:
            if e.filename.lower() == name.lower():
                return e
        raise CatalogError(
            f"The installer {name} is not listed in the index.{_suggestions(entries, platform, name)}",
            fix="Choose an installer the index lists (the name given with --installer in silent mode must "
                "match exactly), or leave the name out to get the latest installer.",
        )
    exts = [x.lstrip(".") for x in EXTENSIONS.get(platform.os, ())]
    mine = [e for e in entries if e.flavor == "Miniconda3" and e.os == platform.os and e.arch == platform.arch
            and (not exts or e.ext in exts)]
    if not mine:
        available = sorted({e.platform_tag for e in entries if e.flavor == "Miniconda3"})
        raise CatalogError(
            f"The index has no Miniconda3 installer for {platform.tag}. "
            f"It has installers for: {', '.join(available) or 'no platform'}.",
            fix="Choose another mirror, or download an installer yourself and use it as a local file "
                "(--installer-file in silent mode).",
        )

    def ext_rank(e: InstallerEntry) -> int:
        return exts.index(e.ext) if e.ext in exts else len(exts)

    latest = [e for e in mine if e.is_latest]
    if latest:
        return min(latest, key=ext_rank)
    return max(mine, key=lambda e: (_version_key(e), -ext_rank(e)))


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
        text += " Closest names: " + ", ".join(close) + "."
    if newest_names:
        text += f" Newest for {platform.tag}: " + ", ".join(newest_names) + "."
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
    reporter.log(Stage.CATALOG, f"The mirror publishes no SHA-256; looking {filename} up in the official index "
                                f"{official_url}.")
    try:
        entries = fetch_index(official_url, session, cancel, timeout=OFFICIAL_LOOKUP_TIMEOUT)
    except CatalogError as exc:
        reporter.log(Stage.CATALOG, f"Could not read the official index: {exc.message}", "warning")
        return None
    for e in entries:
        if e.filename == filename and e.sha256:
            return e.sha256
    reporter.log(Stage.CATALOG, f"The official index has no SHA-256 for {filename}.", "warning")
    return None


def resolve(plan: InstallPlan, session: requests.Session, reporter: Reporter, cancel: CancelToken, *,
            official_url: str | None = None, entries: list[InstallerEntry] | None = None) -> InstallerChoice:
    """Decide the installer and its expected SHA-256 (step 1 of the wizard).

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
        Cancelled: on cancel.
    """
    cancel.raise_if_cancelled()
    user_sha = plan.sha256.strip().lower() if plan.sha256 else None
    if plan.installer_file is not None:
        path = Path(plan.installer_file).expanduser()
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CatalogError(f"Cannot read the installer file {path}: {exc.strerror or exc}.",
                               fix="Check that the local installer file you chose exists and is readable "
                                   "(--installer-file in silent mode).") from exc
        sha, source = (user_sha, "user") if user_sha else (pinned_sha256(path.name), "pinned")
        if not user_sha and (listed := _read_sha256sums(path.parent).get(path.name)):
            sha, source = listed, "sha256sums"  # a staged share (--download-only): verified against it (issue 5)
        if sha is None:
            source = None
        choice = InstallerChoice(path.name, None, path, sha, size, source, None)
        reporter.log(Stage.CATALOG, f"Using the local installer {path}.")
        _report_choice(choice, reporter)
        return choice

    url = plan.mirror_url
    if entries is None:
        reporter.log(Stage.CATALOG, f"Reading the installer index {url}")
        entries = fetch_index(url, session, cancel)
    else:
        reporter.log(Stage.CATALOG, f"Using the installer index {url} read before.")
    reporter.log(Stage.CATALOG, f"The index lists {len(entries)} installers.")
    entry = choose(entries, plan.platform, plan.installer)
    if entry.is_latest and not plan.installer:
        reporter.log(Stage.CATALOG, f"Latest installer for {plan.platform.tag}: {entry.filename}.")

    sha: str | None
    source: str | None
    if user_sha:
        sha, source = user_sha, "user"
        known, where = entry.sha256, "the index publishes"
        if not known and (pinned := pinned_sha256(entry.filename)) is not None:
            known, where = pinned, "the pinned hash table (resources/miniconda_hashes.csv) has"
        if known and known != user_sha:
            raise UsageError(
                f"The SHA-256 given as {setting('sha256')}, {user_sha}, is not the one {where} for "
                f"{entry.filename} ({known}). Nothing was downloaded.",
                fix="Check which installer and hash you meant: copy the SHA-256 published next to this installer, "
                    "choose the installer that hash belongs to (--installer NAME in silent mode), or give no "
                    "expected SHA-256 to use the published one (leave out --sha256).",
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
    choice = InstallerChoice(entry.filename, entry.url, None, sha, entry.size, source, entry)
    _report_choice(choice, reporter)
    return choice


def _report_choice(choice: InstallerChoice, reporter: Reporter) -> None:
    reporter.info(Stage.CATALOG, "installer", choice.filename)
    if choice.url:
        reporter.info(Stage.CATALOG, "url", choice.url)
    if choice.size is not None:
        reporter.info(Stage.CATALOG, "size", choice.size)
    reporter.info(Stage.CATALOG, "sha256", choice.sha256)
    reporter.info(Stage.CATALOG, "hash_source", choice.hash_source)
    if choice.sha256:
        where = {"user": "given by you", "index": "published by the index", "pinned": "from the pinned hash table",
                 "official-index": "published by the official index",
                 "sha256sums": "listed in the SHA256SUMS beside it"}.get(choice.hash_source or "", "")
        reporter.log(Stage.CATALOG, f"Expected SHA-256 ({where}): {choice.sha256}")
    else:
        reporter.log(Stage.CATALOG, f"No SHA-256 is published for {choice.filename}.", "warning")
