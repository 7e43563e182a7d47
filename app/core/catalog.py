"""Step 1: which Miniconda installer to use, and which SHA-256 it must have.

The installer list comes from the mirror's directory page. Three kinds of page are
read, all *by structure* (``html.parser``: a table row or a text line that links an
installer file name), never by matching a whole page layout:

* the official ``https://repo.anaconda.com/miniconda/`` page: an HTML table with
  Filename, Size (``98.4M``), Last Modified (``2023-07-13 13:55:51``) and SHA256
  columns (the column order of the generated conda-docs hash table, which was made
  from that page; see ``tests/data/README.md``);
* nginx ``autoindex`` (a ``<pre>`` with ``<a href>`` lines, date and byte count after
  each link), ngx-fancyindex as used by TUNA and the mirrorz sites (table rows with
  ``td.link``/``td.size``/``td.date``) and Apache ``mod_autoindex`` (table or ``<pre>``).
  These carry no hashes.

Cells are recognised by content: a 64-hex-digit cell is the SHA-256, a date-looking cell
the date, a size-looking cell (``98.4M``, ``76.4 MiB``, ``103197056``) the size; a header
row, when present, only breaks ties. Hashes for mirrors come from (in order) the user,
the index row, the pinned table ``resources/miniconda_hashes.csv`` (conda-docs
``miniconda_hashes.rst`` of 2023-07-13, 777 installers) and, for a mirror, the official
index. ``latest`` names are never looked up in the pinned table: they move.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from packaging.version import InvalidVersion, Version

from app.core import net
from app.core.errors import CatalogError, Stage
from app.core.events import CancelToken, Reporter
from app.core.platform_info import EXTENSIONS, PlatformInfo
from app.core.plan import MIRRORS, InstallPlan

#: File name of the pinned hash table in ``resources/`` (header ``filename,size,last_modified,sha256``).
PINNED_CATALOG = "miniconda_hashes.csv"
#: Where the official index is read when a mirror publishes no hashes (module constant so tests can point it home).
OFFICIAL_INDEX_URL = MIRRORS["official"]
#: (connect, read) seconds for that extra look-up; its failure is only logged.
OFFICIAL_LOOKUP_TIMEOUT = (4.0, 8.0)
#: An index page larger than this is not an installer directory.
MAX_INDEX_BYTES = 16 << 20

_NAME_RE = re.compile(
    r"^(?P<flavor>Miniconda[23]?)-"
    r"(?P<version>latest"
    r"|py(?P<py>\d+)_(?P<conda>\d+(?:\.\d+)*)(?:-(?P<build>\d+))?"
    r"|(?P<plain>\d+(?:\.\d+)*))"
    r"-(?P<os>Linux|MacOSX|Windows)-(?P<arch>[A-Za-z0-9_]+)\.(?P<ext>sh|pkg|exe)$"
)
_SHA_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_SHA_SEARCH = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_SIZE_RE = re.compile(
    r"^(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[KMGTP]i?B?|B|bytes?)?$", re.IGNORECASE
)
_SIZE_SEARCH = re.compile(
    r"(?<!\S)(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[KMGTP]i?B?|B|bytes?)?(?!\S)", re.IGNORECASE
)
_UNITS = {"": 1, "B": 1, "BYTE": 1, "BYTES": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_TIME = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
_ZONE = r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
# Month names are matched by hand, not with strptime("%b"), which follows the process locale
# (Qt sets LC_ALL from the environment, and "Jul" is not a month in every language).
_DATE_PATTERNS = [
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[ T]" + _TIME + _ZONE),      # 2023-07-13 13:55:51
    re.compile(r"(?P<d>\d{1,2})-(?P<b>[A-Za-z]{3})-(?P<y>\d{4}) " + _TIME + _ZONE),     # 13-Jul-2023 13:55
    re.compile(r"(?P<d>\d{1,2}) (?P<b>[A-Za-z]{3}) (?P<y>\d{4}) " + _TIME + _ZONE),     # 18 Apr 2014 12:26:18 +0000
    re.compile(r"(?P<y>\d{4})-(?P<b>[A-Za-z]{3})-(?P<d>\d{1,2}) " + _TIME + _ZONE),     # 2023-Jul-13 13:55
]
_BLOCK_TAGS = {"br", "p", "li", "div", "pre", "hr", "table", "tr", "ul", "ol", "dd", "dt", "h1", "h2", "h3",
               "h4", "h5", "h6", "tbody", "thead", "body"}


# ---- data ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InstallerEntry:
    """One installer listed by an index page.

    Attributes:
        filename: ``Miniconda3-py311_23.5.2-0-Linux-x86_64.sh``.
        url: absolute download URL.
        size: bytes as the page states it (exact for byte counts, rounded for ``98.4M``), or ``None``.
        last_modified: ``"2023-07-13 13:55:51"`` (seconds when the page gives them; server time, zone
            unknown except for fancyindex which prints UTC), or the page's text if not understood.
        sha256: lowercase hex when the page publishes it.
        flavor: ``Miniconda3``; old names give ``Miniconda2`` (Python 2) or ``Miniconda``.
        version: ``latest``, ``py311_23.5.2-0``, ``py39_4.9.2`` or ``4.7.12.1``.
        python_tag: ``py311`` or ``None``; conda_version: ``23.5.2`` or ``None`` for ``latest``;
        build: ``0`` or ``None``.
        os, arch, ext: ``Linux``/``MacOSX``/``Windows``, the installer's architecture spelling, ``sh``/``pkg``/``exe``.
    """

    filename: str
    url: str
    size: int | None
    last_modified: str | None
    sha256: str | None
    flavor: str
    version: str
    python_tag: str | None
    conda_version: str | None
    build: str | None
    os: str
    arch: str
    ext: str

    @property
    def platform_tag(self) -> str:
        return f"{self.os}-{self.arch}"

    @property
    def is_latest(self) -> bool:
        return self.version == "latest"


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
            (repo.anaconda.com, for a mirror without hashes) or ``None``.
        entry: the index row, when it came from an index.
    """

    filename: str
    url: str | None
    local_path: Path | None
    sha256: str | None
    size: int | None
    hash_source: str | None
    entry: InstallerEntry | None = None


def parse_installer_name(name: str) -> dict[str, str | None] | None:
    """Split an installer file name into its parts, or ``None`` if it is not one.

    Accepts ``<Miniconda3|Miniconda2|Miniconda>-<latest|pyXY_VER-BUILD|pyXY_VER|VER>-<Linux|MacOSX|Windows>-<arch>.<sh|pkg|exe>``
    (every name in the 2013-2023 conda-docs hash table parses).

    Returns:
        ``{"flavor", "version", "python_tag", "conda_version", "build", "os", "arch", "ext"}``.
    """
    m = _NAME_RE.match(name.strip())
    if not m:
        return None
    if m["py"]:
        python_tag, conda_version = f"py{m['py']}", m["conda"]
    else:
        python_tag, conda_version = None, m["plain"]
    return {
        "flavor": m["flavor"],
        "version": m["version"],
        "python_tag": python_tag,
        "conda_version": conda_version,
        "build": m["build"],
        "os": m["os"],
        "arch": m["arch"],
        "ext": m["ext"],
    }


def parse_size(text: str) -> int | None:
    """``"98.4M"``, ``"76.4 MiB"``, ``"1.2K"``, ``"103197056"``, ``"103,197,056"`` -> bytes; else ``None``.

    K/M/G with or without ``i``/``B`` are binary (1024-based), as autoindex pages and the official
    page print them (98.4M there is 103,197,056 bytes).
    """
    m = _SIZE_RE.match(text.strip().replace("\xa0", " "))
    return _size_from_match(m) if m else None


def _size_from_match(m: re.Match[str]) -> int | None:
    num = m["num"].replace(",", "")
    unit = (m["unit"] or "").upper()
    key = unit if unit in _UNITS else unit[:1]
    if key not in _UNITS:
        return None
    value = float(num) * _UNITS[key]
    return int(round(value))


def parse_date(text: str) -> str | None:
    """A listing date in any of the known layouts -> ``"YYYY-MM-DD HH:MM[:SS]"``; else ``None``."""
    t = " ".join(text.replace("\xa0", " ").split())
    for pat in _DATE_PATTERNS:
        m = pat.fullmatch(t)
        if m:
            return _format_date(m)
    return None


def _format_date(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    month = int(g["m"]) if g.get("m") else _MONTHS.get((g.get("b") or "").lower())
    if not month or not 1 <= month <= 12:
        return None
    out = f"{int(g['y']):04d}-{month:02d}-{int(g['d']):02d} {int(g['H']):02d}:{g['M']}"
    return out + (f":{g['S']}" if g.get("S") else "")


# ---- HTML structure ------------------------------------------------------------------------

@dataclass
class _Cell:
    col: int
    span: int
    header: bool
    parts: list[str]
    links: list[tuple[str, str]]

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).replace("\xa0", " ").split())


@dataclass
class _Line:
    href: str
    link_text: str
    tail: list[str]


class _IndexParser(HTMLParser):
    """Collects table rows (cells with their text and links) and loose ``<a>`` lines (link + text after it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[int, list[_Cell]]] = []  # (table number, cells)
        self.lines: list[_Line] = []
        self._table = 0
        self._tr: list[_Cell] | None = None
        self._cell: _Cell | None = None
        self._next_col = 0
        self._a_href: str | None = None
        self._a_text: list[str] = []
        self._line: _Line | None = None
        self._skip = 0  # inside <script>/<style>

    # -- helpers
    def _end_line(self) -> None:
        if self._line is not None:
            self.lines.append(self._line)
            self._line = None

    def _end_cell(self) -> None:
        if self._cell is not None and self._tr is not None:
            self._tr.append(self._cell)
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._tr:
            self.rows.append((self._table, self._tr))
        self._tr = None

    # -- HTMLParser hooks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
            return
        if tag == "table":
            self._end_row()
            self._end_line()
            self._table += 1
        elif tag == "tr":
            self._end_row()
            self._end_line()
            self._tr = []
            self._next_col = 0
        elif tag in ("td", "th"):
            self._end_line()
            if self._tr is None:  # a cell without <tr>: tolerate
                self._tr = []
                self._next_col = 0
            self._end_cell()
            span = 1
            for k, v in attrs:
                if k == "colspan" and v and v.strip().isdigit():
                    span = max(1, int(v.strip()))
            self._cell = _Cell(self._next_col, span, tag == "th", [], [])
            self._next_col += span
        elif tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), None)
            if self._cell is None:
                self._end_line()
            self._a_href = href.strip() if href else None
            self._a_text = []
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._end_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
            return
        if tag == "a":
            if self._a_href is not None:
                text = "".join(self._a_text).strip()
                if self._cell is not None:
                    self._cell.links.append((self._a_href, text))
                else:
                    self._line = _Line(self._a_href, text, [])
            self._a_href = None
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table", "tbody", "thead", "tfoot"):
            self._end_row()
        elif tag in _BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._a_href is not None:
            self._a_text.append(data)
        if self._cell is not None:
            self._cell.parts.append(data)
        elif self._line is not None and self._a_href is None:
            head, newline, _ = data.partition("\n")
            self._line.tail.append(head)
            if newline:
                self._end_line()

    def close(self) -> None:
        super().close()
        self._end_row()
        self._end_line()


def _header_role(text: str) -> str | None:
    t = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
    if not t:
        return None
    compact = t.replace(" ", "")
    if "sha256" in compact:
        return "sha256"
    if any(k in compact for k in ("md5", "sha1", "sha512", "sha384", "sha224", "blake", "checksum", "hash")):
        return "other"
    if "size" in t or t in ("bytes", "length"):
        return "size"
    if any(k in t for k in ("modified", "date", "time", "mtime", "updated")):
        return "date"
    if "name" in t or t in ("file", "installer", "link"):
        return "name"
    if any(k in t for k in ("description", "type", "comment")):
        return "other"
    return None


def _installer_link(base_url: str, href: str, text: str) -> tuple[str, str] | None:
    """``(filename, absolute url)`` if the link points at (or is labelled with) an installer name."""
    if href.startswith(("#", "?", "javascript:", "mailto:")):
        return None
    url = urljoin(base_url, href)
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if parse_installer_name(name):
        return name, url
    label = text.strip()
    if parse_installer_name(label) and not urlsplit(url).path.endswith("/"):
        return label, url
    return None


def _pick_fields(values: list[tuple[str | None, str]]) -> tuple[int | None, str | None, str | None]:
    """From ``(header role, cell text)`` pairs pick size, date and SHA-256 by content."""
    sha = date = None
    size_candidates: list[tuple[bool, int]] = []
    for role, text in values:
        if not text:
            continue
        if sha is None and role != "other" and _SHA_RE.match(text):
            sha = text.lower()
            continue
        if role in ("other", "sha256", "name"):
            continue
        if date is None:
            d = parse_date(text)
            if d is not None:
                date = d
                continue
        s = parse_size(text)
        if s is not None and role in (None, "size"):
            size_candidates.append((role == "size", s))
    size = None
    if size_candidates:
        size = sorted(size_candidates, key=lambda c: not c[0])[0][1]
    return size, date, sha


def _fields_from_text(text: str) -> tuple[int | None, str | None, str | None]:
    """Size, date and SHA-256 from the text after a link on a ``<pre>`` line."""
    t = " ".join(text.replace("\xa0", " ").split())
    sha = None
    m = _SHA_SEARCH.search(t)
    if m:
        sha = m.group(0).lower()
        t = t[: m.start()] + " " + t[m.end():]
    date = None
    for pat in _DATE_PATTERNS:
        m = pat.search(t)
        if m:
            date = _format_date(m)
            t = t[: m.start()] + " " + t[m.end():]
            break
    size = None
    for m in _SIZE_SEARCH.finditer(t):
        size = _size_from_match(m)
        if size is not None:
            break
    return size, date, sha


def _make_entry(name: str, url: str, size: int | None, date: str | None, sha: str | None) -> InstallerEntry:
    parts = parse_installer_name(name)
    assert parts is not None
    return InstallerEntry(filename=name, url=url, size=size, last_modified=date, sha256=sha, **parts)  # type: ignore[arg-type]


def parse_index(html: str, base_url: str) -> list[InstallerEntry]:
    """Every installer an index page links, in page order (a name listed twice is merged).

    Args:
        html: the page text.
        base_url: the page's URL (after redirects); relative, absolute and %-encoded links resolve against it.

    Returns:
        :class:`InstallerEntry` list; empty when the page links no installer.
    """
    parser = _IndexParser()
    parser.feed(html)
    parser.close()

    found: dict[str, InstallerEntry] = {}

    def add(entry: InstallerEntry) -> None:
        old = found.get(entry.filename)
        if old is None:
            found[entry.filename] = entry
            return
        found[entry.filename] = InstallerEntry(
            filename=old.filename, url=old.url,
            size=old.size if old.size is not None else entry.size,
            last_modified=old.last_modified or entry.last_modified,
            sha256=old.sha256 or entry.sha256,
            flavor=old.flavor, version=old.version, python_tag=old.python_tag,
            conda_version=old.conda_version, build=old.build, os=old.os, arch=old.arch, ext=old.ext,
        )

    headers: dict[int, dict[int, str]] = {}
    for table, cells in parser.rows:
        link_cell = None
        link = None
        for cell in cells:
            for href, text in cell.links:
                link = _installer_link(base_url, href, text)
                if link:
                    link_cell = cell
                    break
            if link:
                break
        if link is None:
            roles = {c.col: r for c in cells if (r := _header_role(c.text))}
            if len(roles) >= 2 or (cells and all(c.header for c in cells) and roles):
                headers[table] = roles
            continue
        roles = headers.get(table, {})
        values = [(roles.get(c.col), c.text) for c in cells if c is not link_cell]
        size, date, sha = _pick_fields(values)
        add(_make_entry(link[0], link[1], size, date, sha))

    for line in parser.lines:
        link = _installer_link(base_url, line.href, line.link_text)
        if link is None:
            continue
        size, date, sha = _fields_from_text("".join(line.tail))
        add(_make_entry(link[0], link[1], size, date, sha))
    return list(found.values())


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
    return CatalogError(
        f"Could not read the installer index at {url}: {net.describe_error(exc)}.",
        fix="Check the network connection. Behind a proxy, set HTTPS_PROXY and HTTP_PROXY "
            "(for example http://127.0.0.1:7890) before starting the wizard. Or choose another mirror "
            f"with --mirror ({', '.join(MIRRORS)}, or the URL of a Miniconda directory).",
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

    Raises:
        CatalogError: unreachable (names --mirror and the proxy variables), HTTP 404 or another
            error status, or a page that lists no installer.
        Cancelled: on cancel.
    """
    try:
        resp = net.get(session, url, cancel, timeout=timeout, headers={"Accept": "text/html,*/*;q=0.8"})
    except requests.RequestException as exc:
        raise _unreachable(url, exc) from exc
    with resp:
        if resp.status_code == 404:
            raise CatalogError(
                f"The installer index {url} does not exist (HTTP 404).",
                fix="Check the --mirror URL: it must be the directory that lists the Miniconda installers "
                    "(for example https://mirrors.tuna.tsinghua.edu.cn/anaconda/miniconda/).",
            )
        if resp.status_code >= 400:
            raise CatalogError(
                f"The installer index {url} answered HTTP {resp.status_code} {resp.reason or ''}".rstrip() + ".",
                fix="The mirror may be down or rate-limiting: try again later, or choose another mirror with --mirror.",
            )
        body = bytearray()
        try:
            for chunk in net.iter_body(resp, cancel, 256 << 10):
                body += chunk
                if len(body) > MAX_INDEX_BYTES:
                    raise CatalogError(
                        f"The page at {url} is larger than {MAX_INDEX_BYTES >> 20} MiB; it is not an installer index.",
                        fix="Check the --mirror URL: it must be the directory that lists the Miniconda installers.",
                    )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unreachable(url, exc) from exc
        base = resp.url or url
        text = bytes(body).decode(_charset(resp), errors="replace")
    entries = parse_index(text, base)
    if not entries:
        raise CatalogError(
            f"The page at {url} lists no Miniconda installers.",
            fix="Check the --mirror URL: it must be the directory that lists the Miniconda installers "
                "(for example https://repo.anaconda.com/miniconda/), not a conda channel or a web page.",
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
        same = sorted(e.filename for e in entries if e.os == platform.os and e.arch == platform.arch)
        hint = (" Installers for " + platform.tag + " there include: " + ", ".join(same[:6])
                + (" ..." if len(same) > 6 else "") + ".") if same else ""
        raise CatalogError(
            f"The installer {name} is not listed in the index.{hint}",
            fix="Check the spelling of --installer, or leave it out to get the latest installer.",
        )
    exts = [x.lstrip(".") for x in EXTENSIONS.get(platform.os, ())]
    mine = [e for e in entries if e.flavor == "Miniconda3" and e.os == platform.os and e.arch == platform.arch
            and (not exts or e.ext in exts)]
    if not mine:
        available = sorted({e.platform_tag for e in entries if e.flavor == "Miniconda3"})
        raise CatalogError(
            f"The index has no Miniconda3 installer for {platform.tag}. "
            f"It has installers for: {', '.join(available) or 'no platform'}.",
            fix="Choose another mirror with --mirror, or download an installer yourself and pass it "
                "with --installer-file.",
        )

    def ext_rank(e: InstallerEntry) -> int:
        return exts.index(e.ext) if e.ext in exts else len(exts)

    latest = [e for e in mine if e.is_latest]
    if latest:
        return min(latest, key=ext_rank)
    return max(mine, key=lambda e: (_version_key(e), -ext_rank(e)))


# ---- pinned hashes -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _pinned_table(path: str) -> dict[str, str]:
    table: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("filename") or "").strip()
            sha = (row.get("sha256") or "").strip().lower()
            if name and _SHA_RE.match(sha):
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
            official_url: str | None = None) -> InstallerChoice:
    """Decide the installer and its expected SHA-256 (step 1 of the wizard).

    Local file (``plan.installer_file``): used in place; hash from ``plan.sha256``, else the pinned table.
    Otherwise the index at ``plan.mirror_url`` is read and :func:`choose` picks the installer;
    the hash comes from, in order: ``plan.sha256`` (a warning is logged when the index disagrees),
    the index row, the pinned table, and for a mirror other than the official one the official
    index (read with a short timeout; failure is only logged). No source gives ``sha256=None``;
    :mod:`app.core.download` then refuses unless ``plan.allow_unverified``.

    Args:
        official_url: the official index for the last look-up (default :data:`OFFICIAL_INDEX_URL`;
            tests pass a local server).

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
                               fix="Check the path given with --installer-file.") from exc
        sha, source = (user_sha, "user") if user_sha else (pinned_sha256(path.name), "pinned")
        if sha is None:
            source = None
        choice = InstallerChoice(path.name, None, path, sha, size, source, None)
        reporter.log(Stage.CATALOG, f"Using the local installer {path}.")
        _report_choice(choice, reporter)
        return choice

    url = plan.mirror_url
    reporter.log(Stage.CATALOG, f"Reading the installer index {url}")
    entries = fetch_index(url, session, cancel)
    reporter.log(Stage.CATALOG, f"The index lists {len(entries)} installers.")
    entry = choose(entries, plan.platform, plan.installer)
    if entry.is_latest and not plan.installer:
        reporter.log(Stage.CATALOG, f"Latest installer for {plan.platform.tag}: {entry.filename}.")

    sha: str | None
    source: str | None
    if user_sha:
        sha, source = user_sha, "user"
        if entry.sha256 and entry.sha256 != user_sha:
            reporter.log(Stage.CATALOG,
                         f"The SHA-256 you gave ({user_sha}) differs from the one the index publishes for "
                         f"{entry.filename} ({entry.sha256}); yours will be checked.", "warning")
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
                 "official-index": "published by the official index"}.get(choice.hash_source or "", "")
        reporter.log(Stage.CATALOG, f"Expected SHA-256 ({where}): {choice.sha256}")
    else:
        reporter.log(Stage.CATALOG, f"No SHA-256 is published for {choice.filename}.", "warning")
